//! The parts of the generic OpenID Connect mode (`GOTA_OIDC_ISSUER`, standalone only) that are
//! not Cognito's: which URLs may carry an issuer's keys, where the caller's groups are in a
//! token ([`AdminClaim`]), and the discovery document that names the JWKS.

use serde_json::Value;

use crate::auth::AuthError;

/// The claim holding the caller's groups or roles in OIDC mode (`GOTA_ADMIN_CLAIM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminClaim {
    /// A top-level claim, named literally: dots and colons are part of the name
    /// (`urn:zitadel:iam:org:project:roles`).
    Name(String),
    /// An RFC 6901 JSON pointer into the claims (`/realm_access/roles`, Keycloak's realm roles).
    Pointer(String),
}

impl AdminClaim {
    /// A value starting with `/` is a JSON pointer, anything else a claim name. The message
    /// says what is wrong, for the configuration error.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.is_empty() {
            return Err("is empty");
        }
        if !raw.starts_with('/') {
            return Ok(Self::Name(raw.to_owned()));
        }
        // RFC 6901 §3: `~` only escapes, as `~0` (a `~`) or `~1` (a `/`).
        let mut chars = raw.chars();
        while let Some(c) = chars.next() {
            if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                return Err("is not a JSON pointer (RFC 6901: '~' must be followed by 0 or 1)");
            }
        }
        Ok(Self::Pointer(raw.to_owned()))
    }

    /// The caller's groups: an array of strings, one string, or an object whose keys are the
    /// roles (Zitadel's shape); absent or `null` means none. Any other shape is refused rather
    /// than read as "no groups", so a provider change cannot silently demote or promote.
    pub(crate) fn groups(&self, claims: &Value) -> Result<Vec<String>, AuthError> {
        const MALFORMED: AuthError = AuthError::Invalid("malformed admin claim");
        let value = match self {
            Self::Name(name) => claims.get(name),
            Self::Pointer(pointer) => claims.pointer(pointer),
        };
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(group)) => Ok(vec![group.clone()]),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned).ok_or(MALFORMED))
                .collect(),
            Some(Value::Object(roles)) => Ok(roles.keys().cloned().collect()),
            Some(_) => Err(MALFORMED),
        }
    }
}

/// Whether `url` may name an issuer: `https`, or `http` on a loopback host (127.0.0.0/8, ::1,
/// `localhost`: a provider on the same host, or a test's), with no query or fragment (OpenID
/// Connect Discovery 1.0 §2: the issuer is "a case-sensitive URL using the https scheme ...
/// and no query or fragment components"). The error says what is wrong.
pub fn check_issuer(url: &str) -> Result<(), &'static str> {
    let parsed = reqwest::Url::parse(url).map_err(|_| "is not a URL")?;
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err("must have no query or fragment (OpenID Connect Discovery 1.0 §2)");
    }
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        "http" => Err("must be https (http only on a loopback host)"),
        _ => Err("must be an https URL"),
    }
}

/// Whether keys may be fetched from `jwks_uri` (discovered, or `GOTA_JWKS_URL`) for `issuer`:
/// always over https; over http only when the issuer itself is loopback http and so is the
/// JWKS — keys that decide who is admin never cross a network in clear text.
pub fn jwks_uri_allowed(issuer: &str, jwks_uri: &str) -> bool {
    let Ok(jwks) = reqwest::Url::parse(jwks_uri) else {
        return false;
    };
    match jwks.scheme() {
        "https" => true,
        "http" => {
            is_loopback(&jwks)
                && reqwest::Url::parse(issuer)
                    .is_ok_and(|issuer| issuer.scheme() == "http" && is_loopback(&issuer))
        }
        _ => false,
    }
}

fn is_loopback(url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    // IPv6 hosts come bracketed; the URL parser has already normalised every IP form.
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

/// Where the discovery document of `issuer` is: OpenID Connect Discovery 1.0 §4, "the string
/// /.well-known/openid-configuration [is] appended to the Issuer", any trailing `/` removed
/// first.
pub(crate) fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

/// The members of a discovery document the verifier uses (Discovery 1.0 §3).
#[derive(Debug, serde::Deserialize)]
pub(crate) struct DiscoveryDocument {
    pub(crate) issuer: String,
    pub(crate) jwks_uri: String,
}

impl DiscoveryDocument {
    /// The JWKS URL, if this document may be trusted for `issuer`: its `issuer` is exactly the
    /// configured one (Discovery 1.0 §4.3: "MUST be identical ... If these values are not
    /// identical, the data contained in the response MUST NOT be used"), and its `jwks_uri`
    /// passes [`jwks_uri_allowed`].
    pub(crate) fn jwks_uri_for(self, issuer: &str) -> anyhow::Result<String> {
        if self.issuer != issuer {
            tracing::error!(
                configured = issuer,
                discovered = self.issuer,
                "the discovery document's issuer is not GOTA_OIDC_ISSUER: no token can be verified until they are identical"
            );
            anyhow::bail!("the discovery document names another issuer");
        }
        anyhow::ensure!(
            jwks_uri_allowed(issuer, &self.jwks_uri),
            "the discovered jwks_uri {:?} is not https (http only on loopback, with a loopback http issuer)",
            self.jwks_uri
        );
        Ok(self.jwks_uri)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use serde_json::json;

    use super::*;

    fn groups(claim: &str, claims: &Value) -> Result<Vec<String>, AuthError> {
        AdminClaim::parse(claim).unwrap().groups(claims)
    }

    #[test]
    fn a_plain_admin_claim_is_a_literal_top_level_name_and_a_slash_makes_a_pointer() {
        let claims = json!({
            "groups": ["admin"],
            "urn:zitadel:iam:org:project:roles": {"admin": {"123": "example.org"}, "cook": {}},
            "realm_access": {"roles": ["offline_access", "admin"]},
            "a.b": "dotted",
            "a": {"b": "nested"},
        });
        assert_eq!(groups("groups", &claims).unwrap(), ["admin"]);
        assert_eq!(
            groups("urn:zitadel:iam:org:project:roles", &claims).unwrap(),
            ["admin", "cook"]
        );
        assert_eq!(
            groups("/realm_access/roles", &claims).unwrap(),
            ["offline_access", "admin"]
        );
        assert_eq!(groups("a.b", &claims).unwrap(), ["dotted"], "not a path");
        assert_eq!(groups("/a/b", &claims).unwrap(), ["nested"]);
        assert_eq!(
            groups("/a~1b", &json!({"a/b": ["x"]})).unwrap(),
            ["x"],
            "RFC 6901 escapes"
        );
    }

    #[test]
    fn an_absent_admin_claim_means_no_groups_and_another_shape_is_refused() {
        assert!(groups("groups", &json!({})).unwrap().is_empty());
        assert!(
            groups("groups", &json!({"groups": null}))
                .unwrap()
                .is_empty()
        );
        assert!(
            groups("/realm_access/roles", &json!({}))
                .unwrap()
                .is_empty()
        );
        for bad in [
            json!(42),
            json!(true),
            json!(["admin", 1]),
            json!([["admin"]]),
        ] {
            let result = groups("groups", &json!({ "groups": bad }));
            assert!(
                matches!(result, Err(AuthError::Invalid("malformed admin claim"))),
                "{bad}: {result:?}"
            );
        }
    }

    #[test]
    fn an_admin_claim_must_be_a_name_or_a_valid_pointer() {
        assert_eq!(
            AdminClaim::parse("roles"),
            Ok(AdminClaim::Name("roles".into()))
        );
        assert_eq!(
            AdminClaim::parse("/a~0b~1c"),
            Ok(AdminClaim::Pointer("/a~0b~1c".into()))
        );
        assert!(AdminClaim::parse("").is_err());
        assert!(AdminClaim::parse("/a~2").is_err());
        assert!(AdminClaim::parse("/a~").is_err());
    }

    #[test]
    fn an_issuer_is_https_or_loopback_http_without_query_or_fragment() {
        for good in [
            "https://id.example.org/realms/gota",
            "https://id.example.org",
            "http://127.0.0.1:8080/realms/gota",
            "http://127.8.9.10/x",
            "http://[::1]:8080",
            "http://localhost:8080/",
        ] {
            assert_eq!(check_issuer(good), Ok(()), "{good}");
        }
        for bad in [
            "http://id.example.org",
            "http://10.0.0.1:8080",
            "http://[::2]/",
            "ftp://127.0.0.1/",
            "https://id.example.org/?realm=gota",
            "https://id.example.org/#x",
            "id.example.org",
        ] {
            assert!(check_issuer(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_come_over_https_or_from_loopback_for_a_loopback_issuer() {
        let local = "http://127.0.0.1:8080/realms/gota";
        let remote = "https://id.example.org";
        assert!(jwks_uri_allowed(remote, "https://keys.example.org/certs"));
        assert!(jwks_uri_allowed(local, "https://keys.example.org/certs"));
        assert!(jwks_uri_allowed(local, "http://localhost:8080/certs"));
        assert!(!jwks_uri_allowed(remote, "http://127.0.0.1:8080/certs"));
        assert!(!jwks_uri_allowed(local, "http://keys.example.org/certs"));
        assert!(!jwks_uri_allowed(local, "file:///etc/keys"));
        assert!(!jwks_uri_allowed(local, "not a url"));
    }

    #[test]
    fn the_discovery_url_is_the_issuer_without_trailing_slash_plus_the_well_known_path() {
        assert_eq!(
            discovery_url("https://id.example.org/realms/gota"),
            "https://id.example.org/realms/gota/.well-known/openid-configuration"
        );
        assert_eq!(
            discovery_url("https://id.example.org/"),
            "https://id.example.org/.well-known/openid-configuration"
        );
    }

    #[test]
    fn a_discovery_document_is_used_only_for_its_own_issuer() {
        let issuer = "https://id.example.org/realms/gota";
        let document = |issuer: &str, jwks_uri: &str| DiscoveryDocument {
            issuer: issuer.into(),
            jwks_uri: jwks_uri.into(),
        };
        assert_eq!(
            document(issuer, "https://id.example.org/certs")
                .jwks_uri_for(issuer)
                .unwrap(),
            "https://id.example.org/certs"
        );
        for other in [
            "https://id.example.org/realms/gota/",
            "https://ID.example.org/realms/gota",
            "https://id.example.org/realms/other",
        ] {
            assert!(
                document(other, "https://id.example.org/certs")
                    .jwks_uri_for(issuer)
                    .is_err(),
                "{other}"
            );
        }
        assert!(
            document(issuer, "http://id.example.org/certs")
                .jwks_uri_for(issuer)
                .is_err()
        );
    }
}
