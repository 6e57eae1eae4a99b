//! The customer's fields, defined once.
//!
//! The one invocation of `customer_fields!` below is the list. Everything
//! that names customer fields follows from it: the [`Field`] enum,
//! [`CustomerFields`] (the values, flattened into every customer type), each
//! field's [`FieldSpec`] (label, limit, type and normalisation, search index,
//! whether it names the customer), and through those the store's columns
//! and binds, validation, the search indexer's columns, the CLI's flags and
//! the TypeScript the UI reads (`ui/src/bindings/model.ts`).
//!
//! Adding a field: one line here, a migration adding its column, and the
//! CRM fields it maps to in each connector's field map (CONTRIBUTING.md).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How a field's value is checked and normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum FieldType {
    /// One line of text, trimmed.
    Text,
    /// Several lines: newlines and tabs are allowed.
    Multiline,
    /// Lower-cased and checked as an address.
    Email,
    /// Parsed as a phone number: the typed form is kept for display, the
    /// E.164 form is what search, the duplicate check and the CRM use.
    Phone,
    /// An ISO 3166-1 alpha-2 code, upper-cased.
    Country,
}

/// Which full-text index finds a customer by this field, in ranking order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SearchIndex {
    /// The names index, first tier: a name or the company.
    Name,
    /// The names index, after the names: where the customer is.
    Place,
    /// The contact index: email and every suffix of the phone's digits.
    Contact,
}

/// Everything Outpost knows about one customer field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct FieldSpec {
    /// The field's snake_case name: the JSON key, the column, the CLI flag.
    #[ts(as = "Field")]
    pub name: &'static str,
    /// What a person reads beside the input.
    pub label: &'static str,
    /// Most characters accepted (after trimming).
    pub max_len: usize,
    #[serde(rename = "type")]
    pub kind: FieldType,
    pub search: Option<SearchIndex>,
    /// A customer needs at least one of the fields that name it (a first or
    /// last name, or a company).
    pub names_customer: bool,
    /// A short example or hint for the CLI's help and the form.
    pub hint: &'static str,
}

macro_rules! customer_fields {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $variant:ident {
            label: $label:literal,
            max_len: $max:expr,
            kind: $kind:ident,
            search: $search:expr,
            names_customer: $names:literal,
            hint: $hint:literal $(,)?
        }
    ),* $(,)?) => {
        /// A customer field, by name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS)]
        #[serde(rename_all = "snake_case")]
        #[ts(export)]
        pub enum Field {
            $($(#[doc = $doc])* $variant),*
        }

        impl Field {
            /// Every field, in form order (which is also column order).
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            pub const fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => stringify!($name)),*
                }
            }

            pub fn spec(self) -> &'static FieldSpec {
                match self {
                    $(Field::$variant => {
                        const SPEC: FieldSpec = FieldSpec {
                            name: stringify!($name),
                            label: $label,
                            max_len: $max,
                            kind: FieldType::$kind,
                            search: $search,
                            names_customer: $names,
                            hint: $hint,
                        };
                        &SPEC
                    }),*
                }
            }
        }

        /// The values of a customer's fields (`None`: not given). Flattened
        /// into every customer type, so the JSON keeps one key per field.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
        #[ts(export, optional_fields = nullable)]
        pub struct CustomerFields {
            $($(#[doc = $doc])* pub $name: Option<String>,)*
        }

        impl CustomerFields {
            pub fn get(&self, field: Field) -> Option<&str> {
                match field {
                    $(Field::$variant => self.$name.as_deref()),*
                }
            }

            pub fn slot(&mut self, field: Field) -> &mut Option<String> {
                match field {
                    $(Field::$variant => &mut self.$name),*
                }
            }
        }
    };
}

customer_fields! {
    first_name: FirstName {
        label: "First name", max_len: 100, kind: Text,
        search: Some(SearchIndex::Name), names_customer: true, hint: "Ada",
    },
    last_name: LastName {
        label: "Last name", max_len: 100, kind: Text,
        search: Some(SearchIndex::Name), names_customer: true, hint: "Lovelace",
    },
    company: Company {
        label: "Company", max_len: 200, kind: Text,
        search: Some(SearchIndex::Name), names_customer: true, hint: "Analytical Engines Ltd",
    },
    email: Email {
        label: "Email", max_len: 254, kind: Email,
        search: Some(SearchIndex::Contact), names_customer: false, hint: "ada@example.com",
    },
    /// As typed (separators collapsed).
    phone: Phone {
        label: "Phone", max_len: 32, kind: Phone,
        search: Some(SearchIndex::Contact), names_customer: false, hint: "+49 30 1234567",
    },
    street: Street {
        label: "Street", max_len: 200, kind: Text,
        search: None, names_customer: false, hint: "12 Main Street",
    },
    postal_code: PostalCode {
        label: "Postal code", max_len: 20, kind: Text,
        search: None, names_customer: false, hint: "10115",
    },
    city: City {
        label: "City", max_len: 100, kind: Text,
        search: Some(SearchIndex::Place), names_customer: false, hint: "Berlin",
    },
    /// ISO 3166-1 alpha-2, e.g. "DE".
    country: Country {
        label: "Country", max_len: 200, kind: Country,
        search: None, names_customer: false, hint: "DE",
    },
    tax_id: TaxId {
        label: "Tax ID", max_len: 32, kind: Text,
        search: None, names_customer: false, hint: "DE123456789",
    },
    notes: Notes {
        label: "Notes", max_len: 2000, kind: Multiline,
        search: None, names_customer: false, hint: "Prefers email",
    },
}

impl Field {
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The fields that name a customer; at least one must be given.
    pub fn naming() -> impl Iterator<Item = Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(|f| f.spec().names_customer)
    }

    /// The fields a full-text index holds, in column order.
    pub fn indexed_in(index: impl Fn(SearchIndex) -> bool) -> impl Iterator<Item = Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(move |f| f.spec().search.is_some_and(&index))
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl CustomerFields {
    /// The fields that have a value, in form order.
    pub fn iter(&self) -> impl Iterator<Item = (Field, &str)> {
        Field::ALL
            .iter()
            .filter_map(|&f| self.get(f).map(|v| (f, v)))
    }

    /// Sets one field, builder style (tests, imports, connectors).
    pub fn with(mut self, field: Field, value: impl Into<String>) -> Self {
        *self.slot(field) = Some(value.into());
        self
    }
}

/// A set of fields, e.g. the ones a connector's map receives from its CRM.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct FieldSet(u32);

impl FieldSet {
    pub const fn empty() -> Self {
        FieldSet(0)
    }

    pub fn all() -> Self {
        Field::ALL.iter().copied().collect()
    }

    pub fn contains(self, f: Field) -> bool {
        self.0 & (1 << f as u32) != 0
    }

    pub fn insert(&mut self, f: Field) {
        self.0 |= 1 << f as u32;
    }

    pub fn iter(self) -> impl Iterator<Item = Field> {
        Field::ALL
            .iter()
            .copied()
            .filter(move |&f| self.contains(f))
    }
}

impl FromIterator<Field> for FieldSet {
    fn from_iter<I: IntoIterator<Item = Field>>(iter: I) -> Self {
        let mut set = FieldSet::empty();
        for f in iter {
            set.insert(f);
        }
        set
    }
}

impl Serialize for FieldSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for FieldSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<Field>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_specs_agree() {
        for &f in Field::ALL {
            assert_eq!(Field::from_name(f.name()), Some(f));
            assert_eq!(f.spec().name, f.name());
            let json = serde_json::to_value(f).unwrap();
            assert_eq!(json, f.name(), "the enum serializes as the field's name");
        }
        assert_eq!(
            Field::naming().collect::<Vec<_>>(),
            [Field::FirstName, Field::LastName, Field::Company]
        );
    }

    #[test]
    fn every_field_is_a_key_of_the_values() {
        let all = Field::ALL
            .iter()
            .fold(CustomerFields::default(), |c, &f| c.with(f, f.name()));
        let json = serde_json::to_value(&all).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
        names.sort_unstable();
        assert_eq!(keys, names);
        assert_eq!(all.iter().count(), Field::ALL.len());
        assert!(Field::ALL.len() <= 32, "FieldSet is a u32");
        assert_eq!(FieldSet::all().iter().count(), Field::ALL.len());
    }
}
