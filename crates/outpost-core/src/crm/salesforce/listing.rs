//! The working-set pull and the deletions listing, by SOQL ordered by
//! `SystemModstamp, Id`. A page follows Salesforce's `nextRecordsUrl`;
//! the cursor also keeps the last record's stamp and id, so a pass cut off
//! resumes where it stopped even after the query locator expired (a new
//! query starts just after that record). Stamps have whole seconds, so
//! many records share one: the id breaks the tie, and nothing is skipped
//! or read twice.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::mapping::{self, SYSTEM_STAMP};
use super::{soql, Salesforce};
use crate::crm::connector::{DeletedPage, DeletedRecord, Page, PullFilter};
use crate::crm::error::ConnectorError;
use crate::crm::http::parse_json;
use crate::crm::keyset::{After, Keyset, Order};

/// The pull's order: `SystemModstamp, Id`.
const ORDER: Order = Order {
    stamp_field: SYSTEM_STAMP,
    id_field: "Id",
    parse_time: mapping::parse_time,
};

/// The SOQL condition "after this position", if there is one.
fn condition(position: &Keyset) -> Result<Option<String>, ConnectorError> {
    let Some(After { at, id }) = position.after_condition()? else {
        return Ok(None);
    };
    let at = soql::datetime(at);
    Ok(Some(match id {
        None => format!("{SYSTEM_STAMP} >= {at}"),
        Some(id) => {
            let id = soql::id_literal(id)
                .ok_or_else(|| ConnectorError::Protocol(format!("pull cursor id {id:?}")))?;
            format!("({SYSTEM_STAMP} > {at} OR ({SYSTEM_STAMP} = {at} AND Id > {id}))")
        }
    }))
}

/// One batch of a query answer.
#[derive(Debug)]
pub struct QueryPage {
    pub records: Vec<Map<String, Value>>,
    pub next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryAnswer {
    #[serde(default)]
    done: bool,
    #[serde(default)]
    next_records_url: Option<String>,
    records: Vec<Map<String, Value>>,
}

pub fn parse_page(body: &[u8]) -> Result<QueryPage, ConnectorError> {
    let a: QueryAnswer = parse_json(body, "query answer")?;
    Ok(QueryPage {
        next: a.next_records_url.filter(|_| !a.done),
        records: a.records,
    })
}

/// `SELECT fields FROM object WHERE conditions ORDER BY SystemModstamp, Id`.
fn select(fields: &[String], object: &str, conditions: &[String]) -> String {
    let mut q = format!("SELECT {} FROM {object}", fields.join(", "));
    if !conditions.is_empty() {
        q.push_str(" WHERE ");
        q.push_str(&conditions.join(" AND "));
    }
    q.push_str(&format!(" ORDER BY {SYSTEM_STAMP} ASC, Id ASC"));
    q
}

impl Salesforce {
    /// The pull's SOQL from `position` with the working set's filters.
    pub(super) fn modified_query(
        &self,
        position: &Keyset,
        filter: &PullFilter,
    ) -> Result<String, ConnectorError> {
        let fields: Vec<String> = mapping::read_fields(&self.map, &self.key_field)
            .into_iter()
            .filter(|f| soql::is_name(f))
            .collect();
        let mut conditions: Vec<String> = condition(position)?.into_iter().collect();
        if let Some(owner) = &filter.owner {
            conditions.push(format!("OwnerId = {}", soql::literal(owner)));
        }
        if let Some(country) = &filter.country {
            let field = self
                .map
                .crm_field(crate::customer::Field::Country)
                .filter(|f| soql::is_name(f))
                .unwrap_or(self.object.country_field());
            conditions.push(format!("{field} = {}", soql::literal(country)));
        }
        Ok(select(&fields, self.object.name(), &conditions))
    }

    async fn page_from(
        &self,
        position: &Keyset,
        soql: impl Fn() -> Result<String, ConnectorError>,
        all: bool,
    ) -> Result<QueryPage, ConnectorError> {
        if let Some(next) = &position.next {
            if let Some(page) = self.query_more(next).await? {
                return Ok(page);
            }
            tracing::info!("Salesforce query locator expired; querying again from the last record");
        }
        self.query(&soql()?, all).await
    }

    pub(super) async fn modified_page(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        filter: &PullFilter,
    ) -> Result<Page, ConnectorError> {
        let position = match cursor {
            Some(c) => Keyset::decode(&c)?,
            None => Keyset::start(since),
        };
        let page = self
            .page_from(&position, || self.modified_query(&position, filter), false)
            .await?;
        let next = Keyset::after(&page.records, page.next, ORDER)?;
        Ok(Page {
            items: page.records.iter().filter_map(|r| self.remote(r)).collect(),
            next: next.map(|p| p.encode()),
        })
    }

    /// Records in the recycle bin since `since` (`queryAll`, `IsDeleted`).
    pub(super) async fn deleted_page(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<DeletedPage, ConnectorError> {
        let position = match cursor {
            Some(c) => Keyset::decode(&c)?,
            None => Keyset::start(since),
        };
        let fields = vec![
            "Id".to_owned(),
            self.key_field.clone(),
            SYSTEM_STAMP.to_owned(),
        ];
        let soql = || {
            let mut conditions = vec!["IsDeleted = true".to_owned()];
            conditions.extend(condition(&position)?);
            Ok(select(&fields, self.object.name(), &conditions))
        };
        let page = self.page_from(&position, soql, true).await?;
        let next = Keyset::after(&page.records, page.next, ORDER)?;
        let items = page
            .records
            .iter()
            .filter_map(|r| {
                Some(DeletedRecord {
                    crm_id: r.get("Id")?.as_str()?.to_owned(),
                    key: r
                        .get(&self.key_field)
                        .and_then(Value::as_str)
                        .and_then(|k| k.parse().ok()),
                    deleted_at: r
                        .get(SYSTEM_STAMP)?
                        .as_str()
                        .and_then(mapping::parse_time)?,
                })
            })
            .collect();
        Ok(DeletedPage {
            items,
            next: next.map(|p| p.encode()),
            resume: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_position_continues_after_the_last_record_at_its_stamp() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 8, 15, 30).unwrap();
        assert_eq!(
            condition(&Keyset::start(Some(at))).unwrap().unwrap(),
            "SystemModstamp >= 2026-12-01T08:15:30Z"
        );
        let p = Keyset {
            stamp: Some(at.timestamp()),
            id: Some("003000000000009AAA".into()),
            next: None,
        };
        assert_eq!(
            condition(&p).unwrap().unwrap(),
            "(SystemModstamp > 2026-12-01T08:15:30Z OR (SystemModstamp = 2026-12-01T08:15:30Z AND Id > '003000000000009AAA'))"
        );
        let hostile = Keyset {
            id: Some("x' OR Name != '".into()),
            ..p
        };
        assert!(condition(&hostile).is_err());
        assert_eq!(Keyset::decode(&hostile.encode()).unwrap(), hostile);
    }

    #[test]
    fn pages_end_when_salesforce_says_done() {
        let page =
            parse_page(br#"{"totalSize":1,"done":true,"records":[{"Id":"003000000000001AAA"}]}"#)
                .unwrap();
        assert!(page.next.is_none());
        assert!(Keyset::after(&page.records, page.next, ORDER)
            .unwrap()
            .is_none());
        let page = parse_page(br#"{"totalSize":3,"done":false,"nextRecordsUrl":"/services/data/v60.0/query/01g-2","records":[{"Id":"003000000000001AAA","SystemModstamp":"2026-12-01T08:15:30.000+0000"}]}"#).unwrap();
        let next = Keyset::after(&page.records, page.next, ORDER)
            .unwrap()
            .unwrap();
        assert_eq!(next.id.as_deref(), Some("003000000000001AAA"));
        assert_eq!(
            next.next.as_deref(),
            Some("/services/data/v60.0/query/01g-2")
        );
    }
}
