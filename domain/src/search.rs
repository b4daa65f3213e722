//! Search tokens: how recipe text and the `q` list filter are cut into words, and which index
//! terms a recipe is filed under. Both stores index exactly [`index_terms`], and both check a
//! candidate with [`SearchText::matches`] (or the list filter built on it), so the index only
//! has to find a superset of the matches, in order; the check decides.
//!
//! A token is a run of letters and digits after lower-casing, Unicode NFKD and dropping the
//! combining marks, so "Crème Brûlée", "CREME brulee" and "ｃｒｅｍｅ" all read `creme`:
//! - apostrophes (`'`, `’`, `ʼ`) join: "chef's" is `chefs`, "don't" is `dont`;
//! - every other character that is not a letter or digit separates: "stir-fry" is `stir`,
//!   `fry`; "1/2" is `1`, `2`;
//! - a token is cut to [`limits::SEARCH_TOKEN_MAX`] characters (on both sides, so a long word
//!   still finds itself).

use std::collections::BTreeSet;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::{RecipeContent, limits};

/// The index term of a tag (`#` never starts a token, so a tag term never meets a word's).
pub const TAG_TERM_PREFIX: char = '#';
/// The one term of a recipe with more distinct terms than [`limits::INDEX_TERMS_MAX`]: every
/// query also walks these recipes (and checks each), so they are found, only more slowly.
pub const OVERFLOW_TERM: &str = "~overflow";

fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{2bc}')
}

/// The tokens of `text`, in order, repeats included.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut len = 0;
    // Lower-case first: lower-casing can itself produce combining marks ("İ" is "i̇").
    for c in text.to_lowercase().nfkd() {
        if is_combining_mark(c) || is_apostrophe(c) {
            continue;
        }
        if c.is_alphanumeric() {
            if len < limits::SEARCH_TOKEN_MAX {
                current.push(c);
                len += 1;
            }
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
            len = 0;
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Every distinct token of what `q` searches: title, description, ingredient names and tags.
pub fn content_tokens(content: &RecipeContent) -> BTreeSet<String> {
    let mut set = BTreeSet::new();
    let mut add = |text: &str| set.extend(tokens(text));
    add(content.title());
    if let Some(description) = content.description() {
        add(description);
    }
    for ingredient in content.ingredients() {
        add(ingredient.name().as_str());
    }
    for tag in content.tags() {
        add(tag.as_str());
    }
    set
}

/// The index term of tag `tag` (as stored, lower case).
pub fn tag_term(tag: &str) -> String {
    format!("{TAG_TERM_PREFIX}{tag}")
}

/// Every term of a recipe: its tokens and its tags' terms, however many (the embedded
/// store files a recipe under all of them: a redb write transaction has no size bound).
pub fn terms(content: &RecipeContent) -> BTreeSet<String> {
    let mut terms = content_tokens(content);
    terms.extend(content.tags().iter().map(|t| tag_term(t.as_str())));
    terms
}

/// The terms a recipe is filed under in DynamoDB: [`terms`], or only [`OVERFLOW_TERM`] when
/// they are more than [`limits::INDEX_TERMS_MAX`] (a bound that keeps any change of a
/// recipe's index inside one DynamoDB transaction: see ADR 0030).
pub fn index_terms(content: &RecipeContent) -> BTreeSet<String> {
    let terms = terms(content);
    if terms.len() > limits::INDEX_TERMS_MAX {
        return BTreeSet::from([OVERFLOW_TERM.to_owned()]);
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_compatibility_forms_fold_away() {
        assert_eq!(tokens("Crème BRÛLÉE"), ["creme", "brulee"]);
        assert_eq!(tokens("ｃｒｅｍｅ"), ["creme"]);
        assert_eq!(tokens("e\u{301}clair"), ["eclair"]);
        assert_eq!(tokens("İstanbul"), ["istanbul"]);
    }

    #[test]
    fn apostrophes_join_and_other_punctuation_separates() {
        assert_eq!(tokens("Chef's stir-fry"), ["chefs", "stir", "fry"]);
        assert_eq!(tokens("don\u{2019}t  1/2 cup!"), ["dont", "1", "2", "cup"]);
        assert!(tokens(" -- ").is_empty());
    }

    #[test]
    fn scripts_without_case_keep_their_letters() {
        assert_eq!(tokens("麻婆豆腐 ramen"), ["麻婆豆腐", "ramen"]);
    }

    #[test]
    fn long_words_are_cut_the_same_way_everywhere() {
        let long = "a".repeat(100);
        assert_eq!(tokens(&long), ["a".repeat(limits::SEARCH_TOKEN_MAX)]);
    }
}
