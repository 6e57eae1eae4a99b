//! Messages with named placeholders (`"at most {max}"`). The core fills them;
//! `ui_model` exports them unfilled, so the UI's early hints and the browser
//! tests' mock say exactly what the core says, in the same words.

use std::fmt::Display;

/// Replaces each `{name}` in `template` with its value; a placeholder
/// without a value is left as it is (a test catches that, not a user).
pub fn fill(template: &str, values: &[(&str, &dyn Display)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{name}}}"), &value.to_string());
    }
    out
}

/// A whole-number setting's accepted range, with the words for a value
/// outside it (`{min}` and `{max}` are filled in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Range {
    #[ts(type = "number")]
    pub min: i64,
    #[ts(type = "number")]
    pub max: i64,
    pub message: &'static str,
}

impl Range {
    pub fn contains(&self, value: i64) -> bool {
        (self.min..=self.max).contains(&value)
    }

    /// The message, filled in.
    pub fn words(&self) -> String {
        fill(self.message, &[("min", &self.min), ("max", &self.max)])
    }

    /// `Err(words)` when `value` is outside the range.
    pub fn check(&self, value: impl Into<i64>) -> Result<(), String> {
        if self.contains(value.into()) {
            Ok(())
        } else {
            Err(self.words())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_every_named_placeholder() {
        assert_eq!(
            fill(
                "Too long: {len} characters, at most {max}.",
                &[("len", &5), ("max", &"4")]
            ),
            "Too long: 5 characters, at most 4."
        );
        assert_eq!(
            fill("{a} and {a}, not {b}", &[("a", &1)]),
            "1 and 1, not {b}"
        );
        let r = Range {
            min: 1,
            max: 10,
            message: "Use {min} to {max}.",
        };
        assert_eq!(r.check(0u32), Err("Use 1 to 10.".into()));
        assert_eq!(r.check(10u32), Ok(()));
    }
}
