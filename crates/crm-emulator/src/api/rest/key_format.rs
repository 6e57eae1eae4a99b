//! A CRM that asks for keys in its own format (docs/crm-rest-api.md, "Keys"):
//! UUIDv8 keys carrying the caller's shop number in their last six hex
//! digits, written as decimal digits. Off unless configured.

use axum::http::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::RestError;

/// The layout's name in `GET /metadata`.
pub const LAYOUT: &str = "uuid8-shop";

/// Highest shop number (six decimal digits).
pub const MAX_SHOP: u32 = 999_999;

/// The shop number a key carries, if it has the layout.
pub fn shop_of(key: &str) -> Option<u32> {
    let uuid = Uuid::parse_str(key).ok()?;
    if uuid.get_version_num() != 8 || uuid.get_variant() != uuid::Variant::RFC4122 {
        return None;
    }
    let hex = uuid.simple().to_string();
    let digits = &hex[26..];
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&n| n >= 1)
}

/// `400 invalid_key` unless `key` is a key of `shop`.
pub fn check(key: &str, shop: u32) -> Result<(), RestError> {
    if shop_of(key) == Some(shop) {
        return Ok(());
    }
    Err(RestError::new(
        StatusCode::BAD_REQUEST,
        "invalid_key",
        format!(
            "this CRM asks for keys of shop {shop}: a UUIDv8 whose last six digits are {shop:06} (see key_format in GET /metadata)"
        ),
    )
    .with_field("key"))
}

/// What `GET /metadata` says under `key_format`.
pub fn metadata(shop: u32) -> Value {
    json!({ "layout": LAYOUT, "shop": shop })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shop_from_the_last_six_digits_of_a_version_8_key() {
        assert_eq!(shop_of("0192f0c4-3a10-8005-a3c1-5e9d8f000017"), Some(17));
        assert_eq!(
            shop_of("0192F0C4-3A10-8005-A3C1-5E9D8F999999"),
            Some(999_999)
        );
        // Version 7, a non-decimal tail, shop 0, not a UUID.
        for bad in [
            "0192f0c4-3a10-7005-a3c1-5e9d8f000017",
            "0192f0c4-3a10-8005-a3c1-5e9d8f00001a",
            "0192f0c4-3a10-8005-a3c1-5e9d8f000000",
            "0192f0c4-3a10-8005-c3c1-5e9d8f000017",
            "shop-17",
        ] {
            assert_eq!(shop_of(bad), None, "{bad}");
        }
        assert!(check("0192f0c4-3a10-8005-a3c1-5e9d8f000017", 17).is_ok());
        assert!(check("0192f0c4-3a10-8005-a3c1-5e9d8f000017", 18).is_err());
    }
}
