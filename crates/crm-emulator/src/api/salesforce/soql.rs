//! A strict parser and evaluator of the SOQL subset the emulator serves:
//!
//! ```text
//! SELECT f1, f2, ... FROM Object [WHERE cond] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST], ...] [LIMIT n]
//! cond    := term (AND term)* | term (OR term)*      -- mixing needs parentheses, as in SOQL
//! term    := NOT term | '(' cond ')' | field op literal | field [NOT] LIKE 'pattern'
//!          | field [NOT] IN (literal, ...)
//! op      := = | != | <> | < | > | <= | >=
//! literal := 'string' | number | true | false | null | 2026-12-01T08:15:30Z
//!          | 2026-12-01T08:15:30.000+0000 | TODAY | LAST_N_DAYS:n
//! ```
//!
//! Strings take SOQL's escapes (`\'` `\"` `\\` `\n` `\r` `\t` `\b` `\f`,
//! and `\%` `\_` for a literal `%`/`_` in LIKE). Keywords, object and field
//! names are case-insensitive; `=`, `!=`, `IN` and `LIKE` on text compare
//! case-insensitively (ids compare exactly). Anything else is
//! `MALFORMED_QUERY`; an unknown field is `INVALID_FIELD`, an unknown object
//! `INVALID_TYPE`, a literal of the wrong type for its field `INVALID_FIELD`.

use std::cmp::Ordering;

use chrono::{DateTime, Duration, Utc};

use super::error::SfError;
use super::model::{parse_datetime, FieldDef, FieldValue, ObjectDef, SObject, SfRecord};

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// Decoded text, and the LIKE pattern (wildcards as `\0%`/`\0_`).
    Str(String, Vec<Pat>),
    Num(String),
    Time(DateTime<Utc>),
    Comma,
    LParen,
    RParen,
    Colon,
    Op(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pat {
    Any,
    One,
    Char(char),
}

fn unexpected(t: &str) -> SfError {
    SfError::malformed(format!("unexpected token: '{t}'"))
}

fn tokenize(q: &str) -> Result<Vec<Tok>, SfError> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ':' => {
                out.push(Tok::Colon);
                i += 1;
            }
            '=' => {
                out.push(Tok::Op("="));
                i += 1;
            }
            '!' if chars.get(i + 1) == Some(&'=') => {
                out.push(Tok::Op("!="));
                i += 2;
            }
            '<' | '>' => {
                let next = chars.get(i + 1).copied();
                let op = match (c, next) {
                    ('<', Some('=')) => "<=",
                    ('>', Some('=')) => ">=",
                    ('<', Some('>')) => "!=",
                    ('<', _) => "<",
                    _ => ">",
                };
                i += if op.len() == 2 { 2 } else { 1 };
                out.push(Tok::Op(op));
            }
            '\'' => {
                let (tok, next) = string(&chars, i + 1)?;
                out.push(tok);
                i = next;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                out.push(Tok::Ident(chars[start..i].iter().collect()));
            }
            c if c.is_ascii_digit()
                || ((c == '-' || c == '+')
                    && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || "-+:.".contains(chars[i]))
                {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                if text.contains('T') {
                    let t = parse_datetime(&text).ok_or_else(|| {
                        SfError::malformed(format!(
                            "line 1:{start} no viable alternative at character '{text}'"
                        ))
                    })?;
                    out.push(Tok::Time(t));
                } else if text.parse::<f64>().is_ok() {
                    out.push(Tok::Num(text));
                } else {
                    return Err(unexpected(&text));
                }
            }
            other => return Err(unexpected(&other.to_string())),
        }
    }
    Ok(out)
}

/// A quoted string from `i` (after the opening quote).
fn string(chars: &[char], mut i: usize) -> Result<(Tok, usize), SfError> {
    let mut text = String::new();
    let mut pat = Vec::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Err(SfError::malformed("unterminated string literal"));
        };
        i += 1;
        match c {
            '\'' => return Ok((Tok::Str(text, pat), i)),
            '\\' => {
                let Some(&e) = chars.get(i) else {
                    return Err(SfError::malformed("unterminated string literal"));
                };
                i += 1;
                let d = match e {
                    '\'' => '\'',
                    '"' => '"',
                    '\\' => '\\',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    '%' => '%',
                    '_' => '_',
                    other => {
                        return Err(SfError::malformed(format!(
                            "Invalid string literal: Illegal character sequence '\\{other}' in string literal."
                        )))
                    }
                };
                text.push(d);
                pat.push(Pat::Char(d));
            }
            '%' => {
                text.push('%');
                pat.push(Pat::Any);
            }
            '_' => {
                text.push('_');
                pat.push(Pat::One);
            }
            c => {
                text.push(c);
                pat.push(Pat::Char(c));
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Time(DateTime<Utc>),
    /// `[start, end)`: TODAY, LAST_N_DAYS:n.
    Range(DateTime<Utc>, DateTime<Utc>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Cmp {
        field: String,
        op: &'static str,
        lit: Lit,
    },
    Like {
        field: String,
        pattern: Vec<Pat>,
    },
    In {
        field: String,
        lits: Vec<Lit>,
        negated: bool,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub field: String,
    pub asc: bool,
    pub nulls_first: bool,
}

/// A parsed query; field names are canonical once bound.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub fields: Vec<String>,
    pub object: String,
    pub filter: Option<Expr>,
    pub order: Vec<OrderBy>,
    pub limit: Option<usize>,
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    now: DateTime<Utc>,
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(s) | Tok::Num(s) => s.clone(),
        Tok::Str(s, _) => format!("'{s}'"),
        Tok::Time(t) => t.to_rfc3339(),
        Tok::Comma => ",".into(),
        Tok::LParen => "(".into(),
        Tok::RParen => ")".into(),
        Tok::Colon => ":".into(),
        Tok::Op(o) => (*o).into(),
    }
}

const KEYWORDS: [&str; 18] = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "LIKE", "IN", "ORDER", "BY", "ASC", "DESC",
    "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "GROUP",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Result<Tok, SfError> {
        let t = self
            .toks
            .get(self.pos)
            .cloned()
            .ok_or_else(|| SfError::malformed("unexpected end of query"))?;
        self.pos += 1;
        Ok(t)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), SfError> {
        if self.eat_kw(kw) {
            return Ok(());
        }
        match self.peek() {
            Some(t) => Err(unexpected(&show(t))),
            None => Err(SfError::malformed(format!(
                "expecting {kw}, found end of query"
            ))),
        }
    }

    fn ident(&mut self) -> Result<String, SfError> {
        match self.next()? {
            Tok::Ident(s) if !KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(&s)) => Ok(s),
            t => Err(unexpected(&show(&t))),
        }
    }

    fn query(&mut self) -> Result<Query, SfError> {
        self.expect_kw("SELECT")?;
        let mut fields = vec![self.ident()?];
        while self.peek() == Some(&Tok::Comma) {
            self.pos += 1;
            fields.push(self.ident()?);
        }
        self.expect_kw("FROM")?;
        let object = self.ident()?;
        let filter = if self.eat_kw("WHERE") {
            Some(self.expr()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.eat_kw("ORDER") {
            self.expect_kw("BY")?;
            loop {
                let field = self.ident()?;
                let asc = !self.eat_kw("DESC");
                if asc {
                    self.eat_kw("ASC");
                }
                let mut nulls_first = asc;
                if self.eat_kw("NULLS") {
                    if self.eat_kw("FIRST") {
                        nulls_first = true;
                    } else {
                        self.expect_kw("LAST")?;
                        nulls_first = false;
                    }
                }
                order.push(OrderBy {
                    field,
                    asc,
                    nulls_first,
                });
                if self.peek() != Some(&Tok::Comma) {
                    break;
                }
                self.pos += 1;
            }
        }
        let limit = if self.eat_kw("LIMIT") {
            match self.next()? {
                Tok::Num(n) => Some(n.parse::<usize>().map_err(|_| unexpected(&n))?),
                t => return Err(unexpected(&show(&t))),
            }
        } else {
            None
        };
        if let Some(t) = self.peek() {
            return Err(unexpected(&show(t)));
        }
        Ok(Query {
            fields,
            object,
            filter,
            order,
            limit,
        })
    }

    fn expr(&mut self) -> Result<Expr, SfError> {
        let mut items = vec![self.term()?];
        let mut conn: Option<&'static str> = None;
        loop {
            let k = if self.is_kw("AND") {
                "AND"
            } else if self.is_kw("OR") {
                "OR"
            } else {
                break;
            };
            if conn.is_some_and(|c| c != k) {
                return Err(unexpected(k));
            }
            conn = Some(k);
            self.pos += 1;
            items.push(self.term()?);
        }
        Ok(match conn {
            None => items.pop().expect("one term"),
            Some("AND") => Expr::And(items),
            Some(_) => Expr::Or(items),
        })
    }

    fn term(&mut self) -> Result<Expr, SfError> {
        if self.eat_kw("NOT") {
            return Ok(Expr::Not(Box::new(self.term()?)));
        }
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.expr()?;
            match self.next()? {
                Tok::RParen => return Ok(e),
                t => return Err(unexpected(&show(&t))),
            }
        }
        let field = self.ident()?;
        let negated = self.eat_kw("NOT");
        if self.eat_kw("LIKE") {
            let pattern = match self.next()? {
                Tok::Str(_, p) => p,
                t => return Err(unexpected(&show(&t))),
            };
            let e = Expr::Like { field, pattern };
            return Ok(if negated { Expr::Not(Box::new(e)) } else { e });
        }
        if self.eat_kw("IN") {
            if self.next()? != Tok::LParen {
                return Err(SfError::malformed("expecting a left parentheses after IN"));
            }
            let mut lits = vec![self.literal()?];
            loop {
                match self.next()? {
                    Tok::Comma => lits.push(self.literal()?),
                    Tok::RParen => break,
                    t => return Err(unexpected(&show(&t))),
                }
            }
            return Ok(Expr::In {
                field,
                lits,
                negated,
            });
        }
        if negated {
            return Err(unexpected("NOT"));
        }
        let op = match self.next()? {
            Tok::Op(o) => o,
            t => return Err(unexpected(&show(&t))),
        };
        let lit = self.literal()?;
        Ok(Expr::Cmp { field, op, lit })
    }

    fn literal(&mut self) -> Result<Lit, SfError> {
        Ok(match self.next()? {
            Tok::Str(s, _) => Lit::Str(s),
            Tok::Num(n) => Lit::Num(n.parse().map_err(|_| unexpected(&n))?),
            Tok::Time(t) => Lit::Time(t),
            Tok::Ident(s) => {
                let midnight = self
                    .now
                    .date_naive()
                    .and_hms_opt(0, 0, 0)
                    .expect("midnight")
                    .and_utc();
                match s.to_ascii_uppercase().as_str() {
                    "TRUE" => Lit::Bool(true),
                    "FALSE" => Lit::Bool(false),
                    "NULL" => Lit::Null,
                    "TODAY" => Lit::Range(midnight, midnight + Duration::days(1)),
                    "LAST_N_DAYS" => {
                        if self.next()? != Tok::Colon {
                            return Err(SfError::malformed("expecting ':' after LAST_N_DAYS"));
                        }
                        let n = match self.next()? {
                            Tok::Num(n) => n.parse::<i64>().map_err(|_| unexpected(&n))?,
                            t => return Err(unexpected(&show(&t))),
                        };
                        Lit::Range(midnight - Duration::days(n), midnight + Duration::days(1))
                    }
                    _ => return Err(unexpected(&s)),
                }
            }
            t => return Err(unexpected(&show(&t))),
        })
    }
}

/// Parses a query without looking at any object's fields.
pub fn parse(q: &str, now: DateTime<Utc>) -> Result<Query, SfError> {
    let toks = tokenize(q)?;
    Parser { toks, pos: 0, now }.query()
}

fn invalid_field(name: &str, object: SObject) -> SfError {
    SfError::bad_request(
        "INVALID_FIELD",
        format!(
            "No such column '{name}' on entity '{}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.",
            object.name()
        ),
    )
}

fn canonical<'a>(
    def: &'a ObjectDef,
    name: &mut String,
    o: SObject,
) -> Result<&'a FieldDef, SfError> {
    let f = def.field(name).ok_or_else(|| invalid_field(name, o))?;
    name.clone_from(&f.name);
    Ok(f)
}

fn type_check(f: &FieldDef, op: &str, lit: &Lit) -> Result<(), SfError> {
    let wrong = |want: &str, quotes: &str| {
        Err(SfError::bad_request(
            "INVALID_FIELD",
            format!(
                "value of filter criterion for field '{}' must be of type {want} and {quotes} be enclosed in quotes",
                f.name
            ),
        ))
    };
    if !f.filterable() {
        return Err(SfError::bad_request(
            "INVALID_FIELD",
            format!("field '{}' can not be filtered in a query call", f.name),
        ));
    }
    let ordered = !matches!(op, "=" | "!=");
    match (f.kind.as_str(), lit) {
        (_, Lit::Null) if !ordered => Ok(()),
        (_, Lit::Null) => Err(SfError::malformed(format!(
            "invalid operator on null for field '{}'",
            f.name
        ))),
        ("datetime", Lit::Time(_) | Lit::Range(..)) => Ok(()),
        ("datetime", _) => wrong("dateTime", "should not"),
        ("boolean", Lit::Bool(_)) if !ordered => Ok(()),
        ("boolean", _) => wrong("boolean", "should not"),
        (_, Lit::Str(_)) => Ok(()),
        _ => wrong("string", "should"),
    }
}

impl Query {
    /// Resolves names against the object's fields and checks literal types.
    pub fn bind(
        mut self,
        defs: &std::collections::BTreeMap<SObject, ObjectDef>,
    ) -> Result<(SObject, Query), SfError> {
        let o = SObject::from_name(&self.object).ok_or_else(|| {
            SfError::bad_request(
                "INVALID_TYPE",
                format!("sObject type '{}' is not supported.", self.object),
            )
        })?;
        let def = &defs[&o];
        let mut seen = Vec::new();
        for f in &mut self.fields {
            canonical(def, f, o)?;
            if seen.contains(f) {
                return Err(SfError::malformed(format!("duplicate field selected: {f}")));
            }
            seen.push(f.clone());
        }
        for ob in &mut self.order {
            let f = canonical(def, &mut ob.field, o)?;
            if !f.filterable() {
                return Err(SfError::bad_request(
                    "INVALID_FIELD",
                    format!("field '{}' can not be sorted in a query call", f.name),
                ));
            }
        }
        if let Some(e) = &mut self.filter {
            bind_expr(e, def, o)?;
        }
        self.object = o.name().to_string();
        Ok((o, self))
    }
}

fn bind_expr(e: &mut Expr, def: &ObjectDef, o: SObject) -> Result<(), SfError> {
    match e {
        Expr::And(v) | Expr::Or(v) => v.iter_mut().try_for_each(|e| bind_expr(e, def, o)),
        Expr::Not(e) => bind_expr(e, def, o),
        Expr::Cmp { field, op, lit } => {
            let f = canonical(def, field, o)?;
            type_check(f, op, lit)
        }
        Expr::Like { field, .. } => {
            let f = canonical(def, field, o)?;
            if matches!(f.kind.as_str(), "datetime" | "boolean") || !f.filterable() {
                return Err(SfError::bad_request(
                    "INVALID_FIELD",
                    format!("invalid operator on field '{}': LIKE", f.name),
                ));
            }
            Ok(())
        }
        Expr::In { field, lits, .. } => {
            let f = canonical(def, field, o)?;
            lits.iter().try_for_each(|l| type_check(f, "=", l))
        }
    }
}

fn exact(f: &FieldDef) -> bool {
    matches!(f.kind.as_str(), "id" | "reference")
}

fn cmp_text(f: &FieldDef, a: &str, b: &str) -> Ordering {
    if exact(f) {
        let n = a.len().min(b.len()).min(18);
        if a.len() != b.len() && n == 15 {
            return a[..15].cmp(&b[..15]);
        }
        a.cmp(b)
    } else {
        a.to_lowercase().cmp(&b.to_lowercase())
    }
}

fn ord_ok(op: &str, o: Ordering) -> bool {
    match op {
        "=" => o == Ordering::Equal,
        "!=" => o != Ordering::Equal,
        "<" => o == Ordering::Less,
        ">" => o == Ordering::Greater,
        "<=" => o != Ordering::Greater,
        _ => o != Ordering::Less,
    }
}

fn cmp(f: &FieldDef, v: &FieldValue, op: &str, lit: &Lit) -> bool {
    match (v, lit) {
        (FieldValue::Text(None), Lit::Null) => op == "=",
        (_, Lit::Null) => op == "!=",
        (FieldValue::Text(None), _) => op == "!=",
        (FieldValue::Text(Some(a)), Lit::Str(b)) => ord_ok(op, cmp_text(f, a, b)),
        (FieldValue::Time(t), Lit::Time(l)) => ord_ok(op, t.cmp(l)),
        (FieldValue::Time(t), Lit::Range(start, end)) => match op {
            "=" => t >= start && t < end,
            "!=" => t < start || t >= end,
            "<" => t < start,
            "<=" => t < end,
            ">" => t >= end,
            _ => t >= start,
        },
        (FieldValue::Bool(b), Lit::Bool(l)) => ord_ok(op, b.cmp(l)),
        _ => false,
    }
}

/// SOQL LIKE: `%` any run, `_` one character, case-insensitive.
pub fn like(text: &str, pattern: &[Pat]) -> bool {
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<Pat> = pattern
        .iter()
        .map(|x| match x {
            Pat::Char(c) => Pat::Char(c.to_lowercase().next().unwrap_or(*c)),
            other => other.clone(),
        })
        .collect();
    // dp[j]: pattern[..i] matches text[..j]
    let mut dp = vec![false; t.len() + 1];
    dp[0] = true;
    for pi in &p {
        let mut next = vec![false; t.len() + 1];
        for j in 0..=t.len() {
            next[j] = match pi {
                Pat::Any => dp[j] || (j > 0 && next[j - 1]),
                Pat::One => j > 0 && dp[j - 1],
                Pat::Char(c) => j > 0 && dp[j - 1] && t[j - 1] == *c,
            };
        }
        dp = next;
    }
    dp[t.len()]
}

/// Whether a record satisfies a bound filter.
pub fn eval(e: &Expr, def: &ObjectDef, r: &SfRecord) -> bool {
    let value = |name: &str| {
        let f = def.field(name).expect("bound field");
        (f, r.value(f))
    };
    match e {
        Expr::And(v) => v.iter().all(|e| eval(e, def, r)),
        Expr::Or(v) => v.iter().any(|e| eval(e, def, r)),
        Expr::Not(e) => !eval(e, def, r),
        Expr::Cmp { field, op, lit } => {
            let (f, v) = value(field);
            cmp(f, &v, op, lit)
        }
        Expr::Like { field, pattern } => match value(field).1 {
            FieldValue::Text(Some(s)) => like(&s, pattern),
            _ => false,
        },
        Expr::In {
            field,
            lits,
            negated,
        } => {
            let (f, v) = value(field);
            lits.iter().any(|l| cmp(f, &v, "=", l)) != *negated
        }
    }
}

/// Orders records by the query's ORDER BY.
pub fn compare(order: &[OrderBy], def: &ObjectDef, a: &SfRecord, b: &SfRecord) -> Ordering {
    for ob in order {
        let f = def.field(&ob.field).expect("bound field");
        let (va, vb) = (a.value(f), b.value(f));
        let o = match (&va, &vb) {
            (FieldValue::Text(None), FieldValue::Text(None)) => Ordering::Equal,
            (FieldValue::Text(None), _) => {
                if ob.nulls_first == ob.asc {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (_, FieldValue::Text(None)) => {
                if ob.nulls_first == ob.asc {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (FieldValue::Text(Some(x)), FieldValue::Text(Some(y))) => cmp_text(f, x, y),
            (FieldValue::Time(x), FieldValue::Time(y)) => x.cmp(y),
            (FieldValue::Bool(x), FieldValue::Bool(y)) => x.cmp(y),
            _ => Ordering::Equal,
        };
        let o = if ob.asc { o } else { o.reverse() };
        if o != Ordering::Equal {
            return o;
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::salesforce::model::SalesforceData;

    fn bound(q: &str) -> Result<Query, SfError> {
        let data = SalesforceData::default();
        parse(q, Utc::now())?.bind(&data.defs).map(|(_, q)| q)
    }

    fn code(r: Result<Query, SfError>) -> &'static str {
        r.expect_err("refused").errors[0].code
    }

    #[test]
    fn parses_the_connectors_pull() {
        let q = bound(
            "SELECT Id, FirstName, lastname, Outpost_Key__c FROM contact WHERE \
             (SystemModstamp > 2026-12-01T08:15:30Z OR (SystemModstamp = 2026-12-01T08:15:30.000+0000 \
             AND Id > '003000000000001AAA')) AND OwnerId = '005000000000001AAA' AND \
             MailingCountry = 'DE' AND LastModifiedDate = LAST_N_DAYS:30 \
             ORDER BY SystemModstamp ASC, Id ASC LIMIT 2000",
        )
        .unwrap();
        assert_eq!(q.fields, ["Id", "FirstName", "LastName", "Outpost_Key__c"]);
        assert_eq!(q.object, "Contact");
        assert_eq!(q.limit, Some(2000));
        assert_eq!(q.order.len(), 2);
        let Some(Expr::And(parts)) = &q.filter else {
            panic!("an AND: {:?}", q.filter)
        };
        assert_eq!(parts.len(), 4);
        assert!(matches!(&parts[0], Expr::Or(v) if v.len() == 2));
        let deleted = bound(
            "SELECT Id, Outpost_Key__c, SystemModstamp FROM Contact WHERE IsDeleted = true \
             AND SystemModstamp > 2026-12-01T08:15:30Z ORDER BY SystemModstamp ASC, Id ASC",
        )
        .unwrap();
        assert_eq!(deleted.limit, None);
    }

    #[test]
    fn is_strict() {
        assert_eq!(code(bound("SELECT * FROM Contact")), "MALFORMED_QUERY");
        assert_eq!(
            code(bound("SELECT Id FROM Contact WHERE")),
            "MALFORMED_QUERY"
        );
        assert_eq!(code(bound("SELECT Id, FROM Contact")), "MALFORMED_QUERY");
        assert_eq!(
            code(bound(
                "SELECT Id FROM Contact WHERE LastName = 'a' AND Email = 'b' OR Phone = 'c'"
            )),
            "MALFORMED_QUERY"
        );
        assert_eq!(
            code(bound("SELECT Id FROM Contact LIMIT 5 garbage")),
            "MALFORMED_QUERY"
        );
        assert_eq!(
            code(bound("SELECT Id FROM Contact WHERE LastName = x")),
            "MALFORMED_QUERY"
        );
        assert_eq!(
            code(bound("SELECT Id FROM Contact WHERE LastName = 'x")),
            "MALFORMED_QUERY"
        );
        assert_eq!(
            code(bound("SELECT Id FROM Contact WHERE LastName = 'x\\q'")),
            "MALFORMED_QUERY"
        );
        assert_eq!(code(bound("SELECT Nope FROM Contact")), "INVALID_FIELD");
        assert_eq!(code(bound("SELECT Id FROM Account")), "INVALID_TYPE");
        assert_eq!(
            code(bound(
                "SELECT Id FROM Contact WHERE SystemModstamp > '2026-12-01T08:15:30Z'"
            )),
            "INVALID_FIELD"
        );
        assert_eq!(
            code(bound("SELECT Id FROM Contact WHERE LastName = 5")),
            "INVALID_FIELD"
        );
        assert_eq!(
            code(bound("SELECT Id FROM Contact WHERE Description = 'x'")),
            "INVALID_FIELD"
        );
    }

    #[test]
    fn an_escaped_injection_is_one_string() {
        let q = bound(r"SELECT Id FROM Contact WHERE LastName = 'x\' OR \'1\'=\'1'").unwrap();
        assert_eq!(
            q.filter,
            Some(Expr::Cmp {
                field: "LastName".into(),
                op: "=",
                lit: Lit::Str("x' OR '1'='1".into())
            })
        );
        // Unescaped, it is two conditions whose second is malformed SOQL.
        assert_eq!(
            code(bound(
                "SELECT Id FROM Contact WHERE LastName = 'x' OR '1'='1'"
            )),
            "MALFORMED_QUERY"
        );
        let q = bound(r#"SELECT Id FROM Contact WHERE LastName = 'a\\b\n\t\r\b\f\"'"#).unwrap();
        assert!(
            matches!(q.filter, Some(Expr::Cmp { lit: Lit::Str(ref s), .. }) if s == "a\\b\n\t\r\u{8}\u{c}\"")
        );
    }

    #[test]
    fn like_in_and_not() {
        let p = |s: &str| match tokenize(s).unwrap().remove(0) {
            Tok::Str(_, p) => p,
            _ => unreachable!(),
        };
        assert!(like("Lovelace", &p("'love%'")));
        assert!(like("Lovelace", &p("'L_velace'")));
        assert!(!like("Lovelace", &p("'love'")));
        assert!(like("50%", &p(r"'50\%'")));
        assert!(!like("500", &p(r"'50\%'")));
        assert!(like("a_b", &p(r"'a\_b'")));
        assert!(!like("axb", &p(r"'a\_b'")));
        let q = bound(
            "SELECT Id FROM Lead WHERE NOT (Status IN ('Open - Not Contacted')) AND Email NOT IN ('a@b.c') \
             AND LastName LIKE 'x%' AND Email != null",
        )
        .unwrap();
        assert!(matches!(q.filter, Some(Expr::And(ref v)) if v.len() == 4));
    }
}
