//! Text as the contract defines it: NFC-normalised, trimmed, and measured in Unicode scalar
//! values. Everything that checks a length goes through here so "200 characters" means the
//! same thing for every field, and so does the search text of the list filter `q`.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

use crate::limits;

/// NFC first, trim second: a combining mark at either end must join its base before the
/// trim decides what is whitespace.
pub(crate) fn normalize(s: &str) -> String {
    // Almost all text is already NFC (ASCII always is), and every stored recipe is: the quick
    // check answers without composing, and NFC of NFC text is the text itself.
    if s.is_ascii() || is_nfc_quick(s.chars()) == IsNormalized::Yes {
        return s.trim().to_owned();
    }
    let composed: String = s.nfc().collect();
    let trimmed = composed.trim();
    if trimmed.len() == composed.len() {
        composed
    } else {
        trimmed.to_owned()
    }
}

/// Characters as the contract counts them: Unicode scalar values.
pub(crate) fn char_count(s: &str) -> usize {
    s.chars().count()
}

/// Normalises and checks 1..=`max` characters.
pub(crate) fn bounded(s: &str, max: usize) -> Result<String, String> {
    let text = normalize(s);
    let count = char_count(&text);
    if count == 0 {
        Err("must not be empty".to_owned())
    } else if count > max {
        Err(too_long(max, count))
    } else {
        Ok(text)
    }
}

/// Whether `s` is already what [`bounded`] makes of text, NFC composition apart: not blank,
/// no surrounding whitespace, at most `max` characters. For reading back a stored recipe this
/// release wrote (`RecipeContent::parse_trusted`): no allocation, and characters are only
/// counted when the byte length could exceed `max`.
pub(crate) fn is_canonical(s: &str, max: usize) -> bool {
    !s.is_empty() && s.trim().len() == s.len() && (s.len() <= max || char_count(s) <= max)
}

/// Like [`bounded`], for a field the contract requires.
pub(crate) fn required(s: Option<&str>, max: usize) -> Result<String, String> {
    s.map_or_else(|| Err("is required".to_owned()), |s| bounded(s, max))
}

/// Optional display text: what is blank after trimming is treated as never sent, so a
/// client clearing a field with `""` gets the same result as sending `null`.
pub(crate) fn optional(s: Option<&str>, max: usize) -> Result<Option<String>, String> {
    let Some(s) = s else { return Ok(None) };
    let text = normalize(s);
    let count = char_count(&text);
    if count == 0 {
        Ok(None)
    } else if count > max {
        Err(too_long(max, count))
    } else {
        Ok(Some(text))
    }
}

fn too_long(max: usize, count: usize) -> String {
    format!("must be at most {max} characters (got {count})")
}

/// Quotes a client's value inside a message, cut short so that a huge value cannot turn
/// a small error response into a large one.
pub(crate) fn quoted(s: &str) -> String {
    const SHOWN: usize = 40;
    if char_count(s) > SHOWN {
        let head: String = s.chars().take(SHOWN).collect();
        format!("{head:?}…")
    } else {
        format!("{s:?}")
    }
}

/// Case-folded comparison key for the list filters. Full Unicode lower-casing (not just
/// ASCII) so "Crème" finds "crème", on NFC text so precomposed and decomposed input agree.
pub(crate) fn fold(s: &str) -> String {
    s.nfc().collect::<String>().to_lowercase()
}

/// The `q` list filter: words searched for in a recipe's title, description, ingredient names
/// and tags (see [`crate::search`] for what a word is). Every word must match a word of the
/// recipe; the last one may be the start of one (type-ahead): `creme bru` finds "Crème brûlée".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchText {
    /// The tokens joined by one space: the canonical form (cursors are bound to it).
    canonical: String,
    tokens: Vec<String>,
}

impl SearchText {
    /// Normalises (NFC, trim), checks 1–200 characters, then 1–8 words.
    pub fn parse(s: &str) -> Result<SearchText, String> {
        let text = bounded(s, limits::SEARCH_TEXT_MAX)?;
        let tokens = crate::search::tokens(&text);
        if tokens.is_empty() {
            return Err("must contain a letter or a digit".to_owned());
        }
        if tokens.len() > limits::SEARCH_TOKENS_MAX {
            return Err(format!(
                "must be at most {} words (got {})",
                limits::SEARCH_TOKENS_MAX,
                tokens.len()
            ));
        }
        Ok(SearchText {
            canonical: tokens.join(" "),
            tokens,
        })
    }

    /// The words, normalised, joined by one space.
    pub fn as_str(&self) -> &str {
        &self.canonical
    }

    /// The words that must match a recipe's word exactly (all but the last).
    pub fn exact(&self) -> &[String] {
        self.tokens.split_last().map_or(&[], |(_, rest)| rest)
    }

    /// The last word, which a recipe's word need only start with.
    pub fn prefix(&self) -> &str {
        self.tokens.last().map_or("", String::as_str)
    }

    /// Whether a recipe with these distinct tokens ([`crate::search::content_tokens`]) matches.
    pub fn matches(&self, tokens: &std::collections::BTreeSet<String>) -> bool {
        let prefix = self.prefix();
        self.exact().iter().all(|t| tokens.contains(t))
            && tokens
                .range::<str, _>((
                    std::ops::Bound::Included(prefix),
                    std::ops::Bound::Unbounded,
                ))
                .next()
                .is_some_and(|t| t.starts_with(prefix))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_composes_before_trimming() {
        assert_eq!(normalize("  e\u{301}te\u{301} \n"), "\u{e9}t\u{e9}");
    }

    #[test]
    fn the_quick_path_gives_what_full_composition_gives() {
        let reference = |s: &str| s.nfc().collect::<String>().trim().to_owned();
        for s in [
            "plain ascii ",
            "\u{e9}t\u{e9} pr\u{e9}compos\u{e9}",
            "e\u{301}te\u{301}",
            "\u{301} a mark first",
            " \u{301}",
            "\u{1100}\u{1161}\u{11a8} jamo",
            "\u{ac00} hangul",
            "\u{212b} angstrom sign",
            "\u{2126}\u{fb01} ohm, ligature",
            "\u{a0}\u{85}caf\u{e9}\u{3000}",
            "\u{1f35c} ramen",
        ] {
            assert_eq!(normalize(s), reference(s), "{s:?}");
        }
    }

    #[test]
    fn normalize_trims_unicode_whitespace() {
        assert_eq!(normalize("\u{a0}\u{3000}soup\u{2003}"), "soup");
    }

    #[test]
    fn a_decomposed_character_counts_once() {
        assert_eq!(char_count(&normalize("e\u{301}")), 1);
    }

    #[test]
    fn blank_required_text_is_rejected() {
        assert_eq!(bounded(" \t ", 5), Err("must not be empty".to_owned()));
    }

    #[test]
    fn blank_optional_text_becomes_absent() {
        assert_eq!(optional(Some("  "), 5), Ok(None));
    }

    #[test]
    fn quoted_values_are_cut_short() {
        let long = "x".repeat(100);
        assert_eq!(quoted(&long), format!("\"{}\"…", "x".repeat(40)));
        assert_eq!(quoted("cupz"), "\"cupz\"");
    }

    #[test]
    fn search_text_of_200_characters_is_accepted() {
        assert!(SearchText::parse(&"a".repeat(200)).is_ok());
    }

    #[test]
    fn search_text_of_201_characters_is_rejected() {
        assert!(SearchText::parse(&"a".repeat(201)).is_err());
    }

    #[test]
    fn empty_search_text_is_rejected() {
        assert!(SearchText::parse("   ").is_err());
    }

    #[test]
    fn search_text_is_cut_into_folded_words() {
        assert_eq!(
            SearchText::parse("  Crème  BRU ").map(|q| q.as_str().to_owned()),
            Ok("creme bru".to_owned())
        );
    }

    #[test]
    fn search_text_without_a_word_or_with_too_many_is_rejected() {
        assert!(SearchText::parse("- ! -").is_err());
        let words = ["w"; limits::SEARCH_TOKENS_MAX];
        assert!(SearchText::parse(&words.join(" ")).is_ok());
        assert!(SearchText::parse(&format!("{} w", words.join(" "))).is_err());
    }

    #[test]
    fn every_word_must_match_and_the_last_may_be_a_prefix() {
        let recipe: std::collections::BTreeSet<String> =
            ["brulee", "creme", "vanilla"].map(str::to_owned).into();
        let q = |s: &str| SearchText::parse(s).unwrap().matches(&recipe);
        assert!(q("Creme Brulee"));
        assert!(q("creme bru"));
        assert!(q("vanilla cr"));
        assert!(!q("cre brulee"), "only the last word is a prefix");
        assert!(!q("creme chocolate"));
        assert!(!q("brulees"));
    }
}
