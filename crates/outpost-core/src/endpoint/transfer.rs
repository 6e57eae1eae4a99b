//! The endpoint export format (`outpost endpoints export` / `import`), for
//! rolling one configuration out to a fleet. It never holds a secret; those
//! travel separately as `{"NAME": {"token": "..."}}`.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::secret_input::SecretsInput;
use super::EndpointConfig;
use crate::error::FieldError;

pub const EXPORT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointExport {
    pub version: u32,
    pub endpoints: Vec<EndpointConfig>,
}

impl EndpointExport {
    pub fn new(endpoints: Vec<EndpointConfig>) -> Self {
        EndpointExport {
            version: EXPORT_VERSION,
            endpoints,
        }
    }

    /// Reads an export; a problem is reported against `file` or `version`.
    pub fn parse(text: &str) -> Result<Self, FieldError> {
        let export: EndpointExport = serde_json::from_str(text)
            .map_err(|e| FieldError::new("file", format!("not an Outpost endpoint export: {e}")))?;
        if export.version != EXPORT_VERSION {
            return Err(FieldError::new(
                "version",
                format!("unsupported export version {}", export.version),
            ));
        }
        Ok(export)
    }
}

/// The secrets that go with an import, by endpoint name.
pub fn parse_secrets(text: &str) -> Result<HashMap<String, SecretsInput>, FieldError> {
    serde_json::from_str(text).map_err(|e| {
        FieldError::new(
            "secrets",
            format!("expected {{\"NAME\": {{\"token\": \"...\"}}}}: {e}"),
        )
    })
}
