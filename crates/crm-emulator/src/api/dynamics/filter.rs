//! The strict `$filter` subset the connector sends: `modifiedon gt|eq
//! <datetime>`, `contactid gt|eq <guid>`, `<text column> eq '<v>'`,
//! `startswith(col,'v')`, `contains(col,'v')`, joined by `and` / `or` with
//! parentheses; string literals with `''` escaping. Anything else is a
//! syntax error (400). Text comparisons ignore case, as Dataverse's
//! default collation does.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::DvError;
use super::model::{self, Contact, Kind};

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    ModifiedGt(DateTime<Utc>),
    ModifiedEq(DateTime<Utc>),
    IdGt(String),
    IdEq(String),
    TextEq(&'static str, String),
    StartsWith(&'static str, String),
    Contains(&'static str, String),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Str(String),
    Word(String),
}

fn lex(s: &str) -> Result<Vec<Tok>, DvError> {
    let mut out = Vec::new();
    let cs: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        match c {
            ' ' | '\t' => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '\'' => {
                let mut v = String::new();
                i += 1;
                loop {
                    match cs.get(i) {
                        None => return Err(DvError::syntax("unterminated string literal")),
                        Some('\'') if cs.get(i + 1) == Some(&'\'') => {
                            v.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(&ch) => {
                            v.push(ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(v));
            }
            c if c.is_ascii_alphanumeric() || "_-:.+".contains(c) => {
                let start = i;
                while i < cs.len() && (cs[i].is_ascii_alphanumeric() || "_-:.+".contains(cs[i])) {
                    i += 1;
                }
                out.push(Tok::Word(cs[start..i].iter().collect()));
            }
            other => return Err(DvError::syntax(format!("unexpected character '{other}'"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), DvError> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            _ => Err(DvError::syntax(format!("expected {what}"))),
        }
    }

    fn keyword(&self, w: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(x)) if x == w)
    }

    fn or(&mut self) -> Result<Filter, DvError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, DvError> {
        let mut left = self.atom()?;
        while self.keyword("and") {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Filter, DvError> {
        match self.next() {
            Some(Tok::Open) => {
                let f = self.or()?;
                self.expect(Tok::Close, "')'")?;
                Ok(f)
            }
            Some(Tok::Word(w))
                if (w == "startswith" || w == "contains") && self.peek() == Some(&Tok::Open) =>
            {
                self.pos += 1;
                let col = self.text_column()?;
                self.expect(Tok::Comma, "','")?;
                let Some(Tok::Str(v)) = self.next() else {
                    return Err(DvError::syntax(format!("{w} takes a string literal")));
                };
                self.expect(Tok::Close, "')'")?;
                Ok(if w == "startswith" {
                    Filter::StartsWith(col, v)
                } else {
                    Filter::Contains(col, v)
                })
            }
            Some(Tok::Word(col)) => {
                let op = match self.next() {
                    Some(Tok::Word(op)) if op == "eq" || op == "gt" => op,
                    _ => {
                        return Err(DvError::syntax(format!(
                            "after '{col}' only eq or gt is supported"
                        )))
                    }
                };
                let value = self.next();
                match (col.as_str(), value) {
                    ("modifiedon", Some(Tok::Word(v))) => {
                        let at = DateTime::parse_from_rfc3339(&v)
                            .map_err(|_| {
                                DvError::syntax(format!("'{v}' is not an ISO 8601 datetime"))
                            })?
                            .with_timezone(&Utc);
                        Ok(if op == "gt" {
                            Filter::ModifiedGt(at)
                        } else {
                            Filter::ModifiedEq(at)
                        })
                    }
                    ("contactid", Some(Tok::Word(v))) => {
                        let id = model::parse_guid(&v)
                            .ok_or_else(|| DvError::syntax(format!("'{v}' is not a GUID")))?;
                        Ok(if op == "gt" {
                            Filter::IdGt(id)
                        } else {
                            Filter::IdEq(id)
                        })
                    }
                    (_, Some(Tok::Str(v))) if op == "eq" => {
                        let c = text_col(&col)?;
                        Ok(Filter::TextEq(c, v))
                    }
                    _ => Err(DvError::syntax(format!(
                        "unsupported comparison on '{col}'"
                    ))),
                }
            }
            _ => Err(DvError::syntax("expected a comparison")),
        }
    }

    fn text_column(&mut self) -> Result<&'static str, DvError> {
        match self.next() {
            Some(Tok::Word(w)) => text_col(&w),
            _ => Err(DvError::syntax("expected a column name")),
        }
    }
}

fn text_col(name: &str) -> Result<&'static str, DvError> {
    match model::column(name) {
        Some(c) if c.kind == Kind::String => Ok(c.name),
        Some(_) => Err(DvError::syntax(format!("'{name}' is not a text column"))),
        None => Err(DvError::unknown_property(name)),
    }
}

pub fn parse(s: &str) -> Result<Filter, DvError> {
    let mut p = Parser {
        toks: lex(s)?,
        pos: 0,
    };
    let f = p.or()?;
    if p.pos != p.toks.len() {
        return Err(DvError::syntax("unexpected text after the expression"));
    }
    Ok(f)
}

fn text(c: &Contact, col: &str) -> String {
    match c.values.get(col) {
        Some(Value::String(s)) => s.to_lowercase(),
        _ => String::new(),
    }
}

impl Filter {
    pub fn matches(&self, c: &Contact) -> bool {
        match self {
            Filter::And(a, b) => a.matches(c) && b.matches(c),
            Filter::Or(a, b) => a.matches(c) || b.matches(c),
            Filter::ModifiedGt(t) => c.modified > *t,
            Filter::ModifiedEq(t) => c.modified == *t,
            Filter::IdGt(id) => c.id.as_str() > id.as_str(),
            Filter::IdEq(id) => c.id == *id,
            Filter::TextEq(col, v) => {
                c.values.contains_key(*col) && text(c, col) == v.to_lowercase()
            }
            Filter::StartsWith(col, v) => {
                c.values.contains_key(*col) && text(c, col).starts_with(&v.to_lowercase())
            }
            Filter::Contains(col, v) => {
                c.values.contains_key(*col) && text(c, col).contains(&v.to_lowercase())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_subset_and_refuses_the_rest() {
        let f = parse("modifiedon gt 2024-01-02T03:04:05Z or (modifiedon eq 2024-01-02T03:04:05Z and contactid gt 00000000-0000-0000-0000-000000000001)").unwrap();
        assert!(matches!(f, Filter::Or(..)));
        assert_eq!(
            parse("lastname eq 'O''Brien'").unwrap(),
            Filter::TextEq("lastname", "O'Brien".into())
        );
        assert!(parse("startswith(emailaddress1,'ann')").is_ok());
        assert!(parse("contains(company,'Shop')").is_ok());
        for bad in [
            "modifiedon ge 2024-01-01T00:00:00Z",
            "lastname ne 'x'",
            "lastname eq 'x' and",
            "nosuch eq 'x'",
            "endswith(lastname,'x')",
            "modifiedon gt yesterday",
            "lastname eq 'x') ",
            "lastname eq 'x",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
