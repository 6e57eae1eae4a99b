//! Timestamps are stored as fixed-width RFC 3339 UTC text with milliseconds,
//! so they sort as text and read back exactly as written.

use chrono::{DateTime, SubsecRound, Utc};

use crate::error::{Error, Result};

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

pub(crate) fn to_db(t: DateTime<Utc>) -> String {
    t.format(FORMAT).to_string()
}

pub(crate) fn from_db(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Corrupt(format!("timestamp {s:?}: {e}")))
}
