//! Proactive content negotiation on `Accept` (RFC 9110 §12.5.1): choosing which of the media
//! types a route can produce the client prefers.
//!
//! Each offered type gets the quality of the most specific media range that matches it
//! (`type/subtype` over `type/*` over `*/*`; RFC 9110 §12.5.1: "media ranges can be overridden
//! by more specific media ranges"); `q=0` means "not acceptable" (§12.4.2). The highest
//! quality wins; on a tie the first offer (the route's default) wins, and no `Accept` at all
//! means "any" (§12.5.1). Media-type parameters other than `q` are ignored when matching: no
//! type Gota serves has parameters that change what it is. A range that does not parse is
//! skipped, as if the client had not sent it.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

/// The quality (0–1000, thousandths) of `offer` (`type/subtype`, lower-case) under the
/// `Accept` field values; 0 when no range matches it.
fn quality(accept: &[&str], offer: &str) -> u16 {
    let (offer_type, _) = offer.split_once('/').unwrap_or((offer, ""));
    // (specificity, quality) of the best-matching range so far.
    let mut best: Option<(u8, u16)> = None;
    for range in accept.iter().flat_map(|v| v.split(',')) {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if media.is_empty() {
            continue;
        }
        // A bare `*` is not in the grammar, but Java's HttpURLConnection sends it by default
        // (`*; q=.2`), meaning `*/*`.
        let media = if media == "*" {
            "*/*".to_owned()
        } else {
            media
        };
        let Some((range_type, range_subtype)) = media.split_once('/') else {
            continue;
        };
        let mut q = Some(1000);
        for parameter in parts {
            if let Some((name, value)) = parameter.split_once('=')
                && name.trim().eq_ignore_ascii_case("q")
            {
                q = parse_q(value.trim());
            }
        }
        let Some(q) = q else { continue };
        let specificity = match (range_type, range_subtype) {
            ("*", "*") => 0,
            (t, "*") if t == offer_type => 1,
            _ if media == offer => 2,
            _ => continue,
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.map_or(0, |(_, q)| q)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110 §12.4.2), in
/// thousandths; also `.2` for `0.2`, as Java's HttpURLConnection sends it by default.
fn parse_q(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let whole = if whole.is_empty() && !fraction.is_empty() {
        "0"
    } else {
        whole
    };
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The index into `offers` of the representation to send, or `None` when the client accepts
/// none of them (a 406). `offers` are lower-case `type/subtype`, the default first.
pub fn choose(headers: &HeaderMap, offers: &[&str]) -> Option<usize> {
    let accept: Vec<&str> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if accept.iter().all(|v| v.trim().is_empty()) {
        return (!offers.is_empty()).then_some(0);
    }
    let mut chosen: Option<(usize, u16)> = None;
    for (i, offer) in offers.iter().enumerate() {
        let q = quality(&accept, offer);
        if q > 0 && chosen.is_none_or(|(_, best)| q > best) {
            chosen = Some((i, q));
        }
    }
    chosen.map(|(i, _)| i)
}

/// `Vary: Accept` on a response whose representation depends on `Accept` (RFC 9110 §12.5.5),
/// so a cache never answers one client with the form another asked for.
pub async fn vary_accept(mut response: Response) -> Response {
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    const OFFERS: [&str; 2] = ["application/json", "application/ld+json"];

    fn chosen(accept: Option<&str>) -> Option<&'static str> {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(
                header::ACCEPT,
                HeaderValue::from_str(accept).unwrap_or(HeaderValue::from_static("")),
            );
        }
        choose(&headers, &OFFERS).and_then(|i| OFFERS.get(i).copied())
    }

    #[test]
    fn accept_headers_choose_as_rfc_9110_says() {
        let json = Some("application/json");
        let ld = Some("application/ld+json");
        for (accept, expected) in [
            (None, json),
            (Some(""), json),
            (Some("*/*"), json),
            (Some("application/*"), json),
            (Some("application/json"), json),
            (Some("application/ld+json"), ld),
            (Some("Application/LD+JSON"), ld),
            (Some("application/ld+json, application/json"), json),
            (Some("application/ld+json, application/json;q=0.9"), ld),
            (
                Some("application/json;q=0.5, application/ld+json;q=0.8"),
                ld,
            ),
            (Some("application/json;q=0, */*"), ld),
            (Some("*/*;q=0.1, application/ld+json"), ld),
            (Some("application/*;q=0.2, application/json;q=0.1"), ld),
            (
                Some("application/ld+json; profile=\"https://schema.org\""),
                ld,
            ),
            (Some("text/html"), None),
            (Some("application/json;q=0"), None),
            (Some("*/*;q=0"), None),
            (Some("application/*;q=0, text/*"), None),
            (
                Some("application/ld+json;q=2, application/json;q=0.001"),
                json,
            ),
            (Some("application/ld+json;q=0.0001"), None),
            (Some("nonsense, application/ld+json"), ld),
            // Java's HttpURLConnection sends this by default: a bare `*` and `q=.2`, neither
            // in RFC 9110's grammar, and read by every server as `*/*;q=0.2`.
            (
                Some("text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"),
                json,
            ),
            (Some("*"), json),
        ] {
            assert_eq!(chosen(accept), expected, "{accept:?}");
        }
    }

    #[test]
    fn qvalues_are_read_as_the_grammar_allows() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("0"), Some(0));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("-1"), None);
        assert_eq!(parse_q(""), None);
        assert_eq!(parse_q(".2"), Some(200));
        assert_eq!(parse_q("."), None);
    }
}
