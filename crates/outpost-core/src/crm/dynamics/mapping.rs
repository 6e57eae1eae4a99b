//! Outpost's customer ↔ a Dataverse contact: the default field map (logical
//! column names), the body of an upsert, the `$select` of a read, and a
//! row as a [`RemoteCustomer`]. `company` is a plain text column here
//! (Dataverse's `parentcustomerid` is a lookup Outpost does not create);
//! `notes` is not mapped by default, since the contact table's
//! `description` column is not offered by every environment (an admin maps
//! it with `--map notes=description`).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::crm::connector::RemoteCustomer;
use crate::crm::field_map::{Conversion, FieldMap, MapEntry};
use crate::customer::{Customer, Field};

pub const ID: &str = "contactid";
pub const MODIFIED: &str = "modifiedon";
pub const ETAG: &str = "@odata.etag";

pub const DEFAULT_MAP: &[MapEntry] = &[
    MapEntry::both(Field::FirstName, "firstname", Conversion::Text),
    MapEntry::both(Field::LastName, "lastname", Conversion::Text),
    MapEntry::both(Field::Email, "emailaddress1", Conversion::Email),
    MapEntry::both(Field::Phone, "telephone1", Conversion::PhoneAsTyped),
    MapEntry::both(Field::Company, "company", Conversion::Text),
    MapEntry::both(Field::Street, "address1_line1", Conversion::Text),
    MapEntry::both(Field::PostalCode, "address1_postalcode", Conversion::Text),
    MapEntry::both(Field::City, "address1_city", Conversion::Text),
    MapEntry::both(Field::Country, "address1_country", Conversion::CountryName),
];

/// An upsert's body: the mapped columns and the CRM-specific ones
/// (attributes; a whole number where the column takes one, see
/// [`typed`]), without the key (the URL carries it; Dataverse fills the
/// key column from it).
pub fn record(c: &Customer, map: &FieldMap, numeric: &dyn Fn(&str) -> bool) -> Map<String, Value> {
    map.outgoing(c)
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) if numeric(&k) => typed(&s),
                v => v,
            };
            (k, v)
        })
        .collect()
}

/// A picklist's value travels as a number (`"2"` → `2`); anything else as text.
pub fn typed(value: &str) -> Value {
    value
        .trim()
        .parse::<i64>()
        .map_or_else(|_| Value::String(value.to_owned()), Value::from)
}

/// The columns a read asks for: the id, the mapped ones (valid names
/// only), the key and the stamp.
pub fn select(map: &FieldMap, key_property: &str, extra: &[String]) -> String {
    let mut out: Vec<String> = vec![ID.into()];
    for f in map
        .crm_fields_read()
        .map(str::to_owned)
        .chain(extra.iter().cloned())
        .chain([key_property.to_owned(), MODIFIED.into()])
    {
        if super::odata::is_name(&f) && !out.contains(&f) {
            out.push(f);
        }
    }
    out.join(",")
}

/// A row as a query or a GET returns it.
pub fn remote(
    row: &Map<String, Value>,
    key_property: &str,
    map: &FieldMap,
) -> Option<RemoteCustomer> {
    let s = |k: &str| {
        row.get(k)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let (fields, received) = map.incoming_json(row);
    Some(RemoteCustomer {
        crm_id: s(ID)?,
        key: s(key_property).and_then(|k| k.parse().ok()),
        fields,
        received,
        updated_at: s(MODIFIED).and_then(|t| parse_time(&t)),
        version: s(ETAG),
    })
}

pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The row id at the end of an `OData-EntityId` (`…/contacts(<guid>)`).
pub fn id_of_entity(entity_id: &str) -> Option<String> {
    let inner = entity_id.trim().strip_suffix(')')?;
    let start = inner.rfind('(')?;
    super::odata::guid(&inner[start + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_id_comes_from_odata_entity_id() {
        assert_eq!(
            id_of_entity("https://org.crm.dynamics.com/api/data/v9.2/contacts(6F9619FF-8B86-D011-B42D-00C04FC964FF)").as_deref(),
            Some("6f9619ff-8b86-d011-b42d-00c04fc964ff")
        );
        // An alternate key is not an id.
        assert!(id_of_entity("http://h/api/data/v9.2/contacts(outpost_key='k')").is_none());
        assert!(id_of_entity("nonsense").is_none());
    }

    #[test]
    fn rows_and_selects() {
        let map = FieldMap::new(DEFAULT_MAP);
        let sel = select(&map, "outpost_key", &["bad,name".into()]);
        assert!(sel.starts_with("contactid,firstname,lastname,emailaddress1"));
        assert!(sel.ends_with("outpost_key,modifiedon"));
        let row = serde_json::json!({
            "@odata.etag": "W/\"12\"", "contactid": "6f9619ff-8b86-d011-b42d-00c04fc964ff",
            "lastname": "Lee", "emailaddress1": "Ann@Example.com", "address1_country": "Germany",
            "modifiedon": "2026-12-01T08:15:30Z", "outpost_key": "not a key"
        });
        let r = remote(row.as_object().unwrap(), "outpost_key", &map).unwrap();
        assert_eq!(r.version.as_deref(), Some("W/\"12\""));
        assert_eq!(r.fields.email.as_deref(), Some("ann@example.com"));
        assert_eq!(r.fields.country.as_deref(), Some("DE"));
        assert!(r.key.is_none());
        assert_eq!(typed("2"), Value::from(2));
        assert_eq!(typed("Web"), Value::from("Web"));
    }
}
