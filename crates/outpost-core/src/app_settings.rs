//! Settings of this device rather than of an endpoint (stored in the
//! `app_settings` table): for now the region phone numbers typed without a
//! country code are read in.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::customer::phone::Region;
use crate::error::{FieldError, ValidationErrors};

/// The `app_settings` key of the default region.
pub(crate) const DEFAULT_REGION_KEY: &str = "default_region";

/// The message for a default region that is not one.
pub const REGION_INVALID: &str =
    "Not a country with phone numbers: use a two-letter code like DE, FR or US.";

/// Where the default region in effect comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum RegionSource {
    /// Set in Settings or with `outpost settings set`.
    Setting,
    /// The OS locale's territory (`LANG=de_DE.UTF-8`), nothing set.
    Locale,
}

/// The device's settings as `outpost settings show` and the Settings screen
/// show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct AppSettings {
    /// The region a phone number without a country code is read in; `null`
    /// when there is none (such numbers are then refused, asking for one).
    #[ts(type = "string | null")]
    pub default_region: Option<Region>,
    pub default_region_source: Option<RegionSource>,
    /// The OS locale's region: what the default is when nothing is set.
    #[ts(type = "string | null")]
    pub locale_region: Option<Region>,
}

impl AppSettings {
    pub(crate) fn new(setting: Option<Region>, locale: Option<Region>) -> Self {
        let (default_region, default_region_source) = match (setting, locale) {
            (Some(r), _) => (Some(r), Some(RegionSource::Setting)),
            (None, Some(r)) => (Some(r), Some(RegionSource::Locale)),
            (None, None) => (None, None),
        };
        AppSettings {
            default_region,
            default_region_source,
            locale_region: locale,
        }
    }
}

/// The settings as entered (IPC, CLI): untrusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, TS)]
#[serde(deny_unknown_fields)]
#[ts(export)]
pub struct AppSettingsInput {
    /// An ISO 3166-1 alpha-2 code ("DE"); `null` or blank follows the OS
    /// locale again.
    pub default_region: Option<String>,
}

impl AppSettingsInput {
    /// The region to store (`None`: follow the locale), or the field error.
    pub fn region(&self) -> Result<Option<Region>, ValidationErrors> {
        let Some(code) = self
            .default_region
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        else {
            return Ok(None);
        };
        Region::parse(code).map(Some).ok_or_else(|| {
            ValidationErrors(vec![FieldError::new(DEFAULT_REGION_KEY, REGION_INVALID)])
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_setting_wins_over_the_locale() {
        let de = Region::parse("DE");
        let fr = Region::parse("FR");
        let s = AppSettings::new(de, fr);
        assert_eq!(
            (s.default_region, s.default_region_source),
            (de, Some(RegionSource::Setting))
        );
        let s = AppSettings::new(None, fr);
        assert_eq!(
            (s.default_region, s.default_region_source),
            (fr, Some(RegionSource::Locale))
        );
        assert_eq!(AppSettings::new(None, None).default_region, None);
        let json = serde_json::to_value(AppSettings::new(de, None)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"default_region": "DE", "default_region_source": "setting", "locale_region": null})
        );
    }

    #[test]
    fn a_region_is_checked_and_blank_means_the_locale() {
        let input = |v: Option<&str>| AppSettingsInput {
            default_region: v.map(str::to_owned),
        };
        assert_eq!(input(Some(" de ")).region().unwrap(), Region::parse("DE"));
        assert_eq!(input(Some("")).region().unwrap(), None);
        assert_eq!(input(None).region().unwrap(), None);
        let e = input(Some("Germany")).region().unwrap_err();
        assert!(e
            .for_field("default_region")
            .unwrap()
            .contains("two-letter"));
        assert!(serde_json::from_str::<AppSettingsInput>(r#"{"region": "DE"}"#).is_err());
    }
}
