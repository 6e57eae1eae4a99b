//! The working-set pull and the deletions listing. The pull asks for
//! `modifiedon gt <cursor>` ordered by `modifiedon, contactid` in pages of
//! `Prefer: odata.maxpagesize`, following `@odata.nextLink`; the cursor
//! also keeps the last row's stamp and id, so a pass cut off resumes just
//! after that row even when the link is no longer taken (stamps have whole
//! seconds: the id breaks the tie, nothing is skipped or read twice).
//!
//! Deletions come from change tracking: a first `Prefer:
//! odata.track-changes` read of the ids gives a delta link, and each later
//! listing follows the last link for `$deletedEntity` entries. The link is
//! kept in memory, so deletions made while Outpost was closed are not seen
//! (the edits of such a customer find it gone). With change tracking off
//! on the contact table there is no listing: [`Dynamics::change_tracking_off`]
//! says so for "Test connection".

use std::sync::atomic::Ordering;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use url::Url;

use super::errors::{self, code};
use super::mapping::{self, ID, MODIFIED};
use super::{odata, Dynamics, Payload, PULL_PAGE};
use crate::crm::connector::{DeletedPage, DeletedRecord, Page, PullFilter};
use crate::crm::error::ConnectorError;
use crate::crm::http::{body_or_empty, parse_json};

/// Ids per page of the first change-tracking read (Dataverse's maximum).
const TRACK_PAGE: usize = 5000;

/// Where a pass stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Rows from this stamp (epoch seconds) on...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<i64>,
    /// ...and, at that stamp, ids after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Dataverse's link to the next page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl Position {
    pub fn start(since: Option<DateTime<Utc>>) -> Self {
        Position {
            stamp: since.map(|t| t.timestamp()),
            ..Position::default()
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a position serializes")
    }

    pub fn decode(cursor: &str) -> Result<Self, ConnectorError> {
        serde_json::from_str(cursor)
            .map_err(|e| ConnectorError::Protocol(format!("stored pull cursor {cursor:?}: {e}")))
    }

    /// The `$filter` "after this position", if there is one.
    pub fn condition(&self) -> Result<Option<String>, ConnectorError> {
        let Some(stamp) = self.stamp else {
            return Ok(None);
        };
        let at = Utc
            .timestamp_opt(stamp, 0)
            .single()
            .ok_or_else(|| ConnectorError::Protocol(format!("pull cursor stamp {stamp}")))?;
        let at = odata::datetime(at);
        Ok(Some(match &self.id {
            None => format!("({MODIFIED} gt {at} or {MODIFIED} eq {at})"),
            Some(id) => {
                let id = odata::guid(id)
                    .ok_or_else(|| ConnectorError::Protocol(format!("pull cursor id {id:?}")))?;
                format!("({MODIFIED} gt {at} or ({MODIFIED} eq {at} and {ID} gt {id}))")
            }
        }))
    }

    /// After a page: from its last row on, with the page's link; `None`
    /// when the listing is done.
    fn after(
        rows: &[Map<String, Value>],
        next: Option<String>,
    ) -> Result<Option<Self>, ConnectorError> {
        let Some(next) = next else { return Ok(None) };
        let last = rows.last().ok_or_else(|| {
            ConnectorError::Protocol("a page with more to come but no rows".into())
        })?;
        let id = last.get(ID).and_then(Value::as_str).map(str::to_owned);
        let stamp = last
            .get(MODIFIED)
            .and_then(Value::as_str)
            .and_then(mapping::parse_time)
            .ok_or_else(|| ConnectorError::Protocol(format!("a row without {MODIFIED}")))?;
        Ok(Some(Position {
            stamp: Some(stamp.timestamp()),
            id,
            next: Some(next),
        }))
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    value: Vec<Map<String, Value>>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink", default)]
    delta_link: Option<String>,
}

/// What a page request came to.
enum Fetched {
    Page(Answer),
    /// Dataverse refused the link (or change tracking): start over.
    Refused(errors::ApiError),
}

impl Dynamics {
    /// A link Dataverse gave, only when it points into our own Web API
    /// (the bearer token never goes anywhere else).
    fn own_link(&self, link: &str) -> Result<Url, ConnectorError> {
        let url = Url::parse(link)
            .map_err(|e| ConnectorError::Protocol(format!("link {link:?}: {e}")))?;
        if url.origin() != self.api_root.origin() || !url.path().starts_with(self.api_root.path()) {
            return Err(ConnectorError::Protocol(format!(
                "a link outside the organization's Web API: {link}"
            )));
        }
        Ok(url)
    }

    async fn fetch(&self, url: Url, prefer: String) -> Result<Fetched, ConnectorError> {
        let timed = self
            .send(Method::GET, url, &Payload::None, &[("Prefer", prefer)], 1)
            .await?;
        if timed.response.status().as_u16() == 400 {
            let e = errors::parse(&body_or_empty(timed.response).await);
            return Ok(Fetched::Refused(e));
        }
        let body = self.ok_body(timed).await?;
        Ok(Fetched::Page(parse_json(&body, "contact list")?))
    }

    fn modified_url(
        &self,
        position: &Position,
        filter: &PullFilter,
    ) -> Result<Url, ConnectorError> {
        let mut conditions: Vec<String> = position.condition()?.into_iter().collect();
        if let Some(country) = &filter.country {
            let column = self
                .map
                .crm_field(crate::customer::Field::Country)
                .filter(|c| odata::is_name(c))
                .unwrap_or("address1_country");
            conditions.push(format!("{column} eq {}", odata::literal(country)));
        }
        let select = self.select();
        let filter = conditions.join(" and ");
        let order = format!("{MODIFIED} asc,{ID} asc");
        let mut options = vec![("$select", select.as_str())];
        if !conditions.is_empty() {
            options.push(("$filter", filter.as_str()));
        }
        options.push(("$orderby", order.as_str()));
        Ok(odata::with_query(self.url("contacts"), &options))
    }

    pub(super) async fn modified_page(
        &self,
        since: Option<DateTime<Utc>>,
        cursor: Option<String>,
        filter: &PullFilter,
    ) -> Result<Page, ConnectorError> {
        let position = match cursor {
            Some(c) => Position::decode(&c)?,
            None => Position::start(since),
        };
        let prefer = format!("odata.maxpagesize={PULL_PAGE}");
        let mut answer = None;
        if let Some(next) = &position.next {
            match self.fetch(self.own_link(next)?, prefer.clone()).await? {
                Fetched::Page(a) => answer = Some(a),
                Fetched::Refused(e) => {
                    tracing::info!(code = %e.code, "Dataverse refused the page link; querying again from the last row");
                }
            }
        }
        let answer = match answer {
            Some(a) => a,
            None => match self
                .fetch(self.modified_url(&position, filter)?, prefer)
                .await?
            {
                Fetched::Page(a) => a,
                Fetched::Refused(e) => {
                    return Err(errors::request_error(400, &e, &self.key_property))
                }
            },
        };
        let next = Position::after(&answer.value, answer.next_link)?;
        Ok(Page {
            items: answer.value.iter().filter_map(|r| self.remote(r)).collect(),
            next: next.map(|p| p.encode()),
        })
    }

    /// True once a deletions listing found change tracking off on the
    /// contact table.
    pub fn change_tracking_off(&self) -> bool {
        self.tracking_off.load(Ordering::Relaxed)
    }

    /// Deletions since the last listing of this process (see the module
    /// doc); `None` when change tracking is off.
    pub(super) async fn deleted_page(
        &self,
        _since: Option<DateTime<Utc>>,
        _cursor: Option<String>,
    ) -> Result<Option<DeletedPage>, ConnectorError> {
        let mut delta = self.delta.lock().await;
        let prefer = |page: usize| format!("odata.track-changes,odata.maxpagesize={page}");
        let Some(link) = delta.clone() else {
            // The first read: every id once, to learn where "now" is.
            let mut url = odata::with_query(self.url("contacts"), &[("$select", ID)]);
            loop {
                match self.fetch(url, prefer(TRACK_PAGE)).await? {
                    Fetched::Refused(e) => return self.tracking_refused(e),
                    Fetched::Page(a) => match (a.next_link, a.delta_link) {
                        (Some(next), _) => url = self.own_link(&next)?,
                        (None, Some(d)) => {
                            self.own_link(&d)?;
                            *delta = Some(d);
                            self.tracking_off.store(false, Ordering::Relaxed);
                            return Ok(Some(DeletedPage {
                                items: Vec::new(),
                                next: None,
                            }));
                        }
                        (None, None) => {
                            return Err(ConnectorError::Protocol(
                                "a change-tracking read without @odata.deltaLink".into(),
                            ))
                        }
                    },
                }
            }
        };
        let answer = match self
            .fetch(self.own_link(&link)?, prefer(TRACK_PAGE))
            .await?
        {
            Fetched::Page(a) => a,
            Fetched::Refused(e) => {
                // An old or refused link: the next listing reads afresh.
                *delta = None;
                return self.tracking_refused(e);
            }
        };
        let now = Utc::now();
        let items = answer
            .value
            .iter()
            .filter(|r| {
                r.get("@odata.context")
                    .and_then(Value::as_str)
                    .is_some_and(|c| c.ends_with("$deletedEntity"))
            })
            .filter_map(|r| {
                Some(DeletedRecord {
                    crm_id: odata::guid(r.get("id")?.as_str()?)?,
                    key: None,
                    deleted_at: now,
                })
            })
            .collect();
        if let Some(d) = answer.delta_link {
            self.own_link(&d)?;
            *delta = Some(d);
        }
        Ok(Some(DeletedPage { items, next: None }))
    }

    fn tracking_refused(&self, e: errors::ApiError) -> Result<Option<DeletedPage>, ConnectorError> {
        if e.code == code::CHANGE_TRACKING_OFF || e.message.contains("Change tracking") {
            if !self.tracking_off.swap(true, Ordering::Relaxed) {
                tracing::warn!("change tracking is off on the Dynamics contact table: deletions there cannot be seen");
            }
            return Ok(None);
        }
        Err(errors::request_error(400, &e, &self.key_property))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_continues_after_the_last_row_at_its_stamp() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 8, 15, 30).unwrap();
        assert_eq!(
            Position::start(Some(at)).condition().unwrap().unwrap(),
            "(modifiedon gt 2026-12-01T08:15:30Z or modifiedon eq 2026-12-01T08:15:30Z)"
        );
        let p = Position {
            stamp: Some(at.timestamp()),
            id: Some("6F9619FF-8B86-D011-B42D-00C04FC964FF".into()),
            next: None,
        };
        assert_eq!(
            p.condition().unwrap().unwrap(),
            "(modifiedon gt 2026-12-01T08:15:30Z or (modifiedon eq 2026-12-01T08:15:30Z and contactid gt 6f9619ff-8b86-d011-b42d-00c04fc964ff))"
        );
        let hostile = Position {
            id: Some("x) or (1 eq 1".into()),
            ..p
        };
        assert!(hostile.condition().is_err());
        assert_eq!(Position::decode(&hostile.encode()).unwrap(), hostile);
    }
}
