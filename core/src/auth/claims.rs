//! Identity from the claims API Gateway's Cognito authorizer has already verified: REST API v1
//! puts them in `requestContext.authorizer.claims`, HTTP API v2 in
//! `requestContext.authorizer.jwt.claims`. Both deliver every value as a string, and each
//! flattens the `cognito:groups` array its own way, so this module accepts all the shapes seen.

use serde_json::{Map, Value};

use crate::auth::{AuthError, Identity};

/// Identity from API Gateway authorizer claims.
///
/// `cognito:groups` may be a JSON array, a JSON-array-looking string (`"[\"admin\"]"`), the
/// HTTP API flattening `"[admin editors]"`, a comma list `"admin,editors"` or a single name.
/// A missing, null or empty `cognito:groups` means no groups. Requires a non-empty string
/// `sub`, else [`AuthError::Invalid`]; a `cognito:groups` of any other JSON type is Invalid too,
/// since it means the context is not what the authorizer writes.
pub fn identity_from_claims(claims: &Map<String, Value>) -> Result<Identity, AuthError> {
    let subject = match claims.get("sub") {
        Some(Value::String(sub)) if !sub.trim().is_empty() => sub.clone(),
        _ => return Err(AuthError::Invalid("authorizer claims without sub")),
    };
    let groups = match claims.get("cognito:groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => strings_of(items)?,
        Some(Value::String(text)) => parse_group_text(text)?,
        Some(_) => return Err(AuthError::Invalid("malformed cognito:groups")),
    };
    let username =
        ["cognito:username", "username"]
            .iter()
            .find_map(|name| match claims.get(*name) {
                Some(Value::String(u)) if !u.is_empty() => Some(u.clone()),
                _ => None,
            });
    Ok(Identity {
        subject,
        groups,
        username,
    })
}

fn strings_of(items: &[Value]) -> Result<Vec<String>, AuthError> {
    let mut groups = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(group) if group.is_empty() => {}
            Value::String(group) => groups.push(group.clone()),
            _ => return Err(AuthError::Invalid("malformed cognito:groups")),
        }
    }
    Ok(groups)
}

fn parse_group_text(text: &str) -> Result<Vec<String>, AuthError> {
    let text = text.trim();
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        if let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) {
            return strings_of(&items);
        }
        // "[admin editors]" (HTTP API) or "[admin, editors]": Cognito group names cannot
        // contain whitespace, so splitting on it cannot cut a name in two.
        return Ok(split_names(inner, |c: char| c.is_whitespace() || c == ','));
    }
    // "admin,editors" or "admin". Commas are legal in group names, but that is the format the
    // REST authorizer writes; a name with a comma in it cannot be told apart there anyway.
    Ok(split_names(text, |c: char| c == ','))
}

fn split_names(text: &str, separator: impl Fn(char) -> bool) -> Vec<String> {
    text.split(separator)
        .map(str::trim)
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use serde_json::json;

    fn claims(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test claims are objects"),
        }
    }

    fn groups_of(groups: &Value) -> Vec<String> {
        identity_from_claims(&claims(json!({"sub": "s-1", "cognito:groups": groups})))
            .unwrap()
            .groups
    }

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn groups_given_as_a_json_array_are_taken_as_is() {
        assert_eq!(
            groups_of(&json!(["admin", "editors"])),
            names(&["admin", "editors"])
        );
    }

    #[test]
    fn groups_given_as_a_json_array_inside_a_string_are_parsed() {
        assert_eq!(
            groups_of(&json!("[\"admin\",\"editors\"]")),
            names(&["admin", "editors"])
        );
    }

    #[test]
    fn groups_flattened_by_the_http_api_are_split_on_spaces() {
        assert_eq!(
            groups_of(&json!("[admin editors]")),
            names(&["admin", "editors"])
        );
        assert_eq!(groups_of(&json!("[admin]")), names(&["admin"]));
        assert_eq!(
            groups_of(&json!("[admin, editors]")),
            names(&["admin", "editors"])
        );
    }

    #[test]
    fn groups_given_as_a_comma_list_are_split_and_trimmed() {
        assert_eq!(
            groups_of(&json!("admin,editors")),
            names(&["admin", "editors"])
        );
        assert_eq!(
            groups_of(&json!(" admin , editors ")),
            names(&["admin", "editors"])
        );
    }

    #[test]
    fn a_single_group_name_is_one_group() {
        assert_eq!(groups_of(&json!("admin")), names(&["admin"]));
    }

    #[test]
    fn missing_null_or_empty_groups_mean_no_groups() {
        let who = identity_from_claims(&claims(json!({"sub": "s-1"}))).unwrap();
        assert!(who.groups.is_empty());
        assert!(groups_of(&Value::Null).is_empty());
        assert!(groups_of(&json!("")).is_empty());
        assert!(groups_of(&json!("[]")).is_empty());
        assert!(groups_of(&json!([])).is_empty());
    }

    #[test]
    fn groups_of_another_json_type_are_refused() {
        for bad in [
            json!(42),
            json!({"admin": true}),
            json!(true),
            json!([1, 2]),
        ] {
            let result =
                identity_from_claims(&claims(json!({"sub": "s-1", "cognito:groups": bad})));
            assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
        }
    }

    #[test]
    fn group_names_keep_their_case() {
        assert_eq!(groups_of(&json!("Admin")), names(&["Admin"]));
    }

    #[test]
    fn sub_and_username_become_the_identity() {
        let who = identity_from_claims(&claims(json!({
            "sub": "4f2c-sub",
            "cognito:username": "alice",
            "cognito:groups": "admin",
        })))
        .unwrap();
        assert_eq!(
            who,
            Identity {
                subject: "4f2c-sub".to_owned(),
                groups: names(&["admin"]),
                username: Some("alice".to_owned()),
            }
        );
    }

    #[test]
    fn username_falls_back_to_the_access_token_claim() {
        let who = identity_from_claims(&claims(json!({"sub": "s", "username": "bob"}))).unwrap();
        assert_eq!(who.username.as_deref(), Some("bob"));
        let nobody = identity_from_claims(&claims(json!({"sub": "s"}))).unwrap();
        assert_eq!(nobody.username, None);
    }

    #[test]
    fn claims_without_a_usable_sub_are_invalid() {
        for bad in [
            json!({}),
            json!({"sub": ""}),
            json!({"sub": "   "}),
            json!({"sub": null}),
            json!({"sub": 42}),
            json!({"sub": ["a"]}),
        ] {
            let result = identity_from_claims(&claims(bad));
            assert!(matches!(result, Err(AuthError::Invalid(_))), "{result:?}");
        }
    }
}
