//! Who is calling: bearer-token verification against a JWKS (a Cognito pool's, or a generic
//! OpenID Connect provider's found through discovery), identity from API Gateway authorizer
//! claims, and the dev issuer used when neither is configured.
//!
//! Everything here fails closed: an error is an [`AuthError`], never an anonymous identity.
//! [`AuthError::Invalid`] carries a short reason meant for logs only; the HTTP layer answers
//! 401 without it, and 503 for [`AuthError::KeysUnavailable`].

mod claims;
mod dev;
mod oidc;
mod signer;
mod verifier;

pub use claims::{AuthorizerClaims, ClaimsSource};
pub use dev::DevIssuer;
pub use oidc::{AdminClaim, check_issuer, jwks_uri_allowed};
pub use signer::RsaSigner;
pub use verifier::{ClaimProfile, JwksProvider, JwksSource, TokenVerifier, VerifierConfig};

/// Who is calling. `subject` is the token's `sub`: the only thing ownership is keyed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub subject: String,
    pub groups: Vec<String>,
    pub username: Option<String>,
}

impl Identity {
    /// Exact, case-sensitive: `Admin` is not `admin` (Cognito group names are case-sensitive too).
    pub fn is_member_of(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("no bearer token")]
    Missing,
    /// Any verification failure; the `&'static str` is a reason for LOGS only (never sent to
    /// clients, and never contains token material).
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// Authorizer claims whose flattened `cognito:groups` reads two ways (a group name may
    /// hold a comma); the reason is for logs only. Never guessed: refused, unless the token
    /// API Gateway forwarded settles it.
    #[error("ambiguous authorizer claims: {0}")]
    Ambiguous(&'static str),
    /// The JWKS could not be fetched and no cached key can decide (the HTTP layer answers 503).
    #[error("signing keys unavailable")]
    KeysUnavailable,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(groups: &[&str]) -> Identity {
        Identity {
            subject: "sub-1".to_owned(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            username: None,
        }
    }

    #[test]
    fn membership_is_exact_and_case_sensitive() {
        let who = identity(&["admin", "editors"]);
        assert!(who.is_member_of("admin"));
        assert!(who.is_member_of("editors"));
        assert!(!who.is_member_of("Admin"));
        assert!(!who.is_member_of("adm"));
        assert!(!who.is_member_of(""));
    }

    #[test]
    fn an_identity_without_groups_is_member_of_nothing() {
        assert!(!identity(&[]).is_member_of("admin"));
    }

    #[test]
    fn the_invalid_reason_shows_only_in_the_log_text() {
        assert_eq!(
            AuthError::Invalid("token expired").to_string(),
            "invalid token: token expired"
        );
        assert_eq!(AuthError::Missing.to_string(), "no bearer token");
        assert_eq!(
            AuthError::KeysUnavailable.to_string(),
            "signing keys unavailable"
        );
    }
}
