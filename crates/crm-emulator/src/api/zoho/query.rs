//! Reading many records: the list (`GET /{Module}?fields=` with `page` or
//! `page_token`, `sort_by`, `If-Modified-Since`), the recycle bin
//! (`GET /{Module}/deleted`) and search (`GET /{Module}/search` by
//! `email`, `phone`, `word` or `criteria`, parsed strictly).

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::error::ZError;
use super::model::{self, Module, ZRecord};
use super::records::fields_param;
use super::{no_content, ok, Answer, Call, Cursor, PAGE_LIMIT_RECORDS};
use crate::state::Shared;
use crate::store::Store;

const MAX_PER_PAGE: u64 = 200;
/// Conditions one `criteria` may hold.
pub const MAX_CONDITIONS: usize = 10;

fn number(call: &Call, name: &str, default: u64, max: u64) -> Result<u64, ZError> {
    match call.param(name) {
        None => Ok(default),
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| ZError::invalid_param(name, "invalid data")),
    }
}

fn since(call: &Call) -> Result<Option<DateTime<Utc>>, ZError> {
    match call.header("if-modified-since") {
        None => Ok(None),
        Some(s) => model::parse_time(s)
            .map(Some)
            .ok_or_else(|| ZError::invalid_param("If-Modified-Since", "invalid data")),
    }
}

fn sort_key(r: &ZRecord, sort_by: &str) -> (i64, u64) {
    match sort_by {
        "Created_Time" => (r.created.timestamp(), r.id),
        "Modified_Time" => (r.modified.timestamp(), r.id),
        _ => (0, r.id),
    }
}

pub fn list(shared: &Shared, store: &Store, call: &Call, m: Module) -> Answer {
    let fields = fields_param(call)
        .filter(|f| !f.is_empty())
        .ok_or_else(|| ZError::missing_param("fields"))?;
    let per_page = number(call, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)?;
    let mut rt = shared.zoho();
    let now = Utc::now();
    let (sort_by, desc, since, after, page) = if let Some(tok) = call.param("page_token") {
        let c = rt
            .page_tokens
            .get(tok)
            .filter(|c| c.module == m)
            .ok_or_else(|| ZError::invalid_param("page_token", "invalid page token"))?;
        if c.expired || c.expires <= now {
            return Err(ZError::invalid_param(
                "page_token",
                "the page token is expired",
            ));
        }
        (c.sort_by.clone(), c.desc, c.since, Some(c.last), c.page + 1)
    } else {
        let sort_by = call.param("sort_by").unwrap_or("id");
        if !matches!(sort_by, "id" | "Created_Time" | "Modified_Time") {
            return Err(ZError::invalid_param("sort_by", "invalid data"));
        }
        let desc = match call.param("sort_order").unwrap_or("desc") {
            "asc" => false,
            "desc" => true,
            _ => return Err(ZError::invalid_param("sort_order", "invalid data")),
        };
        let page = number(call, "page", 1, u64::MAX)?;
        if rt.page_limit && page.saturating_mul(per_page) > PAGE_LIMIT_RECORDS {
            return Err(ZError::bad(
                "DISCRETE_PAGINATION_LIMIT_EXCEEDED",
                "you can fetch only up to 2000 records with the page parameter; use page_token to fetch more",
            )
            .details(json!({"param": "page", "limit": PAGE_LIMIT_RECORDS})));
        }
        (sort_by.to_string(), desc, since(call)?, None, page)
    };
    let mut keyed: Vec<((i64, u64), &ZRecord)> = store
        .zoho
        .records()
        .filter(|r| r.module == m)
        .filter(|r| since.is_none_or(|s| r.modified > s))
        .map(|r| (sort_key(r, &sort_by), r))
        .collect();
    keyed.sort_by_key(|(k, _)| *k);
    if desc {
        keyed.reverse();
    }
    let rest: Vec<&((i64, u64), &ZRecord)> = match after {
        Some(last) => keyed
            .iter()
            .filter(|(k, _)| if desc { *k < last } else { *k > last })
            .collect(),
        None => keyed
            .iter()
            .skip(((page - 1) * per_page) as usize)
            .collect(),
    };
    let more = rest.len() as u64 > per_page;
    let shown: Vec<&((i64, u64), &ZRecord)> = rest.into_iter().take(per_page as usize).collect();
    if shown.is_empty() {
        return no_content();
    }
    let defs = store.zoho.fields(m);
    let data: Vec<Value> = shown
        .iter()
        .map(|(_, r)| r.render(defs, Some(&fields)))
        .collect();
    let (next, expiry) = if more {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let expires = now + chrono::Duration::days(1);
        rt.page_tokens.insert(
            token.clone(),
            Cursor {
                module: m,
                sort_by: sort_by.clone(),
                desc,
                since,
                last: shown.last().expect("not empty").0,
                page,
                expires,
                expired: false,
            },
        );
        (json!(token), json!(model::fmt_time(expires)))
    } else {
        (Value::Null, Value::Null)
    };
    ok(
        StatusCode::OK,
        json!({
            "data": data,
            "info": {
                "per_page": per_page,
                "count": data.len(),
                "page": page,
                "sort_by": sort_by,
                "sort_order": if desc { "desc" } else { "asc" },
                "more_records": more,
                "next_page_token": next,
                "previous_page_token": null,
                "page_token_expiry": expiry,
            },
        }),
    )
}

pub fn deleted(store: &Store, call: &Call, m: Module) -> Answer {
    let kind = call.param("type").unwrap_or("all");
    if !matches!(kind, "all" | "recycle" | "permanent") {
        return Err(ZError::invalid_param("type", "invalid data"));
    }
    let per_page = number(call, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)?;
    let page = number(call, "page", 1, u64::MAX)?;
    let since = since(call)?;
    // Every deletion goes to the recycle bin; nothing is purged.
    let mut all: Vec<&model::Deleted> = if kind == "permanent" {
        Vec::new()
    } else {
        store
            .zoho
            .deleted
            .values()
            .filter(|d| d.module == m)
            .filter(|d| since.is_none_or(|s| d.deleted_time > s))
            .collect()
    };
    all.sort_by_key(|d| std::cmp::Reverse((d.deleted_time, d.id)));
    let start = ((page - 1) * per_page) as usize;
    let shown: Vec<Value> = all
        .iter()
        .skip(start)
        .take(per_page as usize)
        .map(|d| {
            let user = json!({"name": model::USER_NAME, "id": model::USER_ID});
            json!({
                "id": d.id.to_string(),
                "deleted_time": model::fmt_time(d.deleted_time),
                "deleted_by": user,
                "display_name": d.display_name,
                "type": "recycle",
                "created_by": user,
            })
        })
        .collect();
    if shown.is_empty() {
        return no_content();
    }
    let more = all.len() > start + shown.len();
    ok(
        StatusCode::OK,
        json!({
            "data": shown,
            "info": {"per_page": per_page, "count": shown.len(), "page": page, "more_records": more},
        }),
    )
}

/// A parsed `criteria`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Criteria {
    /// `(Field:op:v1,v2)`: any of the values matches.
    Cond {
        field: String,
        op: Op,
        values: Vec<String>,
    },
    And(Vec<Criteria>),
    Or(Vec<Criteria>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Equals,
    StartsWith,
}

struct Parser<'a> {
    s: &'a [char],
    i: usize,
    conditions: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected '{c}' at position {}", self.i))
        }
    }

    /// `group (("and"|"or") group)*`, one kind of connector per level.
    fn list(&mut self) -> Result<Criteria, String> {
        let mut items = vec![self.group()?];
        let mut conn: Option<&'static str> = None;
        loop {
            let rest: String = self.s[self.i..].iter().take(3).collect();
            let word = if rest.to_ascii_lowercase().starts_with("and") {
                "and"
            } else if rest.to_ascii_lowercase().starts_with("or") {
                "or"
            } else {
                break;
            };
            if conn.is_some_and(|c| c != word) {
                return Err("mixing 'and' and 'or' needs parentheses".into());
            }
            conn = Some(word);
            self.i += word.len();
            items.push(self.group()?);
        }
        Ok(match (conn, items.len()) {
            (_, 1) => items.pop().expect("one"),
            (Some("or"), _) => Criteria::Or(items),
            _ => Criteria::And(items),
        })
    }

    fn group(&mut self) -> Result<Criteria, String> {
        self.expect('(')?;
        let inner = if self.peek() == Some('(') {
            self.list()?
        } else {
            self.cond()?
        };
        self.expect(')')?;
        Ok(inner)
    }

    fn name(&mut self, what: &str) -> Result<String, String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.i += 1;
        }
        if self.i == start {
            return Err(format!("missing {what} at position {start}"));
        }
        Ok(self.s[start..self.i].iter().collect())
    }

    fn cond(&mut self) -> Result<Criteria, String> {
        self.conditions += 1;
        let field = self.name("field name")?;
        self.expect(':')?;
        let op = match self.name("operator")?.as_str() {
            "equals" => Op::Equals,
            "starts_with" => Op::StartsWith,
            other => return Err(format!("unsupported operator {other:?}")),
        };
        self.expect(':')?;
        let mut values = vec![String::new()];
        loop {
            match self.peek() {
                None => return Err("unterminated value".into()),
                Some(')') => break,
                Some('(') => return Err("unescaped '(' in a value".into()),
                Some('\\') => {
                    let c = self
                        .s
                        .get(self.i + 1)
                        .copied()
                        .ok_or("a value ends in a lone backslash")?;
                    values.last_mut().expect("one").push(c);
                    self.i += 2;
                }
                Some(',') => {
                    values.push(String::new());
                    self.i += 1;
                }
                Some(c) => {
                    values.last_mut().expect("one").push(c);
                    self.i += 1;
                }
            }
        }
        if values.iter().any(String::is_empty) {
            return Err("empty value".into());
        }
        Ok(Criteria::Cond { field, op, values })
    }
}

/// Parses `((Field:op:value)and(...))`; `\` escapes `(`, `)`, `,` and `\`.
pub fn parse_criteria(text: &str) -> Result<Criteria, String> {
    let chars: Vec<char> = text.trim().chars().collect();
    let mut p = Parser {
        s: &chars,
        i: 0,
        conditions: 0,
    };
    let c = p.list()?;
    if p.i != chars.len() {
        return Err(format!("unexpected text at position {}", p.i));
    }
    if p.conditions > MAX_CONDITIONS {
        return Err(format!("more than {MAX_CONDITIONS} conditions"));
    }
    Ok(c)
}

fn field_text(r: &ZRecord, field: &str) -> Option<String> {
    if field == "id" {
        return Some(r.id.to_string());
    }
    r.values
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn matches(c: &Criteria, r: &ZRecord) -> bool {
    match c {
        Criteria::And(items) => items.iter().all(|i| matches(i, r)),
        Criteria::Or(items) => items.iter().any(|i| matches(i, r)),
        Criteria::Cond { field, op, values } => {
            let Some(have) = field_text(r, field) else {
                return false;
            };
            let have = have.to_lowercase();
            values.iter().any(|v| {
                let v = v.to_lowercase();
                match op {
                    Op::Equals => have == v,
                    Op::StartsWith => have.starts_with(&v),
                }
            })
        }
    }
}

fn fields_in(c: &Criteria, out: &mut Vec<String>) {
    match c {
        Criteria::And(items) | Criteria::Or(items) => items.iter().for_each(|i| fields_in(i, out)),
        Criteria::Cond { field, .. } => out.push(field.clone()),
    }
}

fn invalid_query(reason: impl Into<String>) -> ZError {
    ZError::bad("INVALID_QUERY", "invalid query formed")
        .details(json!({"reason": reason.into(), "param": "criteria"}))
}

pub fn search(store: &Store, call: &Call, m: Module) -> Answer {
    let per_page = number(call, "per_page", MAX_PER_PAGE, MAX_PER_PAGE)?;
    let page = number(call, "page", 1, u64::MAX)?;
    let text_fields: Vec<String> = store
        .zoho
        .fields(m)
        .iter()
        .filter(|d| d.is_text())
        .map(|d| d.api_name.clone())
        .collect();
    let criteria = if let Some(c) = call.param("criteria") {
        let c = parse_criteria(c).map_err(invalid_query)?;
        let mut used = Vec::new();
        fields_in(&c, &mut used);
        if let Some(bad) = used.iter().find(|f| *f != "id" && !text_fields.contains(f)) {
            return Err(invalid_query(format!(
                "unknown or unsearchable field {bad:?}"
            )));
        }
        c
    } else if let Some(e) = call.param("email") {
        Criteria::Cond {
            field: "Email".into(),
            op: Op::Equals,
            values: vec![e.to_string()],
        }
    } else if let Some(p) = call.param("phone") {
        Criteria::Or(
            ["Phone", "Mobile"]
                .into_iter()
                .map(|f| Criteria::Cond {
                    field: f.into(),
                    op: Op::Equals,
                    values: vec![p.to_string()],
                })
                .collect(),
        )
    } else if let Some(w) = call.param("word") {
        let w = w.to_lowercase();
        let hits: Vec<&ZRecord> = store
            .zoho
            .records()
            .filter(|r| r.module == m)
            .filter(|r| {
                text_fields
                    .iter()
                    .any(|f| field_text(r, f).is_some_and(|v| v.to_lowercase().contains(&w)))
            })
            .collect();
        return page_of(store, m, hits, page, per_page);
    } else {
        return Err(ZError::missing_param("criteria"));
    };
    let hits: Vec<&ZRecord> = store
        .zoho
        .records()
        .filter(|r| r.module == m && matches(&criteria, r))
        .collect();
    page_of(store, m, hits, page, per_page)
}

fn page_of(store: &Store, m: Module, hits: Vec<&ZRecord>, page: u64, per_page: u64) -> Answer {
    let start = ((page - 1) * per_page) as usize;
    let defs = store.zoho.fields(m);
    let data: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(per_page as usize)
        .map(|r| r.render(defs, None))
        .collect();
    if data.is_empty() {
        return no_content();
    }
    let more = hits.len() > start + data.len();
    ok(
        StatusCode::OK,
        json!({
            "data": data,
            "info": {"per_page": per_page, "count": data.len(), "page": page, "more_records": more},
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_parse_and_escape() {
        let c = parse_criteria(r"((Last_Name:equals:O\(Neil\)\, Jr)and(Email:starts_with:b\\c))")
            .unwrap();
        assert_eq!(
            c,
            Criteria::And(vec![
                Criteria::Cond {
                    field: "Last_Name".into(),
                    op: Op::Equals,
                    values: vec!["O(Neil), Jr".into()],
                },
                Criteria::Cond {
                    field: "Email".into(),
                    op: Op::StartsWith,
                    values: vec![r"b\c".into()],
                },
            ])
        );
        assert!(parse_criteria("(Email:equals:a,b)").is_ok());
        for bad in [
            "",
            "Email:equals:x",
            "(Email:equals:x",
            "(Email:like:x)",
            "(Email:equals:)",
            "(Email:equals:a(b)",
            "((A:equals:x)and(B:equals:y)or(C:equals:z))",
            "(Email:equals:x)trailing",
            r"(Email:equals:x\)",
        ] {
            assert!(parse_criteria(bad).is_err(), "{bad:?} parsed");
        }
    }
}
