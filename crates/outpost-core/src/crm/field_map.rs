//! How a connector's customer fields become its CRM's fields and back,
//! stated as data: each connector lists a default [`MapEntry`] per Outpost
//! field it carries (`DEFAULT_MAP` in its folder), and an admin may point
//! a field at another CRM field (`--map notes=description`). The connector
//! code keeps only what is API-specific (transport, batching, paging, error
//! parsing); the values it sends and reads come from here.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::customer::{country, Customer, CustomerFields, Field, FieldSet};

/// Which way a mapped field travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Outpost → CRM only (the CRM's listing does not return it).
    Send,
    /// CRM → Outpost only (e.g. a field the CRM computes).
    Receive,
    Both,
}

impl Direction {
    pub fn sends(self) -> bool {
        matches!(self, Direction::Send | Direction::Both)
    }

    pub fn receives(self) -> bool {
        matches!(self, Direction::Receive | Direction::Both)
    }
}

/// How a value is converted on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// As stored; trimmed on receipt.
    Text,
    /// Lower-cased on receipt (Outpost stores emails lower-cased).
    Email,
    /// The number as the person typed it (separators collapsed).
    PhoneAsTyped,
    /// The number in E.164 ("+491511234567"), for CRMs that want one
    /// canonical form; as typed when it has none (a pulled record Outpost
    /// could not read). Kept as received on the way back: the store reads
    /// it again (`validation::from_remote`).
    PhoneE164,
    /// ISO 3166-1 alpha-2 both ways ("DE").
    CountryCode,
    /// The country's English name for the CRM ("Germany"); a name, alias
    /// or code the CRM returns becomes the ISO code again.
    CountryName,
}

impl Conversion {
    /// The CRM's value for `value`, one of `c`'s fields.
    pub fn outgoing(self, value: &str, c: &Customer) -> String {
        match self {
            Conversion::CountryName => country::name(value)
                .map(str::to_owned)
                .unwrap_or_else(|| value.to_owned()),
            Conversion::PhoneE164 => c.phone_e164.as_deref().unwrap_or(value).to_owned(),
            _ => value.to_owned(),
        }
    }

    pub fn incoming(self, value: &str) -> Option<String> {
        let value = value.trim();
        if value.is_empty() {
            return None;
        }
        Some(match self {
            Conversion::Email => value.to_lowercase(),
            Conversion::CountryName | Conversion::CountryCode => {
                country::code_for(value).map_or_else(|| value.to_owned(), str::to_owned)
            }
            Conversion::Text | Conversion::PhoneAsTyped | Conversion::PhoneE164 => value.to_owned(),
        })
    }
}

/// One line of a connector's default map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MapEntry {
    pub field: Field,
    /// The CRM's field (or property) name.
    pub crm: &'static str,
    pub direction: Direction,
    pub conversion: Conversion,
}

impl MapEntry {
    pub const fn both(field: Field, crm: &'static str, conversion: Conversion) -> Self {
        MapEntry {
            field,
            crm,
            direction: Direction::Both,
            conversion,
        }
    }

    pub const fn send(field: Field, crm: &'static str, conversion: Conversion) -> Self {
        MapEntry {
            field,
            crm,
            direction: Direction::Send,
            conversion,
        }
    }
}

/// One mapped field in effect: a default, or an admin's override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub field: Field,
    pub crm: String,
    pub direction: Direction,
    pub conversion: Conversion,
    /// An admin's override rather than the connector's default.
    pub overridden: bool,
}

/// The mapping an endpoint uses: its connector's defaults with the admin's
/// overrides applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    mappings: Vec<Mapping>,
}

impl FieldMap {
    pub fn new(defaults: &[MapEntry]) -> Self {
        FieldMap {
            mappings: defaults
                .iter()
                .map(|e| Mapping {
                    field: e.field,
                    crm: e.crm.to_owned(),
                    direction: e.direction,
                    conversion: e.conversion,
                    overridden: false,
                })
                .collect(),
        }
    }

    /// The defaults with an admin's overrides. An override travels both
    /// ways (the admin mapped it to see it again after a pull; every
    /// connector's listing returns the fields it can write); a field mapped
    /// by default keeps its conversion under the new CRM name, one the
    /// connector does not carry by default converts by its type.
    pub fn with_overrides(defaults: &[MapEntry], overrides: &BTreeMap<Field, String>) -> Self {
        let mut map = FieldMap::new(defaults);
        for (&field, crm) in overrides {
            match map.mappings.iter_mut().find(|m| m.field == field) {
                Some(m) if m.crm == *crm => {}
                Some(m) => {
                    m.crm = crm.clone();
                    m.direction = Direction::Both;
                    m.overridden = true;
                }
                None => map.mappings.push(Mapping {
                    field,
                    crm: crm.clone(),
                    direction: Direction::Both,
                    conversion: default_conversion(field),
                    overridden: true,
                }),
            }
        }
        map.mappings.sort_by_key(|m| m.field);
        map
    }

    pub fn mappings(&self) -> &[Mapping] {
        &self.mappings
    }

    /// The CRM field an Outpost field is sent to or read from.
    pub fn crm_field(&self, field: Field) -> Option<&str> {
        self.mappings
            .iter()
            .find(|m| m.field == field)
            .map(|m| m.crm.as_str())
    }

    /// The Outpost field behind a CRM field (to name it in a refusal).
    pub fn outpost_field(&self, crm: &str) -> Option<Field> {
        self.mappings
            .iter()
            .find(|m| m.crm.eq_ignore_ascii_case(crm))
            .map(|m| m.field)
    }

    /// The fields this CRM sends back.
    pub fn received(&self) -> FieldSet {
        self.mappings
            .iter()
            .filter(|m| m.direction.receives())
            .map(|m| m.field)
            .collect()
    }

    /// The CRM fields to ask for when reading.
    pub fn crm_fields_read(&self) -> impl Iterator<Item = &str> {
        self.mappings
            .iter()
            .filter(|m| m.direction.receives())
            .map(|m| m.crm.as_str())
    }

    /// The effective mapping as `endpoints show` prints it.
    pub fn as_names(&self) -> BTreeMap<String, String> {
        self.mappings
            .iter()
            .map(|m| (m.field.name().to_owned(), m.crm.clone()))
            .collect()
    }

    /// A customer's values for the CRM, converted; absent fields are left
    /// out. CRM-specific attributes follow under their own names unless a
    /// mapped field already took the name.
    pub fn outgoing(&self, c: &Customer) -> Map<String, Value> {
        let mut out = Map::new();
        for m in self.mappings.iter().filter(|m| m.direction.sends()) {
            if let Some(v) = c.fields.get(m.field) {
                out.insert(m.crm.clone(), Value::String(m.conversion.outgoing(v, c)));
            }
        }
        for (k, v) in &c.attributes {
            out.entry(k.clone())
                .or_insert_with(|| Value::String(v.clone()));
        }
        out
    }

    /// The mapping that sends `field`, if the map sends it.
    pub fn sent(&self, field: Field) -> Option<&Mapping> {
        self.mappings
            .iter()
            .find(|m| m.field == field && m.direction.sends())
    }

    /// The Outpost fields of a CRM record, read by CRM field name; blank
    /// values are absent. Returns the values and the fields received.
    pub fn incoming<'a>(
        &self,
        read: impl Fn(&str) -> Option<&'a str>,
    ) -> (CustomerFields, FieldSet) {
        let mut fields = CustomerFields::default();
        for m in self.mappings.iter().filter(|m| m.direction.receives()) {
            *fields.slot(m.field) = read(&m.crm).and_then(|v| m.conversion.incoming(v));
        }
        (fields, self.received())
    }

    /// [`FieldMap::incoming`] from a JSON object of the CRM's fields.
    pub fn incoming_json(&self, record: &Map<String, Value>) -> (CustomerFields, FieldSet) {
        self.incoming(|name| record.get(name).and_then(Value::as_str))
    }
}

/// How a field an admin maps (without a default) converts.
fn default_conversion(field: Field) -> Conversion {
    use crate::customer::FieldType;
    match field.spec().kind {
        FieldType::Email => Conversion::Email,
        FieldType::Phone => Conversion::PhoneAsTyped,
        FieldType::Country => Conversion::CountryCode,
        FieldType::Text | FieldType::Multiline => Conversion::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &[MapEntry] = &[
        MapEntry::both(Field::FirstName, "firstname", Conversion::Text),
        MapEntry::both(Field::Email, "email", Conversion::Email),
        MapEntry::both(Field::Country, "country", Conversion::CountryName),
        MapEntry::send(Field::Notes, "description", Conversion::Text),
    ];

    fn customer() -> Customer {
        let now = chrono::Utc::now();
        Customer {
            id: crate::CustomerId(uuid::Uuid::now_v7()),
            fields: CustomerFields::default()
                .with(Field::FirstName, "Ada")
                .with(Field::Email, "ada@example.org")
                .with(Field::Country, "DE")
                .with(Field::Notes, "VIP")
                .with(Field::TaxId, "DE123")
                .with(Field::Phone, "0151 1234567"),
            phone_e164: Some("+491511234567".into()),
            crm_id: None,
            sync_state: crate::SyncState::Pending,
            created_at: now,
            updated_at: now,
            origin: Default::default(),
            attributes: [("lead_source".to_owned(), "walk_in".to_owned())].into(),
            crm_updated_at: None,
            crm_version: None,
            crm_version_tag: None,
            pending_edit: false,
            crm_deleted_at: None,
        }
    }

    #[test]
    fn values_are_converted_both_ways() {
        let map = FieldMap::new(MAP);
        let out = map.outgoing(&customer());
        assert_eq!(out["country"], "Germany");
        assert_eq!(out["description"], "VIP");
        assert_eq!(out["lead_source"], "walk_in");
        assert!(
            !out.contains_key(Field::TaxId.name()),
            "unmapped fields are not sent"
        );

        let back = serde_json::json!({"firstname": " Ada ", "email": "ADA@Example.org", "country": "Germany", "description": "x"});
        let (fields, received) = map.incoming_json(back.as_object().unwrap());
        assert_eq!(fields.first_name.as_deref(), Some("Ada"));
        assert_eq!(fields.email.as_deref(), Some("ada@example.org"));
        assert_eq!(fields.country.as_deref(), Some("DE"));
        assert_eq!(fields.notes, None, "a send-only field is not read");
        assert!(received.contains(Field::Email) && !received.contains(Field::Notes));
    }

    #[test]
    fn a_phone_goes_as_typed_or_in_e164_and_comes_back_as_received() {
        let typed = FieldMap::new(&[MapEntry::both(
            Field::Phone,
            "phone",
            Conversion::PhoneAsTyped,
        )]);
        let e164 = FieldMap::new(&[MapEntry::both(Field::Phone, "phone", Conversion::PhoneE164)]);
        let c = customer();
        assert_eq!(typed.outgoing(&c)["phone"], "0151 1234567");
        assert_eq!(e164.outgoing(&c)["phone"], "+491511234567");
        let unread = Customer {
            phone_e164: None,
            ..customer()
        };
        assert_eq!(
            e164.outgoing(&unread)["phone"],
            "0151 1234567",
            "as typed when unread"
        );

        let back = serde_json::json!({"phone": " +49 151 1234567 "});
        let (fields, _) = e164.incoming_json(back.as_object().unwrap());
        assert_eq!(fields.phone.as_deref(), Some("+49 151 1234567"));
    }

    #[test]
    fn overrides_rename_or_add_a_mapping() {
        let overrides = [
            (Field::FirstName, "given_name".to_owned()),
            (Field::TaxId, "vat_number".to_owned()),
        ]
        .into();
        let map = FieldMap::with_overrides(MAP, &overrides);
        assert_eq!(map.crm_field(Field::FirstName), Some("given_name"));
        assert_eq!(map.crm_field(Field::TaxId), Some("vat_number"));
        assert_eq!(map.outpost_field("VAT_NUMBER"), Some(Field::TaxId));
        let out = map.outgoing(&customer());
        assert_eq!(out["vat_number"], "DE123");
        assert_eq!(out["given_name"], "Ada");
        assert!(map.received().contains(Field::TaxId));
    }
}
