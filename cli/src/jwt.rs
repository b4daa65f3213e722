//! What the CLI reads from a JWT without verifying it: who it names and when it expires. The
//! server verifies every token; the CLI only needs these to label a session and to know when to
//! renew it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::error::CliError;

pub type Claims = Map<String, Value>;

/// The payload of a JWS compact serialization (RFC 7515 §7.1: three base64url parts, a JSON
/// object header with `alg`, a JSON object payload, a signature), or `None` for anything else — an opaque
/// token, a JWE (five parts), text that merely contains dots.
pub fn claims(token: &str) -> Option<Claims> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    // The signature is checked for its alphabet only: a token broken by a line wrap or with
    // stray characters would otherwise be cached, and then be no valid Authorization header.
    if parts.next().is_some()
        || signature.is_empty()
        || URL_SAFE_NO_PAD
            .decode(signature.trim_end_matches('='))
            .is_err()
    {
        return None;
    }
    let decode = |part: &str| -> Option<Claims> {
        let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&bytes).ok()
    };
    decode(header)?.get("alg")?.as_str()?;
    decode(payload)
}

/// The name a person knows the token by: `preferred_username` (OpenID Connect Core §5.1),
/// Cognito's `username`, else the subject — without control characters, since it is printed
/// and the token may come from anywhere.
pub fn username(claims: &Claims) -> Option<String> {
    ["preferred_username", "username", "sub"]
        .iter()
        .filter_map(|name| claims.get(*name)?.as_str().map(printable))
        .find(|v| !v.is_empty())
}

/// Text from a token or a provider made safe for a terminal: control characters (escape
/// sequences) dropped.
pub fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}

/// `exp` (RFC 7519 §4.1.4), in Unix seconds.
pub fn expiry(claims: &Claims) -> Option<i64> {
    let exp = claims.get("exp")?;
    exp.as_i64()
        .or_else(|| exp.as_f64().filter(|v| v.is_finite()).map(|v| v as i64))
}

/// A token handed to `gota login --token-stdin`: a JWT that names its expiry and has not
/// expired. Returns its claims and its expiry.
pub fn provided(token: &str, now: i64) -> Result<(Claims, i64), CliError> {
    let claims = claims(token).ok_or_else(|| {
        CliError::Usage(
            "the token on stdin is not a JWT (three base64url parts: header.payload.signature)"
                .into(),
        )
    })?;
    let exp = expiry(&claims).ok_or_else(|| {
        CliError::Usage(
            "the token on stdin has no `exp`, so gota cannot tell when it stops working".into(),
        )
    })?;
    if exp <= now {
        return Err(CliError::Auth(format!(
            "the token on stdin expired {} s ago: get a new one from your provider",
            now - exp
        )));
    }
    Ok((claims, exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn a_jws_yields_its_payload_and_anything_else_nothing() {
        let good = jwt(r#"{"alg":"RS256"}"#, r#"{"sub":"s","exp":10}"#);
        assert_eq!(claims(&good).unwrap()["sub"], "s");
        assert!(claims("not.a.jwt").is_none());
        assert!(
            claims(&format!("{good}.x.y")).is_none(),
            "a JWE has five parts"
        );
        assert!(claims(&jwt(r#"{"typ":"JWT"}"#, r#"{"sub":"s"}"#)).is_none());
        assert!(claims(&jwt(r#"{"alg":"RS256"}"#, "[1]")).is_none());
    }

    #[test]
    fn the_username_prefers_the_preferred_username_then_username_then_sub() {
        let c = |payload: &str| claims(&jwt(r#"{"alg":"RS256"}"#, payload)).unwrap();
        let both = c(r#"{"sub":"s","username":"u","preferred_username":"p"}"#);
        assert_eq!(username(&both).as_deref(), Some("p"));
        let cognito = c(r#"{"sub":"s","username":"u"}"#);
        assert_eq!(username(&cognito).as_deref(), Some("u"));
        assert_eq!(username(&c(r#"{"sub":"s"}"#)).as_deref(), Some("s"));
    }

    #[test]
    fn a_token_broken_inside_its_signature_is_not_a_jwt() {
        // A token pasted with a line wrap: before, a break in the signature passed, was cached,
        // and every later request failed as a "network error" (not a valid header value).
        let good = jwt(r#"{"alg":"RS256"}"#, r#"{"sub":"s","exp":100}"#);
        assert!(provided(&good, 0).is_ok());
        for broken in [
            format!("{good}\nc2ln"),
            format!("{good}\r\nc2ln"),
            format!("{good} c2ln"),
            format!("{good}\u{1b}"),
            format!("{good}=+/"),
        ] {
            assert!(
                matches!(provided(&broken, 0), Err(CliError::Usage(_))),
                "{broken:?}"
            );
        }
    }

    #[test]
    fn the_username_reaches_the_terminal_without_control_characters() {
        // Printed by login and whoami, from a token anyone may pipe in or a provider may write.
        let c = |payload: &str| claims(&jwt(r#"{"alg":"RS256"}"#, payload)).unwrap();
        let named = c(r#"{"sub":"s","preferred_username":"dana\u001b]0;owned\u0007"}"#);
        assert_eq!(username(&named).as_deref(), Some("dana]0;owned"));
        let only_controls = c(r#"{"sub":"s","preferred_username":"\u001b\u009b"}"#);
        assert_eq!(username(&only_controls).as_deref(), Some("s"));
    }

    #[test]
    fn a_provided_token_needs_an_exp_in_the_future() {
        let token = |payload: &str| jwt(r#"{"alg":"RS256"}"#, payload);
        assert_eq!(provided(&token(r#"{"exp":100}"#), 99).unwrap().1, 100);
        assert!(matches!(
            provided(&token(r#"{"exp":100}"#), 100),
            Err(CliError::Auth(_))
        ));
        assert!(matches!(
            provided(&token(r#"{"sub":"s"}"#), 0),
            Err(CliError::Usage(_))
        ));
    }
}
