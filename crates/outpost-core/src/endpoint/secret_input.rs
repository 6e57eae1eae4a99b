//! The one rule for secrets as an admin enters them (the settings form,
//! `--token-stdin`, `endpoints import --secrets-stdin`): blank means "keep
//! what is stored"; otherwise one line of at most [`MAX_CHARS`] characters,
//! and only a secret the endpoint's sign-in method uses. `ui_model` exports
//! the limit and its words for the settings form.

use serde::Deserialize;
use ts_rs::TS;

use super::save::{field_name, secrets_used, Entered, SECRET_KINDS};
use super::secrets::SecretKind;
use super::AuthMethod;
use crate::error::FieldError;
use crate::sensitive::Sensitive;
use crate::template::fill;

/// Longest secret accepted, in characters (Unicode scalar values), like
/// every other length limit a person meets in Outpost. Real tokens are
/// ASCII, where characters and bytes agree.
pub const MAX_CHARS: usize = 4096;
/// The secret rule in words (`{max}`: [`MAX_CHARS`]).
pub const RULE: &str = "One line of at most {max} characters.";

/// Secrets as typed; absent or blank means "keep what is stored".
#[derive(Default, Deserialize, TS)]
#[serde(deny_unknown_fields, default)]
#[ts(export, optional_fields)]
pub struct SecretsInput {
    pub token: Option<String>,
    pub client_secret: Option<String>,
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for SecretsInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given: Vec<_> = SECRET_KINDS
            .into_iter()
            .filter(|&k| self.get(k).is_some())
            .map(field_name)
            .collect();
        write!(f, "SecretsInput {{ given: {given:?} }}")
    }
}

impl SecretsInput {
    /// One secret, as read from stdin.
    pub fn one(kind: SecretKind, value: String) -> Self {
        let mut input = SecretsInput::default();
        *input.slot(kind) = Some(value);
        input
    }

    /// `endpoints add|set --secrets-stdin`: a JSON object of secret names
    /// (as `endpoints show` lists them: `token`, `client_secret`,
    /// `refresh_token`) to non-empty strings. An error names the secret
    /// (or `secrets` for the whole text) and never repeats a value.
    pub fn from_json(text: &str) -> Result<Self, FieldError> {
        const SHAPE: &str = r#"expected a JSON object such as {"client_secret": "..."}"#;
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            let at = format!("line {}, column {}", e.line(), e.column());
            FieldError::new("secrets", format!("not JSON ({at}): {SHAPE}"))
        })?;
        let Some(object) = value.as_object() else {
            return Err(FieldError::new("secrets", SHAPE));
        };
        if object.is_empty() {
            return Err(FieldError::new(
                "secrets",
                format!("no secret given: {SHAPE}"),
            ));
        }
        let mut input = SecretsInput::default();
        for (name, value) in object {
            let kind = SECRET_KINDS
                .into_iter()
                .find(|&k| field_name(k) == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = SECRET_KINDS.into_iter().map(field_name).collect();
                    FieldError::new(
                        name,
                        format!("unknown secret {name:?}: expected {}", known.join(", ")),
                    )
                })?;
            let text = value
                .as_str()
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| {
                    FieldError::new(
                        name,
                        format!("the {} must be a string that is not empty", words(kind)),
                    )
                })?;
            *input.slot(kind) = Some(text.to_owned());
        }
        Ok(input)
    }

    fn get(&self, kind: SecretKind) -> Option<&String> {
        match kind {
            SecretKind::Token => self.token.as_ref(),
            SecretKind::ClientSecret => self.client_secret.as_ref(),
            SecretKind::RefreshToken => self.refresh_token.as_ref(),
            SecretKind::AccessToken => None,
        }
    }

    fn slot(&mut self, kind: SecretKind) -> &mut Option<String> {
        match kind {
            SecretKind::Token => &mut self.token,
            SecretKind::ClientSecret => &mut self.client_secret,
            SecretKind::RefreshToken => &mut self.refresh_token,
            // Only SECRET_KINDS reach here; a cache is never entered.
            SecretKind::AccessToken => unreachable!("an access token is never entered"),
        }
    }

    /// Applies the rule: the trimmed secrets to store, or one error per
    /// offending field.
    pub fn check(self, auth: AuthMethod) -> Result<Entered, Vec<FieldError>> {
        let mut entered = Entered::new();
        let mut errors = Vec::new();
        for kind in SECRET_KINDS {
            let Some(value) = self.get(kind).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
                continue;
            };
            if let Err(e) = check_used(auth, kind).and_then(|()| check_value(kind, value)) {
                errors.push(e);
            } else {
                entered.insert(kind, Sensitive::new(value.to_owned()));
            }
        }
        if errors.is_empty() {
            Ok(entered)
        } else {
            Err(errors)
        }
    }
}

/// A secret the sign-in method does not use is a mistake, not something to
/// store and forget.
pub fn check_used(auth: AuthMethod, kind: SecretKind) -> Result<(), FieldError> {
    if secrets_used(auth).contains(&kind) {
        Ok(())
    } else {
        Err(FieldError::new(
            field_name(kind),
            format!("{} does not use a {}", auth.as_str(), words(kind)),
        ))
    }
}

fn check_value(kind: SecretKind, value: &str) -> Result<(), FieldError> {
    check(value).map_err(|words| FieldError::new(field_name(kind), words))
}

/// A secret is one line (no control characters) of at most [`MAX_CHARS`]
/// characters; `Err` holds the rule in words.
pub fn check(secret: &str) -> Result<(), String> {
    if secret.chars().count() > MAX_CHARS || secret.chars().any(char::is_control) {
        Err(not_one_line())
    } else {
        Ok(())
    }
}

/// The rule's words, for every edge that must say them.
pub fn not_one_line() -> String {
    fill(RULE, &[("max", &MAX_CHARS)])
}

/// The secret's name in a sentence.
pub fn words(kind: SecretKind) -> &'static str {
    match kind {
        SecretKind::Token => "token",
        SecretKind::ClientSecret => "client secret",
        SecretKind::RefreshToken => "refresh token",
        SecretKind::AccessToken => "cached access token",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(v: &str) -> SecretsInput {
        SecretsInput::one(SecretKind::Token, v.to_owned())
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let at_limit = "é".repeat(MAX_CHARS);
        assert_eq!(at_limit.len(), 2 * MAX_CHARS, "two bytes each");
        let entered = token(&at_limit).check(AuthMethod::Token).unwrap();
        assert_eq!(entered[&SecretKind::Token].expose(), &at_limit);

        let over = "x".repeat(MAX_CHARS + 1);
        let errors = token(&over).check(AuthMethod::Token).unwrap_err();
        assert_eq!(
            errors,
            [FieldError::new(
                "token",
                "One line of at most 4096 characters."
            )]
        );
    }

    #[test]
    fn blank_keeps_the_stored_secret_and_values_are_trimmed() {
        assert!(token("  \n").check(AuthMethod::Token).unwrap().is_empty());
        let entered = token("  tok-1\n").check(AuthMethod::Token).unwrap();
        assert_eq!(entered[&SecretKind::Token].expose(), "tok-1");
    }

    #[test]
    fn two_lines_and_unused_secrets_are_refused_against_their_field() {
        let errors = token("a\nb").check(AuthMethod::Token).unwrap_err();
        assert_eq!(errors[0].field, "token");

        let errors = token("tok")
            .check(AuthMethod::OauthClientCredentials)
            .unwrap_err();
        assert_eq!(
            errors,
            [FieldError::new(
                "token",
                "oauth-client-credentials does not use a token"
            )]
        );
    }

    #[test]
    fn secrets_from_json_name_what_is_wrong_and_never_echo_a_value() {
        let input =
            SecretsInput::from_json(r#"{"client_secret": "s3cr3t", "refresh_token": "r1"}"#)
                .unwrap();
        let entered = input.check(AuthMethod::OauthRefresh).unwrap();
        assert_eq!(entered[&SecretKind::ClientSecret].expose(), "s3cr3t");
        assert_eq!(entered[&SecretKind::RefreshToken].expose(), "r1");

        let err = SecretsInput::from_json(r#"{"tokne": "hunter2"}"#).unwrap_err();
        assert_eq!(err.field, "tokne");
        assert_eq!(
            err.message,
            r#"unknown secret "tokne": expected token, client_secret, refresh_token"#
        );
        for (text, field) in [
            (r#"{"token": ""}"#, "token"),
            (r#"{"token": 42}"#, "token"),
            (r#"{}"#, "secrets"),
            (r#"["hunter2"]"#, "secrets"),
            (r#"{"token": "hunter2""#, "secrets"),
        ] {
            let err = SecretsInput::from_json(text).unwrap_err();
            assert_eq!(err.field, field, "{text}");
            assert!(!err.message.contains("hunter2"), "{text}: {}", err.message);
        }
    }

    #[test]
    fn debug_never_shows_a_value() {
        let shown = format!("{:?}", token("hunter2"));
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("token"), "{shown}");
    }
}
