//! Identities the server assigns: a recipe's id and its owner. Neither is ever taken from a
//! request body.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::limits;

/// A recipe's id: a UUIDv7, so ids sort by creation time. Written hyphenated and lower-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RecipeId(Uuid);

impl RecipeId {
    /// A new time-ordered id (UUIDv7).
    #[allow(
        clippy::new_without_default,
        reason = "each call mints a fresh id; a Default would hide that"
    )]
    pub fn new() -> Self {
        RecipeId(Uuid::now_v7())
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for RecipeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

/// Accepts any UUID spelling the `uuid` crate reads (hyphenated, simple, braced, URN), in
/// any case, so a path segment that names the same UUID finds the same recipe. The version
/// is not checked: an id that was never issued simply finds nothing.
impl FromStr for RecipeId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s)
            .map(RecipeId)
            .map_err(|_| "is not a valid recipe id (a UUID)".to_owned())
    }
}

/// Whoever a recipe belongs to: the caller's Cognito `sub`, or the dev issuer's subject.
/// 1–128 characters, no control characters; compared exactly, never normalised, because it
/// must equal the token's claim byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(try_from = "String")]
pub struct Owner(String);

/// Written as the string it holds, borrowed: `into = "String"` cloned it for every recipe
/// written (one allocation per item of a list).
impl Serialize for Owner {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl Owner {
    /// Checks 1–128 characters and no control characters.
    pub fn parse(s: &str) -> Result<Owner, String> {
        let count = s.chars().count();
        if count == 0 {
            Err("must not be empty".to_owned())
        } else if count > limits::OWNER_MAX {
            Err(format!(
                "must be at most {} characters (got {count})",
                limits::OWNER_MAX
            ))
        } else if s.chars().any(char::is_control) {
            Err("must not contain control characters".to_owned())
        } else {
            Ok(Owner(s.to_owned()))
        }
    }

    /// The subject as issued.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Owner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Owner {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        Owner::parse(&s)
    }
}

impl From<Owner> for String {
    fn from(owner: Owner) -> String {
        owner.0
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )]

    use super::*;

    #[test]
    fn new_recipe_ids_are_version_7_and_increase() {
        let first = RecipeId::new();
        let second = RecipeId::new();
        assert_eq!(first.as_uuid().get_version_num(), 7);
        assert!(second > first);
    }

    #[test]
    fn recipe_id_displays_hyphenated_lower_case() {
        let id: RecipeId = "0192C1C4-7A9E-7CC3-9A4E-2F7F3F0A9B11".parse().unwrap();
        assert_eq!(id.to_string(), "0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11");
    }

    #[test]
    fn recipe_id_parses_what_it_displays() {
        let id = RecipeId::new();
        assert_eq!(id.to_string().parse::<RecipeId>(), Ok(id));
    }

    #[test]
    fn recipe_id_that_is_not_a_uuid_is_rejected() {
        assert!("not-a-uuid".parse::<RecipeId>().is_err());
        assert!("".parse::<RecipeId>().is_err());
    }

    #[test]
    fn recipe_id_serializes_as_a_string() {
        let id: RecipeId = "0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11".parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"0192c1c4-7a9e-7cc3-9a4e-2f7f3f0a9b11\"");
        assert_eq!(serde_json::from_str::<RecipeId>(&json).unwrap(), id);
    }

    #[test]
    fn owner_of_128_characters_is_accepted() {
        assert!(Owner::parse(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn owner_of_129_characters_is_rejected() {
        assert!(Owner::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn empty_owner_is_rejected() {
        assert!(Owner::parse("").is_err());
    }

    #[test]
    fn owner_with_a_control_character_is_rejected() {
        assert!(Owner::parse("user\n1").is_err());
    }

    #[test]
    fn owner_is_kept_exactly_as_issued() {
        let owner = Owner::parse(" Sub ").unwrap();
        assert_eq!(owner.as_str(), " Sub ");
    }

    #[test]
    fn owner_deserialization_validates() {
        assert!(serde_json::from_str::<Owner>("\"\"").is_err());
        assert_eq!(
            serde_json::from_str::<Owner>("\"abc\"").unwrap(),
            Owner::parse("abc").unwrap()
        );
    }
}
