//! Entity tags and the conditional request headers of RFC 9110 §13.
//!
//! Gota's validator is the strong ETag `"<version>"`. `If-Match` uses the strong comparison
//! (a weak tag never matches); `If-None-Match` the weak one. [`evaluate`] is the one place
//! every method (GET, PUT, PATCH, DELETE) asks, always against the recipe as stored now and
//! only once the caller may see it — so a precondition can never tell anyone else's recipe
//! from a missing one (404 comes first).
//!
//! Date preconditions (`If-Unmodified-Since`, `If-Modified-Since`) are ignored: Gota sends no
//! `Last-Modified`, so a recipe has no modification date a client could have been given
//! (RFC 9110 §13.1.3 and §13.1.4 have a recipient ignore these fields when the resource has no
//! modification date available), and a one-second HTTP-date could not tell apart two versions
//! written in the same second anyway. The ETag is the only validator.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::{HeaderMap, HeaderValue, Method, header, request::Parts};

/// What the conditional headers decide for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// Go on with the method.
    Proceed,
    /// 304: the client's copy is current (GET and HEAD only).
    NotModified,
    /// 412: the method must not be applied.
    Failed,
}

/// Evaluates the request's preconditions against the current version, in the order of
/// RFC 9110 §13.2.2: `If-Match` (step 1; false → 412), then `If-None-Match` (step 3; a match
/// is 304 for GET and HEAD, 412 for every other method, RFC 9110 §13.1.2 — so
/// `If-None-Match: *` on a write to an existing recipe is a 412). Steps 2 and 4 are the date
/// preconditions, ignored (see the module documentation).
pub fn evaluate(conditions: &Conditions, method: &Method, current_version: u64) -> Precondition {
    evaluate_tag(
        conditions,
        method,
        &Current {
            opaque: &current_version.to_string(),
            weak: false,
        },
    )
}

/// The entity tag a representation is sent with: its opaque text (between the quotes) and
/// whether it is weak (`W/`).
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub opaque: &'a str,
    pub weak: bool,
}

/// [`evaluate`] for a representation whose tag is not the strong `"<version>"`.
pub fn evaluate_tag(
    conditions: &Conditions,
    method: &Method,
    current: &Current<'_>,
) -> Precondition {
    if !if_match_passes_tag(conditions, current) {
        return Precondition::Failed;
    }
    if if_none_match_hits_tag(conditions, current) {
        return if method == Method::GET || method == Method::HEAD {
            Precondition::NotModified
        } else {
            Precondition::Failed
        };
    }
    Precondition::Proceed
}

/// The strong ETag of a recipe version, `"<version>"`: the tag every write compares with.
pub fn etag(version: u64) -> HeaderValue {
    etag_of(&version.to_string())
}

/// The strong ETag with this opaque part (visible ASCII without `"`, as built by the caller).
pub fn etag_of(opaque: &str) -> HeaderValue {
    HeaderValue::try_from(format!("\"{opaque}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// The conditional headers of a request (`If-Match`, `If-None-Match`), taken out of it as an
/// extractor so that a handler need not copy the whole header map to evaluate them later.
///
/// Each is kept as its field values joined with `,` (RFC 9110 §5.3: repeated field lines are
/// one comma-separated list). A value that is not visible ASCII / obs-text UTF-8 is kept as
/// NUL, which no entity-tag list parses: a malformed `If-Match` never matches (so it can never
/// authorise a write) and a malformed `If-None-Match` never hits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    if_match: Option<String>,
    if_none_match: Option<String>,
}

impl Conditions {
    pub fn from_headers(headers: &HeaderMap) -> Self {
        Self {
            if_match: header_values(headers, &header::IF_MATCH),
            if_none_match: header_values(headers, &header::IF_NONE_MATCH),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Conditions {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Self::from_headers(&parts.headers))
    }
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
    let mut values = headers.get_all(name).iter();
    let mut joined = String::from(values.next()?.to_str().unwrap_or("\u{0}"));
    for value in values {
        joined.push(',');
        joined.push_str(value.to_str().unwrap_or("\u{0}"));
    }
    Some(joined)
}

/// `If-Match` against the current version: true when absent or when a listed strong tag
/// (or `*`) matches. A malformed header never matches, so it can never authorise a write.
#[cfg(test)]
fn if_match_passes(conditions: &Conditions, opaque: &str) -> bool {
    if_match_passes_tag(
        conditions,
        &Current {
            opaque,
            weak: false,
        },
    )
}

/// `If-Match` against the current tag: the strong comparison, which a weak tag never passes
/// (RFC 9110 §8.8.3.2), so only `*` passes for a representation with a weak tag.
fn if_match_passes_tag(conditions: &Conditions, current: &Current<'_>) -> bool {
    let Some(raw) = &conditions.if_match else {
        return true;
    };
    parse_list(raw).is_some_and(|tags| {
        tags.iter().any(|tag| match tag {
            Tag::Any => true,
            Tag::Strong(opaque) => !current.weak && *opaque == current.opaque,
            Tag::Weak(_) => false,
        })
    })
}

/// `If-None-Match` against the current version: true when the client's copy is current
/// (answer 304). Weak comparison, as RFC 9110 prescribes for this header.
#[cfg(test)]
fn if_none_match_hits(conditions: &Conditions, opaque: &str) -> bool {
    if_none_match_hits_tag(
        conditions,
        &Current {
            opaque,
            weak: false,
        },
    )
}

/// `If-None-Match` against the current tag, compared weakly (RFC 9110 §13.1.2).
fn if_none_match_hits_tag(conditions: &Conditions, current: &Current<'_>) -> bool {
    let Some(raw) = &conditions.if_none_match else {
        return false;
    };
    parse_list(raw).is_some_and(|tags| {
        tags.iter().any(|tag| match tag {
            Tag::Any => true,
            Tag::Strong(opaque) | Tag::Weak(opaque) => *opaque == current.opaque,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header_map(name: &header::HeaderName, values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for v in values {
            map.append(
                name.clone(),
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("x")),
            );
        }
        map
    }

    fn headers(name: &header::HeaderName, values: &[&str]) -> Conditions {
        Conditions::from_headers(&header_map(name, values))
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        assert!(
            if_match_passes(&Conditions::default(), "3"),
            "absent header passes"
        );
        assert!(if_match_passes(
            &headers(&header::IF_MATCH, &["\"3\""]),
            "3"
        ));
        assert!(!if_match_passes(
            &headers(&header::IF_MATCH, &["\"2\""]),
            "3"
        ));
        assert!(
            !if_match_passes(&headers(&header::IF_MATCH, &["W/\"3\""]), "3"),
            "weak never matches"
        );
        assert!(if_match_passes(&headers(&header::IF_MATCH, &["*"]), "3"));
        assert!(
            if_match_passes(&headers(&header::IF_MATCH, &["\"1\", \"3\""]), "3"),
            "lists"
        );
        assert!(
            if_match_passes(&headers(&header::IF_MATCH, &["\"1\"", "\"3\""]), "3"),
            "repeated headers"
        );
        assert!(
            !if_match_passes(&headers(&header::IF_MATCH, &["3"]), "3"),
            "unquoted is malformed"
        );
        assert!(!if_match_passes(
            &headers(&header::IF_MATCH, &["\"3\" junk"]),
            "3"
        ));
        assert!(!if_match_passes(&headers(&header::IF_MATCH, &[""]), "3"));
    }

    #[test]
    fn if_none_match_uses_weak_comparison() {
        assert!(!if_none_match_hits(&Conditions::default(), "1"));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["\"1\""]),
            "1"
        ));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["W/\"1\""]),
            "1"
        ));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["\"0\", W/\"1\""]),
            "1"
        ));
        assert!(if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["*"]),
            "1"
        ));
        assert!(!if_none_match_hits(
            &headers(&header::IF_NONE_MATCH, &["\"2\""]),
            "1"
        ));
    }

    fn strong(opaque: &str) -> Current<'_> {
        Current {
            opaque,
            weak: false,
        }
    }

    #[test]
    fn a_representation_tag_matches_only_itself() {
        let stored = headers(&header::IF_NONE_MATCH, &["\"3\""]);
        let metric = headers(&header::IF_NONE_MATCH, &["\"3-metric\""]);
        assert_eq!(
            evaluate_tag(&stored, &Method::GET, &strong("3-metric")),
            Precondition::Proceed
        );
        assert_eq!(
            evaluate_tag(&metric, &Method::GET, &strong("3-metric")),
            Precondition::NotModified
        );
        assert_eq!(evaluate(&metric, &Method::GET, 3), Precondition::Proceed);
        let pinned = headers(&header::IF_MATCH, &["\"3\""]);
        assert_eq!(
            evaluate_tag(&pinned, &Method::GET, &strong("3-us")),
            Precondition::Failed
        );
    }

    #[test]
    fn preconditions_are_evaluated_in_rfc_9110_order_for_every_method() {
        let none = Conditions::default();
        let mut stale_match_and_hit = header_map(&header::IF_MATCH, &["\"2\""]);
        stale_match_and_hit.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"3\""));
        let stale_match_and_hit = Conditions::from_headers(&stale_match_and_hit);
        let mut fresh_match_and_star = header_map(&header::IF_MATCH, &["\"3\""]);
        fresh_match_and_star.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        let fresh_match_and_star = Conditions::from_headers(&fresh_match_and_star);
        let star = headers(&header::IF_NONE_MATCH, &["*"]);
        let weak_hit = headers(&header::IF_NONE_MATCH, &["W/\"3\""]);
        let miss = headers(&header::IF_NONE_MATCH, &["\"2\""]);
        let date = headers(
            &header::IF_UNMODIFIED_SINCE,
            &["Thu, 01 Jan 1970 00:00:00 GMT"],
        );
        for method in [Method::GET, Method::HEAD] {
            assert_eq!(evaluate(&none, &method, 3), Precondition::Proceed);
            assert_eq!(evaluate(&star, &method, 3), Precondition::NotModified);
            assert_eq!(evaluate(&weak_hit, &method, 3), Precondition::NotModified);
            assert_eq!(evaluate(&miss, &method, 3), Precondition::Proceed);
            assert_eq!(
                evaluate(&stale_match_and_hit, &method, 3),
                Precondition::Failed,
                "If-Match is step 1, before If-None-Match"
            );
        }
        for method in [Method::PUT, Method::PATCH, Method::DELETE] {
            assert_eq!(evaluate(&none, &method, 3), Precondition::Proceed);
            assert_eq!(
                evaluate(&star, &method, 3),
                Precondition::Failed,
                "{method} *"
            );
            assert_eq!(evaluate(&weak_hit, &method, 3), Precondition::Failed);
            assert_eq!(evaluate(&miss, &method, 3), Precondition::Proceed);
            assert_eq!(
                evaluate(&fresh_match_and_star, &method, 3),
                Precondition::Failed,
                "a passing If-Match still leaves If-None-Match to evaluate"
            );
            assert_eq!(
                evaluate(&date, &method, 3),
                Precondition::Proceed,
                "date preconditions are ignored"
            );
        }
    }

    #[test]
    fn a_weak_tag_of_its_own_passes_only_star_in_if_match_and_only_itself_in_if_none_match() {
        let ld = Current {
            opaque: "3-ld",
            weak: true,
        };
        let get = |name: &header::HeaderName, value: &str| {
            evaluate_tag(&headers(name, &[value]), &Method::GET, &ld)
        };
        for tag in ["\"3-ld\"", "W/\"3-ld\"", "*"] {
            assert_eq!(
                get(&header::IF_NONE_MATCH, tag),
                Precondition::NotModified,
                "{tag}"
            );
        }
        for tag in ["\"3\"", "W/\"3\"", "\"2-ld\""] {
            assert_eq!(
                get(&header::IF_NONE_MATCH, tag),
                Precondition::Proceed,
                "{tag}"
            );
        }
        for tag in ["\"3-ld\"", "W/\"3-ld\"", "\"3\""] {
            assert_eq!(get(&header::IF_MATCH, tag), Precondition::Failed, "{tag}");
        }
        assert_eq!(get(&header::IF_MATCH, "*"), Precondition::Proceed);
    }

    #[test]
    fn etag_is_the_quoted_version() {
        for version in [0, 1, 9, 10, 42, 1_000_000, u64::MAX] {
            assert_eq!(
                etag(version),
                format!("\"{version}\"").as_str(),
                "{version}"
            );
        }
    }

    #[test]
    fn conditions_keep_repeated_lines_as_one_list_and_unreadable_values_as_unmatchable() {
        assert_eq!(
            Conditions::from_headers(&HeaderMap::new()),
            Conditions::default()
        );
        let repeated = header_map(&header::IF_MATCH, &["\"1\"", "W/\"2\", \"3\""]);
        assert_eq!(
            Conditions::from_headers(&repeated).if_match.as_deref(),
            Some("\"1\",W/\"2\", \"3\"")
        );
        assert!(if_match_passes(&Conditions::from_headers(&repeated), "3"));
        let empty = headers(&header::IF_NONE_MATCH, &[""]);
        assert_eq!(
            empty.if_none_match.as_deref(),
            Some(""),
            "present but empty"
        );
        assert!(!if_none_match_hits(&empty, "1"));
        // obs-text is a valid header value but not UTF-8 text: kept as an unparsable NUL.
        let mut opaque = HeaderMap::new();
        opaque.append(
            header::IF_MATCH,
            HeaderValue::from_bytes(b"\"\xff\"").unwrap(),
        );
        opaque.append(
            header::IF_NONE_MATCH,
            HeaderValue::from_bytes(b"\"\xff\"").unwrap(),
        );
        opaque.append(header::IF_NONE_MATCH, HeaderValue::from_static("\"1\""));
        let opaque = Conditions::from_headers(&opaque);
        assert!(
            !if_match_passes(&opaque, "1"),
            "an unreadable If-Match never passes"
        );
        assert!(
            !if_none_match_hits(&opaque, "1"),
            "one unreadable member makes the whole If-None-Match list malformed"
        );
        let other = header_map(
            &header::IF_UNMODIFIED_SINCE,
            &["Thu, 01 Jan 1970 00:00:00 GMT"],
        );
        assert_eq!(Conditions::from_headers(&other), Conditions::default());
    }
}
