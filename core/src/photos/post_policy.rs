//! S3's browser-based upload: a POST policy and the form fields that carry it, signed with
//! AWS Signature Version 4 by hand (the SDK presigns PUT and GET requests only).
//!
//! What S3 requires, from its documentation:
//! - "Browser-Based Uploads Using POST (AWS Signature Version 4)" and "Authenticating Requests:
//!   Browser-Based Uploads Using POST (AWS Signature Version 4)"
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-authentication-HTTPPOST.html>):
//!   the form carries `policy` (the base64 of the policy document, which is also the string to
//!   sign), `x-amz-algorithm` (`AWS4-HMAC-SHA256`), `x-amz-credential`
//!   (`<access key id>/<yyyymmdd>/<region>/s3/aws4_request`), `x-amz-date` (ISO 8601 basic,
//!   `20151229T000000Z`) and `x-amz-signature` (hex HMAC-SHA256 of the policy under the SigV4
//!   signing key); the policy itself must list `x-amz-algorithm`, `x-amz-credential` and
//!   `x-amz-date` among its conditions. With temporary credentials (Lambda's) the session token
//!   goes in `x-amz-security-token`, as a field and as a condition.
//! - "POST Policy" (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>):
//!   `expiration` in ISO 8601 GMT (`2013-08-01T12:00:00.000Z`), every form field but `policy`,
//!   `x-amz-signature` and `file` must match a condition, `{"field": value}` is an exact match,
//!   and `["content-length-range", min, max]` bounds the file's size in bytes.
//! - "Example: Browser-Based Upload using HTTP POST (Using AWS Signature Version 4)"
//!   (<https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-post-example.html>): a policy,
//!   credentials and date with the signature they give; [`tests`] checks [`signature`] against
//!   it.
//! - The form's file field must be the last one ("POST Object",
//!   <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html>).

use aws_lc_rs::hmac;
use base64::Engine as _;
use time::OffsetDateTime;
use time::macros::format_description;

/// The only algorithm S3 accepts for SigV4 POST uploads.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What one upload may be: exactly this key and content type, 1 to `max_bytes` bytes, before
/// `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadRules<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    pub content_type: &'a str,
    pub max_bytes: u64,
    pub expires_at: OffsetDateTime,
}

/// The credentials a policy is signed with (the SDK's, at the time of signing).
#[derive(Clone, Copy)]
pub struct SigningCredentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    /// Present with temporary credentials (Lambda's, STS's).
    pub session_token: Option<&'a str>,
}

impl std::fmt::Debug for SigningCredentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The form fields of an upload under `rules`, signed for `region` at `now`, in the order to
/// send them (the file goes after them all, as the field `file`).
pub fn form_fields(
    rules: &UploadRules<'_>,
    credentials: &SigningCredentials<'_>,
    region: &str,
    now: OffsetDateTime,
) -> Vec<(String, String)> {
    let now = now.to_offset(time::UtcOffset::UTC);
    let date_time = format_basic(now);
    let date = date_time.get(..8).unwrap_or_default().to_owned();
    let credential = format!(
        "{}/{date}/{region}/s3/aws4_request",
        credentials.access_key_id
    );
    let policy = policy_document(rules, &credential, &date_time, credentials.session_token);
    let policy = base64::engine::general_purpose::STANDARD.encode(policy.to_string());
    let signature = signature(credentials.secret_access_key, &date, region, &policy);

    let mut fields = vec![
        ("key".to_owned(), rules.key.to_owned()),
        ("Content-Type".to_owned(), rules.content_type.to_owned()),
    ];
    if let Some(token) = credentials.session_token {
        fields.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    fields.extend([
        ("policy".to_owned(), policy),
        ("x-amz-algorithm".to_owned(), ALGORITHM.to_owned()),
        ("x-amz-credential".to_owned(), credential),
        ("x-amz-date".to_owned(), date_time),
        ("x-amz-signature".to_owned(), signature),
    ]);
    fields
}

/// The policy document: every field of the form is matched exactly, the size is bounded.
fn policy_document(
    rules: &UploadRules<'_>,
    credential: &str,
    date_time: &str,
    session_token: Option<&str>,
) -> serde_json::Value {
    let mut conditions = vec![
        serde_json::json!({ "bucket": rules.bucket }),
        serde_json::json!({ "key": rules.key }),
        serde_json::json!({ "Content-Type": rules.content_type }),
        serde_json::json!(["content-length-range", 1, rules.max_bytes]),
        serde_json::json!({ "x-amz-algorithm": ALGORITHM }),
        serde_json::json!({ "x-amz-credential": credential }),
        serde_json::json!({ "x-amz-date": date_time }),
    ];
    if let Some(token) = session_token {
        conditions.push(serde_json::json!({ "x-amz-security-token": token }));
    }
    serde_json::json!({
        "expiration": format_expiration(rules.expires_at),
        "conditions": conditions,
    })
}

/// `20151229T000000Z`: SigV4's `x-amz-date`.
fn format_basic(at: OffsetDateTime) -> String {
    let format = format_description!("[year][month][day]T[hour][minute][second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// `2015-12-30T12:00:00.000Z`: the policy's `expiration`.
fn format_expiration(at: OffsetDateTime) -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// SigV4 for POST: the signing key derived from the secret, the date (`yyyymmdd`), the region
/// and `s3`, then the hex HMAC-SHA256 of the string to sign (the base64 policy).
pub fn signature(
    secret_access_key: &str,
    date: &str,
    region: &str,
    string_to_sign: &str,
) -> String {
    let mut key = format!("AWS4{secret_access_key}").into_bytes();
    for part in [date, region, "s3", "aws4_request"] {
        key = mac(&key, part.as_bytes());
    }
    hex(&mac(&key, string_to_sign.as_bytes()))
}

fn mac(key: &[u8], message: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message)
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::{Value, json};
    use time::macros::datetime;

    /// The worked example of "Example: Browser-Based Upload using HTTP POST (Using AWS
    /// Signature Version 4)" in the S3 API reference: its base64 policy (the string to sign,
    /// CRLF line ends and all), credentials, date and region, and the signature the page states.
    /// AWS's own PHP SDK tests its POST signing against the same numbers.
    const EXAMPLE_POLICY: &str = "eyAiZXhwaXJhdGlvbiI6ICIyMDE1LTEyLTMwVDEyOjAwOjAwLjAwMFoiLA0KICAiY29uZGl0aW9ucyI6IFsNCiAgICB7ImJ1Y2tldCI6ICJzaWd2NGV4YW1wbGVidWNrZXQifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRrZXkiLCAidXNlci91c2VyMS8iXSwNCiAgICB7ImFjbCI6ICJwdWJsaWMtcmVhZCJ9LA0KICAgIHsic3VjY2Vzc19hY3Rpb25fcmVkaXJlY3QiOiAiaHR0cDovL3NpZ3Y0ZXhhbXBsZWJ1Y2tldC5zMy5hbWF6b25hd3MuY29tL3N1Y2Nlc3NmdWxfdXBsb2FkLmh0bWwifSwNCiAgICBbInN0YXJ0cy13aXRoIiwgIiRDb250ZW50LVR5cGUiLCAiaW1hZ2UvIl0sDQogICAgeyJ4LWFtei1tZXRhLXV1aWQiOiAiMTQzNjUxMjM2NTEyNzQifSwNCiAgICB7IngtYW16LXNlcnZlci1zaWRlLWVuY3J5cHRpb24iOiAiQUVTMjU2In0sDQogICAgWyJzdGFydHMtd2l0aCIsICIkeC1hbXotbWV0YS10YWciLCAiIl0sDQoNCiAgICB7IngtYW16LWNyZWRlbnRpYWwiOiAiQUtJQUlPU0ZPRE5ON0VYQU1QTEUvMjAxNTEyMjkvdXMtZWFzdC0xL3MzL2F3czRfcmVxdWVzdCJ9LA0KICAgIHsieC1hbXotYWxnb3JpdGhtIjogIkFXUzQtSE1BQy1TSEEyNTYifSwNCiAgICB7IngtYW16LWRhdGUiOiAiMjAxNTEyMjlUMDAwMDAwWiIgfQ0KICBdDQp9";
    const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    const EXAMPLE_SIGNATURE: &str =
        "8afdbf4008c03f22c2cd3cdb72e4afbb1f6a588f3255ac628749a66d7f09699e";

    #[test]
    fn the_signature_of_the_aws_example_is_the_one_the_page_states() {
        assert_eq!(
            signature(EXAMPLE_SECRET, "20151229", "us-east-1", EXAMPLE_POLICY),
            EXAMPLE_SIGNATURE
        );
        // The example's policy is the one its page prints (and signs its own date and scope).
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(EXAMPLE_POLICY)
            .unwrap();
        let decoded = String::from_utf8(decoded).unwrap();
        assert!(decoded.contains(
            r#"{"x-amz-credential": "AKIAIOSFODNN7EXAMPLE/20151229/us-east-1/s3/aws4_request"}"#
        ));
    }

    const NOW: OffsetDateTime = datetime!(2026-12-03 14:00:07.250 UTC);

    fn rules() -> UploadRules<'static> {
        UploadRules {
            bucket: "gota-photos-abc",
            key: "uploads/YWxpY2U/0192a/0193b",
            content_type: "image/jpeg",
            max_bytes: 20_971_520,
            expires_at: datetime!(2026-12-03 14:15:07.250 UTC),
        }
    }

    const LAMBDA: SigningCredentials<'static> = SigningCredentials {
        access_key_id: "ASIAEXAMPLE",
        secret_access_key: "secret/with+chars",
        session_token: Some("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ=="),
    };

    fn field<'f>(fields: &'f [(String, String)], name: &str) -> &'f str {
        let found: Vec<&str> = fields
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect();
        assert_eq!(found.len(), 1, "{name} appears once: {fields:?}");
        found[0]
    }

    fn decoded_policy(fields: &[(String, String)]) -> Value {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(field(fields, "policy"))
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn the_policy_allows_exactly_that_key_type_and_size_until_the_expiry() {
        let fields = form_fields(&rules(), &LAMBDA, "eu-west-1", NOW);
        let policy = decoded_policy(&fields);
        assert_eq!(policy["expiration"], "2026-12-03T14:15:07.250Z");
        assert_eq!(
            policy["conditions"],
            json!([
                {"bucket": "gota-photos-abc"},
                {"key": "uploads/YWxpY2U/0192a/0193b"},
                {"Content-Type": "image/jpeg"},
                ["content-length-range", 1, 20_971_520],
                {"x-amz-algorithm": "AWS4-HMAC-SHA256"},
                {"x-amz-credential": "ASIAEXAMPLE/20261203/eu-west-1/s3/aws4_request"},
                {"x-amz-date": "20261203T140007Z"},
                {"x-amz-security-token": LAMBDA.session_token.unwrap()},
            ])
        );
        assert_eq!(policy.as_object().unwrap().len(), 2, "{policy}");
    }

    #[test]
    fn the_fields_carry_what_the_policy_names_and_are_signed_over_the_policy() {
        let fields = form_fields(&rules(), &LAMBDA, "eu-west-1", NOW);
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "Content-Type",
                "x-amz-security-token",
                "policy",
                "x-amz-algorithm",
                "x-amz-credential",
                "x-amz-date",
                "x-amz-signature"
            ]
        );
        // Every field but policy and the signature is matched exactly by a condition.
        let policy = decoded_policy(&fields);
        for (name, value) in &fields {
            if name == "policy" || name == "x-amz-signature" {
                continue;
            }
            assert!(
                policy["conditions"]
                    .as_array()
                    .unwrap()
                    .contains(&json!({ name: value })),
                "{name}={value} has no exact condition"
            );
        }
        assert_eq!(
            field(&fields, "x-amz-signature"),
            signature(
                LAMBDA.secret_access_key,
                "20261203",
                "eu-west-1",
                field(&fields, "policy")
            )
        );
        assert_eq!(field(&fields, "x-amz-signature").len(), 64);
    }

    #[test]
    fn long_lived_credentials_send_and_sign_no_session_token() {
        let credentials = SigningCredentials {
            session_token: None,
            ..LAMBDA
        };
        let fields = form_fields(&rules(), &credentials, "eu-west-1", NOW);
        assert!(fields.iter().all(|(n, _)| n != "x-amz-security-token"));
        assert!(
            !decoded_policy(&fields)
                .to_string()
                .contains("security-token")
        );
    }

    #[test]
    fn another_time_or_region_gives_another_signature() {
        let fields = form_fields(&rules(), &LAMBDA, "eu-west-1", NOW);
        let later = form_fields(
            &rules(),
            &LAMBDA,
            "eu-west-1",
            NOW + time::Duration::days(1),
        );
        let elsewhere = form_fields(&rules(), &LAMBDA, "us-east-1", NOW);
        let signed = |f: &[(String, String)]| field(f, "x-amz-signature").to_owned();
        assert_ne!(signed(&fields), signed(&later));
        assert_ne!(signed(&fields), signed(&elsewhere));
        assert_eq!(field(&later, "x-amz-date"), "20261204T140007Z");
    }
}
