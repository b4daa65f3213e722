//! Claims that API Gateway's authorizer has already verified, read back into the shape the
//! verifier checks, so that the SAME rule (issuer, `token_use`, `aud` / `client_id` against the
//! configured app clients) applies to them as to a bearer token (see
//! [`TokenVerifier::accept_authorizer_claims`]). API Gateway's Cognito authorizer checks the
//! signature, the pool and the expiry, but not the app client: a token issued to another app
//! client of the same pool passes it.
//!
//! Where they arrive, and how an array claim such as `cognito:groups` is flattened:
//!
//! | API | context | values | `cognito:groups` |
//! |---|---|---|---|
//! | REST, Cognito user-pools authorizer | `requestContext.authorizer.claims` | all strings (`exp` as a date: `Mon Nov 23 13:00:00 UTC 2026`) | one group bare (`admin`); several comma-joined (`a,b`) or bracketed and space-separated (`[a b]`), both seen in the wild |
//! | REST, JWT authorizer | `requestContext.authorizer.claims` | JSON types kept (AWS: "A Lambda proxy integration receives each claim with its JSON type") | a JSON array |
//! | HTTP API, JWT authorizer | `requestContext.authorizer.jwt.claims` | all strings | bracketed and space-separated: `[a b]` |
//!
//! Cognito group names match `[\p{L}\p{M}\p{S}\p{N}\p{P}]+` (CreateGroup `GroupName`): no white
//! space, but commas, brackets and quotes are allowed. So splitting on white space inside
//! brackets is exact, while a REST string with a comma (`staff,admin`: one group or two?) or a
//! bracketed string without white space (`[admin]`: the group `[admin]`, or a list of `admin`?)
//! has two readings. Those are [`AuthError::Ambiguous`], never guessed: the caller may settle
//! them with the token API Gateway forwarded, verified in-process.
//!
//! [`TokenVerifier::accept_authorizer_claims`]: crate::auth::TokenVerifier::accept_authorizer_claims

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::verifier::{Audience, TokenClaims};
use crate::auth::AuthError;

/// Which API Gateway flavour wrote the claims: it decides how flattened arrays read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimsSource {
    /// A REST API (payload v1): `requestContext.authorizer.claims`.
    RestApi,
    /// An HTTP API JWT authorizer (payload v2): `requestContext.authorizer.jwt.claims`.
    HttpApi,
}

/// Authorizer claims as API Gateway delivered them: borrowed from the request context where
/// they are already a JSON object (REST), so reading them copies only the claims checked.
#[derive(Debug, Clone)]
pub struct AuthorizerClaims<'a> {
    pub source: ClaimsSource,
    pub claims: Cow<'a, Map<String, Value>>,
}

impl AuthorizerClaims<'_> {
    /// The claims the verifier's rule checks. `exp`/`iat` are left out: API Gateway has checked
    /// them, and REST delivers them as date strings.
    pub(crate) fn to_token_claims(&self) -> Result<TokenClaims, AuthError> {
        let source = self.source;
        Ok(TokenClaims {
            iss: self.text("iss")?,
            sub: self.text("sub")?,
            token_use: self.text("token_use")?,
            aud: match self.claims.get("aud") {
                None | Some(Value::Null) => None,
                Some(Value::String(aud)) => Some(match bracketed(aud) {
                    // Client ids are [\w+]+: a bracketed value can only be a flattened list.
                    Some(list) if source == ClaimsSource::HttpApi => Audience::Many(list),
                    _ => Audience::One(aud.clone()),
                }),
                Some(Value::Array(items)) => Some(Audience::Many(strings(items, "malformed aud")?)),
                Some(_) => return Err(AuthError::Invalid("malformed aud")),
            },
            client_id: self.text("client_id")?,
            iat: None,
            exp: None,
            groups: Some(groups(source, self.claims.get("cognito:groups"))?),
            cognito_username: self.text("cognito:username")?,
            username: self.text("username")?,
        })
    }

    /// A string claim; any other JSON type is not what an authorizer writes.
    fn text(&self, name: &'static str) -> Result<Option<String>, AuthError> {
        match self.claims.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) => Ok(Some(value.clone())),
            Some(_) => Err(AuthError::Invalid("authorizer claim of an unexpected type")),
        }
    }
}

fn strings(items: &[Value], reason: &'static str) -> Result<Vec<String>, AuthError> {
    items
        .iter()
        .map(|item| match item {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(AuthError::Invalid(reason)),
        })
        .collect()
}

/// `[a b c]` → `a`, `b`, `c`; `[]` → nothing; `None` unless the whole value is bracketed.
fn bracketed(text: &str) -> Option<Vec<String>> {
    let inner = text.strip_prefix('[')?.strip_suffix(']')?;
    Some(inner.split_whitespace().map(str::to_owned).collect())
}

/// `cognito:groups` in the shapes the table in the module header lists, exactly.
fn groups(source: ClaimsSource, value: Option<&Value>) -> Result<Vec<String>, AuthError> {
    let text = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => return strings(items, "malformed cognito:groups"),
        Some(Value::String(text)) => text.as_str(),
        Some(_) => return Err(AuthError::Invalid("malformed cognito:groups")),
    };
    match source {
        ClaimsSource::HttpApi => {
            bracketed(text).ok_or(AuthError::Invalid("cognito:groups is not an HTTP API list"))
        }
        ClaimsSource::RestApi => {
            if text.is_empty() {
                return Ok(Vec::new());
            }
            let has_space = text.chars().any(char::is_whitespace);
            match bracketed(text) {
                // White space never occurs in a name, so it can only separate names.
                Some(list) if has_space => Ok(list),
                Some(_) => Err(AuthError::Ambiguous(
                    "cognito:groups [x]: one name or a list",
                )),
                None if text.contains(',') => Err(AuthError::Ambiguous(
                    "cognito:groups with a comma: one name or a list",
                )),
                None if has_space => Err(AuthError::Invalid("malformed cognito:groups")),
                None => Ok(vec![text.to_owned()]),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    fn groups_of(source: ClaimsSource, groups: &Value) -> Result<Vec<String>, AuthError> {
        let Value::Object(claims) = json!({"sub": "s-1", "cognito:groups": groups}) else {
            unreachable!()
        };
        AuthorizerClaims {
            source,
            claims: Cow::Owned(claims),
        }
        .to_token_claims()
        .map(|c| c.groups.unwrap_or_default())
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn rest_groups_read_exactly_when_they_have_one_reading() {
        use ClaimsSource::RestApi;
        assert_eq!(
            groups_of(RestApi, &json!("admin")).unwrap(),
            names(&["admin"])
        );
        assert_eq!(
            groups_of(RestApi, &json!("Admin")).unwrap(),
            names(&["Admin"])
        );
        assert_eq!(
            groups_of(RestApi, &json!("[admin editors]")).unwrap(),
            names(&["admin", "editors"])
        );
        assert_eq!(
            groups_of(RestApi, &json!("[a,b c]")).unwrap(),
            names(&["a,b", "c"]),
            "white space separates, so the comma belongs to a name"
        );
        assert!(groups_of(RestApi, &json!("")).unwrap().is_empty());
        assert!(groups_of(RestApi, &Value::Null).unwrap().is_empty());
        assert_eq!(
            groups_of(RestApi, &json!(["staff,admin"])).unwrap(),
            names(&["staff,admin"])
        );
    }

    #[test]
    fn rest_groups_with_two_readings_are_ambiguous() {
        for text in [
            "staff,admin",
            "a,b",
            ",",
            "[admin]",
            "[\"admin\",\"b\"]",
            "[]",
        ] {
            let result = groups_of(ClaimsSource::RestApi, &json!(text));
            assert!(
                matches!(result, Err(AuthError::Ambiguous(_))),
                "{text}: {result:?}"
            );
        }
        let result = groups_of(ClaimsSource::RestApi, &json!("admin staff"));
        assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
    }

    #[test]
    fn http_api_groups_are_always_bracketed_and_space_separated() {
        use ClaimsSource::HttpApi;
        assert_eq!(
            groups_of(HttpApi, &json!("[admin]")).unwrap(),
            names(&["admin"])
        );
        assert_eq!(
            groups_of(HttpApi, &json!("[staff,admin]")).unwrap(),
            names(&["staff,admin"])
        );
        assert_eq!(
            groups_of(HttpApi, &json!("[a] [b]")).unwrap(),
            names(&["a]", "[b"])
        );
        assert!(groups_of(HttpApi, &json!("[]")).unwrap().is_empty());
        for text in ["admin", "admin,staff", ""] {
            let result = groups_of(HttpApi, &json!(text));
            assert!(
                matches!(result, Err(AuthError::Invalid(_))),
                "{text}: {result:?}"
            );
        }
    }

    #[test]
    fn groups_of_another_json_type_are_invalid() {
        for bad in [
            json!(42),
            json!({"admin": true}),
            json!(true),
            json!([1, 2]),
            json!([""]),
        ] {
            let result = groups_of(ClaimsSource::RestApi, &bad);
            assert!(
                matches!(result, Err(AuthError::Invalid(_))),
                "{bad}: {result:?}"
            );
        }
    }

    #[test]
    fn http_api_audience_lists_are_split_and_rest_audiences_kept_whole() {
        let claims = |source, aud: &str| {
            let Value::Object(claims) = json!({"aud": aud}) else {
                unreachable!()
            };
            AuthorizerClaims {
                source,
                claims: Cow::Owned(claims),
            }
            .to_token_claims()
            .unwrap()
            .aud
        };
        assert!(matches!(
            claims(ClaimsSource::HttpApi, "[a b]"),
            Some(Audience::Many(list)) if list == names(&["a", "b"])
        ));
        assert!(matches!(
            claims(ClaimsSource::RestApi, "client"),
            Some(Audience::One(aud)) if aud == "client"
        ));
    }
}
