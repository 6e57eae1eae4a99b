//! Incremental listing of contacts through HubSpot's search API, which never
//! pages past 10,000 results per query.
//!
//! A pass walks time windows: "modified at or after T, oldest first". When a
//! window reaches the cap, the next window starts at the last record's
//! modification time (records at that instant come again; the store ignores
//! repeats). If more than 10,000 contacts share one millisecond (a bulk
//! import), that instant is walked by record id instead, then the pass moves
//! on to the next millisecond. The position is the page cursor, so a pass
//! resumes after a crash exactly where it stopped.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::SEARCH_PAGE;
use crate::crm::connector::{PullFilter, RemoteCustomer};
use crate::crm::error::ConnectorError;

/// HubSpot's search result cap: `after` may not reach it.
pub const RESULT_CAP: usize = 10_000;

const MODIFIED: &str = "lastmodifieddate";
const ID: &str = "hs_object_id";
const OWNER: &str = "hubspot_owner_id";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "w", rename_all = "snake_case")]
pub enum Position {
    /// Modified at or after `from` (epoch ms), the page at offset `after`.
    Window { from: i64, after: usize },
    /// Modified exactly at `at`, ids greater than `id`.
    Instant { at: i64, id: u64 },
}

impl Position {
    pub fn start(since: Option<DateTime<Utc>>) -> Self {
        Position::Window {
            from: since.map_or(0, |t| t.timestamp_millis()),
            after: 0,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a position serializes")
    }

    pub fn decode(cursor: &str) -> Result<Self, ConnectorError> {
        serde_json::from_str(cursor)
            .map_err(|e| ConnectorError::Protocol(format!("stored pull cursor {cursor:?}: {e}")))
    }

    /// The search request body for this page.
    pub fn request(&self, properties: &[String], filter: &PullFilter) -> Value {
        let mut scope: Vec<Value> = Vec::new();
        if let Some(country) = &filter.country {
            scope.push(json!({"propertyName": "country", "operator": "EQ", "value": country}));
        }
        if let Some(owner) = &filter.owner {
            scope.push(json!({"propertyName": OWNER, "operator": "EQ", "value": owner}));
        }
        let filters = |mut own: Vec<Value>| {
            own.extend(scope.iter().cloned());
            json!([{ "filters": own }])
        };
        match *self {
            Position::Window { from, after } => {
                let mut body = json!({
                    "filterGroups": filters(vec![
                        json!({"propertyName": MODIFIED, "operator": "GTE", "value": from.to_string()})
                    ]),
                    "sorts": [{"propertyName": MODIFIED, "direction": "ASCENDING"}],
                    "properties": properties,
                    "limit": SEARCH_PAGE,
                });
                if after > 0 {
                    body["after"] = json!(after.to_string());
                }
                body
            }
            Position::Instant { at, id } => json!({
                "filterGroups": filters(vec![
                    json!({"propertyName": MODIFIED, "operator": "EQ", "value": at.to_string()}),
                    json!({"propertyName": ID, "operator": "GT", "value": id.to_string()})
                ]),
                "sorts": [{"propertyName": ID, "direction": "ASCENDING"}],
                "properties": properties,
                "limit": SEARCH_PAGE,
            }),
        }
    }

    /// Where the pass goes after a page with `items` whose paging said
    /// `next_after`; `None` when the pass is complete.
    pub fn next(
        &self,
        items: &[RemoteCustomer],
        next_after: Option<usize>,
    ) -> Result<Option<Position>, ConnectorError> {
        match *self {
            Position::Window { from, .. } => match next_after {
                None => Ok(None),
                // Checked: `after` is the CRM's number (a huge one crossed the cap).
                Some(after)
                    if after
                        .checked_add(SEARCH_PAGE)
                        .is_some_and(|end| end <= RESULT_CAP) =>
                {
                    Ok(Some(Position::Window { from, after }))
                }
                Some(_) => {
                    // The next page would cross the cap: open a new window.
                    let last = items.last().ok_or_else(|| {
                        ConnectorError::Protocol("a full search page without results".into())
                    })?;
                    let last_ms = modified_ms(last)?;
                    Ok(Some(if last_ms > from {
                        Position::Window {
                            from: last_ms,
                            after: 0,
                        }
                    } else {
                        Position::Instant {
                            at: from,
                            id: crm_id(last)?,
                        }
                    }))
                }
            },
            Position::Instant { at, .. } => match items.last() {
                Some(last) if items.len() >= SEARCH_PAGE => Ok(Some(Position::Instant {
                    at,
                    id: crm_id(last)?,
                })),
                _ => Ok(Some(Position::Window {
                    from: at + 1,
                    after: 0,
                })),
            },
        }
    }
}

fn modified_ms(r: &RemoteCustomer) -> Result<i64, ConnectorError> {
    r.updated_at
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| ConnectorError::Protocol(format!("contact {} has no {MODIFIED}", r.crm_id)))
}

fn crm_id(r: &RemoteCustomer) -> Result<u64, ConnectorError> {
    r.crm_id
        .parse()
        .map_err(|_| ConnectorError::Protocol(format!("contact id {:?} is not a number", r.crm_id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: u64, ms: i64) -> RemoteCustomer {
        RemoteCustomer {
            crm_id: id.to_string(),
            key: None,
            fields: Default::default(),
            received: Default::default(),
            updated_at: DateTime::from_timestamp_millis(ms),
            version: None,
        }
    }

    #[test]
    fn pages_inside_a_window_until_the_cap_then_a_new_window() {
        let p = Position::start(DateTime::from_timestamp_millis(1000));
        let page = vec![contact(1, 1000), contact(2, 1500)];
        assert_eq!(
            p.next(&page, Some(200)).unwrap(),
            Some(Position::Window {
                from: 1000,
                after: 200
            })
        );
        let deep = Position::Window {
            from: 1000,
            after: 9800,
        };
        assert_eq!(
            deep.next(&page, Some(10_000)).unwrap(),
            Some(Position::Window {
                from: 1500,
                after: 0
            })
        );
        assert_eq!(deep.next(&page, None).unwrap(), None);
    }

    #[test]
    fn more_than_the_cap_in_one_millisecond_walks_by_id() {
        let deep = Position::Window {
            from: 1000,
            after: 9800,
        };
        let page = vec![contact(41, 1000), contact(42, 1000)];
        let by_id = deep.next(&page, Some(10_000)).unwrap().unwrap();
        assert_eq!(by_id, Position::Instant { at: 1000, id: 42 });
        // A short page ends the instant; the walk goes on after it.
        assert_eq!(
            by_id.next(&page, None).unwrap(),
            Some(Position::Window {
                from: 1001,
                after: 0
            })
        );
        assert_eq!(Position::decode(&by_id.encode()).unwrap(), by_id);
    }

    /// Found by the `hubspot_response` fuzz target's property: a paging
    /// offset near `usize::MAX` overflowed (a panic in debug builds).
    #[test]
    fn a_huge_paging_offset_opens_a_new_window() {
        let p = Position::start(DateTime::from_timestamp_millis(1000));
        let page = vec![contact(1, 1000), contact(2, 1500)];
        assert_eq!(
            p.next(&page, Some(usize::MAX)).unwrap(),
            Some(Position::Window {
                from: 1500,
                after: 0
            })
        );
    }
}
