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
//! the listing's resume point, kept with the pull's state, so deletions
//! made while Outpost was closed are seen at the next listing. With change tracking off
//! on the contact table there is no listing: [`Dynamics::change_tracking_off`]
//! says so for "Test connection".

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Map, Value};
use url::Url;

use super::errors::{self, code};
use super::mapping::{self, ID, MODIFIED};
use super::{odata, Dynamics, Payload, PULL_PAGE};
use crate::crm::connector::{DeletedPage, DeletedRecord, Page, PullFilter};
use crate::crm::error::ConnectorError;
use crate::crm::http::{body_or_empty, parse_json};
use crate::crm::keyset::{After, Keyset, Order};

/// Ids per page of the first change-tracking read (Dataverse's maximum).
const TRACK_PAGE: usize = 5000;

/// The pull's order: `modifiedon, contactid`.
const ORDER: Order = Order {
    stamp_field: MODIFIED,
    id_field: ID,
    parse_time: mapping::parse_time,
};

/// The `$filter` "after this position", if there is one.
fn condition(position: &Keyset) -> Result<Option<String>, ConnectorError> {
    let Some(After { at, id }) = position.after_condition()? else {
        return Ok(None);
    };
    let at = odata::datetime(at);
    Ok(Some(match id {
        None => format!("({MODIFIED} gt {at} or {MODIFIED} eq {at})"),
        Some(id) => {
            let id = odata::guid(id)
                .ok_or_else(|| ConnectorError::Protocol(format!("pull cursor id {id:?}")))?;
            format!("({MODIFIED} gt {at} or ({MODIFIED} eq {at} and {ID} gt {id}))")
        }
    }))
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

    fn modified_url(&self, position: &Keyset, filter: &PullFilter) -> Result<Url, ConnectorError> {
        let mut conditions: Vec<String> = condition(position)?.into_iter().collect();
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
            Some(c) => Keyset::decode(&c)?,
            None => Keyset::start(since),
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
        let next = Keyset::after(&answer.value, answer.next_link, ORDER)?;
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

    /// Deletions since the last listing: `cursor` is the delta link (or a
    /// page of it) the last listing ended with, kept by the pull's state
    /// across restarts; without one, every id is read once to learn where
    /// "now" is. `None` when change tracking is off.
    pub(super) async fn deleted_page(
        &self,
        _since: Option<DateTime<Utc>>,
        cursor: Option<String>,
    ) -> Result<Option<DeletedPage>, ConnectorError> {
        let prefer = |page: usize| format!("odata.track-changes,odata.maxpagesize={page}");
        let Some(link) = cursor else {
            // The first read: every id once, to learn where "now" is.
            let mut url = odata::with_query(self.url("contacts"), &[("$select", ID)]);
            loop {
                match self.fetch(url, prefer(TRACK_PAGE)).await? {
                    Fetched::Refused(e) => return self.tracking_refused(e),
                    Fetched::Page(a) => match (a.next_link, a.delta_link) {
                        (Some(next), _) => url = self.own_link(&next)?,
                        (None, Some(d)) => {
                            self.own_link(&d)?;
                            self.tracking_off.store(false, Ordering::Relaxed);
                            return Ok(Some(DeletedPage {
                                items: Vec::new(),
                                next: None,
                                resume: Some(d),
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
            // An old or refused link: the pull lists again without it.
            Fetched::Refused(e) => {
                return self.tracking_refused(e).map_err(|e| {
                    ConnectorError::Protocol(format!(
                        "Dataverse refused the stored delta link: {e}"
                    ))
                });
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
        for link in answer.next_link.iter().chain(&answer.delta_link) {
            self.own_link(link)?;
        }
        match (answer.next_link, answer.delta_link) {
            (Some(next), _) => Ok(Some(DeletedPage {
                items,
                next: Some(next),
                resume: None,
            })),
            (None, Some(d)) => Ok(Some(DeletedPage {
                items,
                next: None,
                resume: Some(d),
            })),
            (None, None) => Err(ConnectorError::Protocol(
                "a change-tracking page without @odata.deltaLink".into(),
            )),
        }
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
    use chrono::TimeZone;

    #[test]
    fn a_position_continues_after_the_last_row_at_its_stamp() {
        let at = Utc.with_ymd_and_hms(2026, 12, 1, 8, 15, 30).unwrap();
        assert_eq!(
            condition(&Keyset::start(Some(at))).unwrap().unwrap(),
            "(modifiedon gt 2026-12-01T08:15:30Z or modifiedon eq 2026-12-01T08:15:30Z)"
        );
        let p = Keyset {
            stamp: Some(at.timestamp()),
            id: Some("6F9619FF-8B86-D011-B42D-00C04FC964FF".into()),
            next: None,
        };
        assert_eq!(
            condition(&p).unwrap().unwrap(),
            "(modifiedon gt 2026-12-01T08:15:30Z or (modifiedon eq 2026-12-01T08:15:30Z and contactid gt 6f9619ff-8b86-d011-b42d-00c04fc964ff))"
        );
        let hostile = Keyset {
            id: Some("x) or (1 eq 1".into()),
            ..p
        };
        assert!(condition(&hostile).is_err());
    }
}
