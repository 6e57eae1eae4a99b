//! The values, not only the types, that the UI needs from the core: the
//! customer fields with their labels and limits, the messages validation
//! uses, the country list. A test writes them to `ui/src/bindings/model.ts`
//! next to ts-rs's types, so the UI never holds a copy of a rule.

use serde_json::json;

use crate::customer::validation::{limits, NAME_REQUIRED};
use crate::customer::{country, Field};
use crate::endpoint::secret_input::{not_one_line, MAX_SECRET_CHARS};

/// The TypeScript module, deterministic so the CI's staleness check holds.
pub fn typescript() -> String {
    let fields: Vec<_> = Field::ALL.iter().map(|f| f.spec()).collect();
    let countries: Vec<_> = country::all()
        .into_iter()
        .map(|(code, name)| json!({"code": code, "name": name}))
        .collect();
    let limits = json!({
        "phone_min_digits": limits::PHONE_MIN_DIGITS,
        "phone_max_digits": limits::PHONE_MAX_DIGITS,
        "attributes": limits::ATTRIBUTES,
        "attribute_value": limits::ATTRIBUTE_VALUE,
        "secret_chars": MAX_SECRET_CHARS,
    });
    let messages = json!({ "name_required": NAME_REQUIRED, "secret_not_one_line": not_one_line() });
    let mut out = String::from(
        "// Generated from outpost-core by `cargo test` (ui_model.rs): do not edit.\n\n\
         import type { FieldSpec } from './FieldSpec';\n\n",
    );
    let mut constant = |name: &str, ty: &str, value: serde_json::Value| {
        let value = serde_json::to_string_pretty(&value).expect("JSON values serialize");
        out.push_str(&format!("export const {name}: {ty} = {value};\n\n"));
    };
    constant("FIELDS", "readonly FieldSpec[]", json!(fields));
    constant(
        "COUNTRIES",
        "readonly { readonly code: string; readonly name: string }[]",
        json!(countries),
    );
    constant("LIMITS", "Readonly<Record<string, number>>", limits);
    constant("MESSAGES", "Readonly<Record<string, string>>", messages);
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    /// Writes the module where ts-rs writes the bindings (`cargo test`
    /// regenerates both; CI fails when the committed copy is stale).
    #[test]
    fn export_ui_model() {
        let Ok(dir) = std::env::var("TS_RS_EXPORT_DIR") else {
            return;
        };
        let path = std::path::Path::new(&dir).join("model.ts");
        std::fs::create_dir_all(&dir).unwrap();
        let text = super::typescript();
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).unwrap();
        }
    }
}
