//! Entity tags and the conditional request headers of RFC 9110 §13.
//!
//! Gota's validator is the strong ETag `"<version>"`. `If-Match` uses the strong comparison
//! (a weak tag never matches); `If-None-Match` the weak one.

use axum::http::{HeaderMap, HeaderValue, header};

/// The strong ETag of a recipe version.
pub fn etag(version: u64) -> HeaderValue {
    // Digits between quotes are always a valid header value.
    HeaderValue::try_from(format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

#[derive(Debug, PartialEq, Eq)]
enum Tag<'a> {
    Any,
    Strong(&'a str),
    Weak(&'a str),
}

/// Parses a comma-separated list of entity tags; `None` if any member is malformed.
fn parse_list(value: &str) -> Option<Vec<Tag<'_>>> {
    let value = value.trim();
    if value == "*" {
        return Some(vec![Tag::Any]);
    }
    let mut tags = Vec::new();
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, after_prefix) = match rest.strip_prefix("W/") {
            Some(after) => (true, after),
            None => (false, rest),
        };
        let quoted = after_prefix.strip_prefix('"')?;
        let end = quoted.find('"')?;
        let opaque = quoted.get(..end)?;
        // etagc = %x21 / %x23-7E / obs-text
        if !opaque
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
        {
            return None;
        }
        tags.push(if weak {
            Tag::Weak(opaque)
        } else {
            Tag::Strong(opaque)
        });
        rest = quoted.get(end + 1..)?;
        let trimmed = rest.trim_start_matches([' ', '\t']);
        if !(trimmed.is_empty() || trimmed.starts_with(',')) {
            return None;
        }
    }
    if tags.is_empty() { None } else { Some(tags) }
}

fn header_values(headers: &HeaderMap, name: &header::HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or("\u{0}"))
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join(","))
    }
}

/// Whether the request carries `If-Match` at all.
pub fn has_if_match(headers: &HeaderMap) -> bool {
    headers.contains_key(header::IF_MATCH)
}

/// `If-Match` against the current version: true when absent or when a listed strong tag
/// (or `*`) matches. A malformed header never matches, so it can never authorise a write.
pub fn if_match_passes(headers: &HeaderMap, current_version: u64) -> bool {
    let Some(raw) = header_values(headers, &header::IF_MATCH) else {
        return true;
    };
    let current = current_version.to_string();
    parse_list(&raw).is_some_and(|tags| {
        tags.iter().any(|tag| match tag {
            Tag::Any => true,
            Tag::Strong(opaque) => *opaque == current,
            Tag::Weak(_) => false,
        })
    })
}

/// `If-None-Match` against the current version: true when the client's copy is current
/// (answer 304). Weak comparison, as RFC 9110 prescribes for this header.
pub fn if_none_match_hits(headers: &HeaderMap, current_version: u64) -> bool {
    let Some(raw) = header_values(headers, &header::IF_NONE_MATCH) else {
        return false;
    };
    let current = current_version.to_string();
    parse_list(&raw).is_some_and(|tags| {
        tags.iter().any(|tag| match tag {
            Tag::Any => true,
            Tag::Strong(opaque) | Tag::Weak(opaque) => *opaque == current,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: &header::HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                name.clone(),
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("x")),
            );
        }
        map
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        assert!(
            if_match_passes(&HeaderMap::new(), 3),
            "absent header passes"
        );
        assert!(if_match_passes(&headers(&header::IF_MATCH, &["\"3\""]), 3));
        assert!(!if_match_passes(&headers(&header::IF_MATCH, &["\"2\""]), 3));
        assert!(
            !if_match_passes(&headers(&header::IF_MATCH, &["W/\"3\""]), 3),
            "weak never matches"
        );
        assert!(if_match_passes(&headers(&header::IF_MATCH, &["*"]), 3));
        assert!(
            if_match_passes(&headers(&header::IF_MATCH, &["\"1\", \"3\""]), 3),
            "lists"
        );
        assert!(
            if_match_passes(&headers(&header::IF_MATCH, &["\"1\"", "\"3\""]), 3),
            "repeated headers"
        );
        assert!(
            !if_match_passes(&headers(&header::IF_MATCH, &["3"]), 3),
            "unquoted is malformed"
        );
        assert!(!if_match_passes(
            &headers(&header::IF_MATCH, &["\"3\" junk"]),
            3
        ));
        assert!(!if_match_passes(&headers(&header::IF_MATCH, &[""]), 3));
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert!(!if_none_match_hits(&HeaderMap::new(), 1));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["\"1\""]),
            1
        ));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["W/\"1\""]),
            1
        ));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["\"0\", W/\"1\""]),
            1
        ));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["*"]),
            1
        ));
        assert!(!if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["\"2\""]),
            1
        ));
    }

    #[test]
    fn etag_is_the_quoted_version() {
        assert_eq!(etag(42), HeaderValue::from_static("\"42\""));
    }
}
