//! A pull's place in a listing ordered by (modification stamp, CRM id).
//!
//! CRMs stamp modifications in whole seconds, so many records share one
//! stamp (a month-end batch update gives thousands). The position keeps the
//! last record's stamp and id as well as the CRM's own link to the next
//! page: when the link is gone (expired, or the process stopped), a new
//! listing starts just after that record, and nothing is skipped or read
//! twice. Each connector renders [`Keyset::after_condition`]'s parts in its
//! own query language; one whose listing cannot say "after this id" drops
//! the rows [`Keyset::has_read`] says it already read.

use chrono::{DateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::ConnectorError;

/// Where a pass stands. Stored as JSON in the working set's cursor, so the
/// field names are a format: keep them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keyset {
    /// Records from this stamp (epoch seconds) on...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp: Option<i64>,
    /// ...and, at that stamp, ids after this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The CRM's link (or token) to the next page, while it lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// Records after a position: those stamped later than `at`, and at `at`
/// those whose id comes after `id` (with no id, every record at `at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct After<'a> {
    pub at: DateTime<Utc>,
    pub id: Option<&'a str>,
}

/// Which of a record's fields carry the order.
#[derive(Debug, Clone, Copy)]
pub struct Order {
    pub stamp_field: &'static str,
    pub id_field: &'static str,
    pub parse_time: fn(&str) -> Option<DateTime<Utc>>,
}

impl Keyset {
    pub fn start(since: Option<DateTime<Utc>>) -> Self {
        Keyset {
            stamp: since.map(|t| t.timestamp()),
            ..Keyset::default()
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a position serializes")
    }

    pub fn decode(cursor: &str) -> Result<Self, ConnectorError> {
        serde_json::from_str(cursor)
            .map_err(|e| ConnectorError::Protocol(format!("stored pull cursor {cursor:?}: {e}")))
    }

    /// "After this position", for a query; `None` from the start.
    pub fn after_condition(&self) -> Result<Option<After<'_>>, ConnectorError> {
        let Some(stamp) = self.stamp else {
            return Ok(None);
        };
        let at = Utc
            .timestamp_opt(stamp, 0)
            .single()
            .ok_or_else(|| ConnectorError::Protocol(format!("pull cursor stamp {stamp}")))?;
        Ok(Some(After {
            at,
            id: self.id.as_deref(),
        }))
    }

    /// Whether a record at `stamp` with `id` lies at or before this
    /// position. Ids compare as the CRM orders them: by length, then
    /// bytewise, which orders both numeric ids and fixed-width ones.
    pub fn has_read(&self, stamp: DateTime<Utc>, id: &str) -> bool {
        let Some(at) = self.stamp else { return false };
        let stamp = stamp.timestamp();
        match stamp.cmp(&at) {
            std::cmp::Ordering::Less => true,
            std::cmp::Ordering::Greater => false,
            std::cmp::Ordering::Equal => self
                .id
                .as_deref()
                .is_some_and(|last| (id.len(), id) <= (last.len(), last)),
        }
    }

    /// After a page: from its last record on, with the page's link; `None`
    /// when the listing is done.
    pub fn after(
        records: &[Map<String, Value>],
        next: Option<String>,
        order: Order,
    ) -> Result<Option<Self>, ConnectorError> {
        let Some(next) = next else { return Ok(None) };
        let last = records.last().ok_or_else(|| {
            ConnectorError::Protocol("a page with more to come but no records".into())
        })?;
        let (stamp, id) = order.of(last)?;
        Ok(Some(Keyset {
            stamp: Some(stamp.timestamp()),
            id: Some(id.to_owned()),
            next: Some(next),
        }))
    }
}

impl Order {
    /// A record's place in the order.
    pub fn of<'r>(
        &self,
        record: &'r Map<String, Value>,
    ) -> Result<(DateTime<Utc>, &'r str), ConnectorError> {
        let stamp = record
            .get(self.stamp_field)
            .and_then(Value::as_str)
            .and_then(self.parse_time)
            .ok_or_else(|| {
                ConnectorError::Protocol(format!("a record without {}", self.stamp_field))
            })?;
        let id = record
            .get(self.id_field)
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ConnectorError::Protocol(format!("a record without {}", self.id_field))
            })?;
        Ok((stamp, id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rfc3339(t: &str) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    const ORDER: Order = Order {
        stamp_field: "Modified",
        id_field: "Id",
        parse_time: rfc3339,
    };

    fn record(stamp: &str, id: &str) -> Map<String, Value> {
        json!({"Modified": stamp, "Id": id})
            .as_object()
            .unwrap()
            .clone()
    }

    #[test]
    fn a_stored_cursor_keeps_its_format() {
        // Cursors written by earlier versions must still decode.
        let old = r#"{"stamp":1700000000,"id":"003A","next":"/q/01gA-2000"}"#;
        let k = Keyset::decode(old).unwrap();
        assert_eq!(k.stamp, Some(1_700_000_000));
        assert_eq!(k.encode(), old);
        let hostile = Keyset {
            stamp: Some(1),
            id: Some("x' or 1=1 --\"}".into()),
            next: Some("\u{0}".into()),
        };
        assert_eq!(Keyset::decode(&hostile.encode()).unwrap(), hostile);
        assert!(Keyset::decode("not json").is_err());
    }

    #[test]
    fn after_a_page_the_position_is_its_last_record() {
        let page = [
            record("2026-12-04T10:00:00Z", "7"),
            record("2026-12-04T10:00:00Z", "10"),
        ];
        assert!(Keyset::after(&page, None, ORDER).unwrap().is_none());
        let k = Keyset::after(&page, Some("t".into()), ORDER)
            .unwrap()
            .unwrap();
        assert_eq!(k.id.as_deref(), Some("10"));
        let after = k.after_condition().unwrap().unwrap();
        assert_eq!(after.at, rfc3339("2026-12-04T10:00:00Z").unwrap());
        assert_eq!(after.id, Some("10"));
        assert!(Keyset::after(&[], Some("t".into()), ORDER).is_err());
        assert!(Keyset::after(&[record("yesterday", "1")], Some("t".into()), ORDER).is_err());
    }

    #[test]
    fn records_at_or_before_the_position_are_read() {
        let at = rfc3339("2026-12-04T10:00:00Z").unwrap();
        let k = Keyset {
            stamp: Some(at.timestamp()),
            id: Some("10".into()),
            next: None,
        };
        let earlier = at - chrono::Duration::seconds(1);
        let later = at + chrono::Duration::seconds(1);
        assert!(k.has_read(earlier, "99"));
        assert!(k.has_read(at, "9"), "numeric ids order by length first");
        assert!(k.has_read(at, "10"));
        assert!(!k.has_read(at, "11"));
        assert!(!k.has_read(at, "100"));
        assert!(!k.has_read(later, "1"));
        assert!(
            !Keyset::start(Some(at)).has_read(at, "1"),
            "no id: the stamp is still to read"
        );
        assert!(!Keyset::default().has_read(earlier, "1"));
    }
}
