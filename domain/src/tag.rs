//! Tags: short lower-case labels that the `tag` list filter matches exactly.

use std::fmt;

use serde::Serialize;

use crate::limits;
use crate::text;

/// A tag: 1–40 characters of `a-z`, `0-9` and `-`. Input is NFC-normalised, trimmed and
/// lower-cased first, so `Italian` and `italian` are the same tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Tag(String);

impl Tag {
    /// Normalises (NFC, trim, lower-case) and checks 1–40 characters of `a-z0-9-`.
    pub fn parse(s: &str) -> Result<Tag, String> {
        let tag = text::normalize(s).to_lowercase();
        let count = text::char_count(&tag);
        if count == 0 {
            Err("must not be empty".to_owned())
        } else if count > limits::TAG_MAX {
            Err(format!(
                "must be at most {} characters (got {count})",
                limits::TAG_MAX
            ))
        } else if !tag
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            Err(format!(
                "{} may contain only letters a-z, digits 0-9 and hyphens",
                text::quoted(&tag)
            ))
        } else {
            Ok(Tag(tag))
        }
    }

    /// The tag `s` already is, if it is in the form [`parse`](Tag::parse) gives (1–40 of
    /// `a-z`, `0-9`, `-`): for reading back a stored recipe this release wrote without
    /// copying its tags (`RecipeContent::parse_trusted`).
    pub(crate) fn from_canonical(s: String) -> Option<Tag> {
        Tag::is_canonical(&s).then_some(Tag(s))
    }

    /// Whether `s` is in the form [`parse`](Tag::parse) gives. ASCII only, so bytes are
    /// characters.
    pub(crate) fn is_canonical(s: &str) -> bool {
        (1..=limits::TAG_MAX).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    }

    /// The tag, lower-case.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_of_40_characters_is_accepted() {
        assert!(Tag::parse(&"a".repeat(40)).is_ok());
    }

    #[test]
    fn tag_of_41_characters_is_rejected() {
        assert_eq!(
            Tag::parse(&"a".repeat(41)),
            Err("must be at most 40 characters (got 41)".to_owned())
        );
    }

    #[test]
    fn empty_tag_is_rejected() {
        assert_eq!(Tag::parse("  "), Err("must not be empty".to_owned()));
    }

    #[test]
    fn tag_is_trimmed_and_lower_cased() {
        assert_eq!(
            Tag::parse(" Quick-30 ").map(|t| t.to_string()),
            Ok("quick-30".to_owned())
        );
    }

    #[test]
    fn tag_with_a_space_underscore_or_accent_is_rejected() {
        for bad in ["two words", "snake_case", "cr\u{e8}me", "e\u{301}"] {
            assert!(Tag::parse(bad).is_err(), "{bad}");
        }
    }
}
