//! The working-set pull and the deletions listing. The pull asks for
//! `GET {Module}?fields=...&sort_by=Modified_Time&sort_order=asc&per_page=200`
//! with `If-Modified-Since` one second before the position's stamp (Zoho
//! lists records modified after it, in whole seconds) and follows
//! `page_token` (`page` reaches only the first 2,000 records). Zoho cannot
//! list "after this id", so the rows at the position's stamp that it
//! already read are dropped ([`Keyset::has_read`]): a pass cut off resumes
//! just after its last row even when the page token is gone, and neither
//! skips nor repeats a record at a tied stamp. 204 is nothing.
//!
//! Deletions come from `GET {Module}/deleted?type=all` with
//! `If-Modified-Since` (the last complete pass), paged by `page`.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use super::mapping::{self, ID, MODIFIED};
use super::{Rows, Zoho, PULL_PAGE};
use crate::crm::connector::{DeletedPage, DeletedRecord, Page, PullFilter};
use crate::crm::error::ConnectorError;
use crate::crm::keyset::{Keyset, Order};
use crate::customer::Field;

const ORDER: Order = Order {
    stamp_field: MODIFIED,
    id_field: ID,
    parse_time: mapping::parse_time,
};

/// Deleted records per page (Zoho's maximum).
const DELETED_PAGE: usize = 200;

#[derive(Deserialize)]
struct Deleted {
    #[serde(default)]
    data: Vec<DeletedRow>,
    #[serde(default)]
    info: super::Info,
}

#[derive(Deserialize)]
struct DeletedRow {
    id: serde_json::Value,
    #[serde(default)]
    deleted_time: Option<String>,
}

/// `If-Modified-Since` for a position: a second before its stamp, so the
/// records at the stamp itself come too.
fn modified_since(position: &Keyset) -> Result<Option<String>, ConnectorError> {
    Ok(position
        .after_condition()?
        .map(|a| mapping::zoho_time(a.at - Duration::seconds(1))))
}

impl Zoho {
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
        let mut headers = Vec::new();
        if let Some(at) = modified_since(&position)? {
            headers.push(("If-Modified-Since", at));
        }
        let path = self.module_name().to_owned();
        let fields = self.read_fields();
        let per_page = PULL_PAGE.to_string();
        let mut rows = None;
        if let Some(token) = &position.next {
            let query = [
                ("fields", fields.clone()),
                ("per_page", per_page.clone()),
                ("page_token", token.clone()),
            ];
            let a = self
                .send(reqwest::Method::GET, &path, &query, None, &headers)
                .await?;
            match a.status {
                204 => {
                    return Ok(Page {
                        items: Vec::new(),
                        next: None,
                    })
                }
                200..=299 => {
                    rows = Some(crate::crm::http::parse_json::<Rows>(
                        &a.body,
                        "Zoho records",
                    )?)
                }
                // An expired or unknown page token: list again from the position.
                400 => {
                    tracing::info!(code = %super::errors::parse(&a.body).code, "Zoho refused the page token; listing again from the last row")
                }
                _ => return Err(self.failure(&a)),
            }
        }
        let rows = match rows {
            Some(r) => r,
            None => {
                let query = [
                    ("fields", fields),
                    ("sort_by", MODIFIED.to_owned()),
                    ("sort_order", "asc".to_owned()),
                    ("per_page", per_page),
                ];
                match self.rows(&path, &query, &headers).await? {
                    Some(r) => r,
                    None => {
                        return Ok(Page {
                            items: Vec::new(),
                            next: None,
                        })
                    }
                }
            }
        };
        let token = rows
            .info
            .next_page_token
            .clone()
            .filter(|t| rows.info.more_records && !t.is_empty());
        let mut next = Keyset::after(&rows.data, token, ORDER)?;
        // A page of rows read before (a resumed pass re-reading its tied
        // stamp) must not move the position back.
        if let (Some(k), Some(last)) = (next.as_mut(), rows.data.last()) {
            let (stamp, id) = ORDER.of(last)?;
            if position.has_read(stamp, id) {
                k.stamp = position.stamp;
                k.id = position.id.clone();
            }
        }
        let mut items = Vec::with_capacity(rows.data.len());
        for row in &rows.data {
            let (stamp, id) = ORDER.of(row)?;
            if position.has_read(stamp, id) {
                continue;
            }
            let Some(r) = self.remote(row) else { continue };
            // Zoho's listing cannot filter: the country is compared here.
            if let Some(country) = &filter.country {
                let theirs = r.fields.get(Field::Country);
                if !theirs.is_some_and(|c| c.eq_ignore_ascii_case(country)) {
                    continue;
                }
            }
            items.push(r);
        }
        Ok(Page {
            items,
            next: next.map(|p| p.encode()),
        })
    }

    /// Deletions since `since`; `cursor` is the next page's number.
    pub(super) async fn deleted_page(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<DeletedPage, ConnectorError> {
        let page: u64 = match cursor.as_deref() {
            Some(c) => c
                .parse()
                .map_err(|_| ConnectorError::Protocol(format!("deletions cursor {c:?}")))?,
            None => 1,
        };
        let mut headers = Vec::new();
        if let Some(at) = since {
            headers.push((
                "If-Modified-Since",
                mapping::zoho_time(at - Duration::seconds(1)),
            ));
        }
        let path = format!("{}/deleted", self.module_name());
        let query = [
            ("type", "all".to_owned()),
            ("per_page", DELETED_PAGE.to_string()),
            ("page", page.to_string()),
        ];
        let a = self
            .send(reqwest::Method::GET, &path, &query, None, &headers)
            .await?;
        let listed: Deleted = match a.status {
            204 => {
                return Ok(DeletedPage {
                    items: Vec::new(),
                    next: None,
                    resume: None,
                })
            }
            200..=299 => crate::crm::http::parse_json(&a.body, "Zoho deleted records")?,
            _ => return Err(self.failure(&a)),
        };
        let now = Utc::now();
        let items = listed
            .data
            .into_iter()
            .filter_map(|r| {
                let crm_id = match r.id {
                    serde_json::Value::String(s) if !s.is_empty() => s,
                    serde_json::Value::Number(n) => n.to_string(),
                    _ => return None,
                };
                Some(DeletedRecord {
                    crm_id,
                    key: None,
                    deleted_at: r
                        .deleted_time
                        .as_deref()
                        .and_then(mapping::parse_time)
                        .unwrap_or(now),
                })
            })
            .collect();
        Ok(DeletedPage {
            items,
            next: listed.info.more_records.then(|| (page + 1).to_string()),
            resume: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_listing_starts_a_second_before_the_position() {
        let at = Utc.with_ymd_and_hms(2026, 12, 4, 10, 0, 0).unwrap();
        assert_eq!(modified_since(&Keyset::default()).unwrap(), None);
        assert_eq!(
            modified_since(&Keyset::start(Some(at))).unwrap().as_deref(),
            Some("2026-12-04T09:59:59+00:00")
        );
    }
}
