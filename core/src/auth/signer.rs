//! An RS256 signing key with a `kid`: the dev issuer signs with one, and tests build "foreign"
//! issuers and hostile tokens (wrong `alg`, no `kid`) with others.
//!
//! Signing goes straight through aws-lc-rs rather than `jsonwebtoken::encode` so that
//! [`RsaSigner::sign_with_header`] can put any header on an RS256 signature, which is exactly
//! what the verifier's tests need to prove the header's `alg` is not trusted.

use anyhow::Context as _;
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, Jwk, JwkSet, KeyAlgorithm, PublicKeyUse,
    RSAKeyParameters, RSAKeyType,
};

/// RS256 signer with a key id. The private key never leaves the process, except into the dev
/// issuer's own key file (mode 0600, in the data folder).
#[derive(Debug)]
pub struct RsaSigner {
    kid: String,
    // `KeyPair`'s Debug prints only the public half.
    key_pair: KeyPair,
    /// Built once: the public key never changes and `jwk()` is served on every JWKS request.
    jwk: Jwk,
    public_key_der: Vec<u8>,
}

impl RsaSigner {
    /// A fresh RSA 2048 key (the size Cognito uses).
    pub fn generate(kid: impl Into<String>) -> anyhow::Result<Self> {
        let key_pair = KeyPair::generate(KeySize::Rsa2048)
            .map_err(|_| anyhow::anyhow!("aws-lc-rs could not generate an RSA 2048 key"))?;
        Self::from_key_pair(kid.into(), key_pair)
    }

    /// The key stored by [`Self::to_pkcs8_der`] (PKCS#8 v1 DER of an RSA private key).
    pub fn from_pkcs8_der(kid: impl Into<String>, der: &[u8]) -> anyhow::Result<Self> {
        let key_pair = KeyPair::from_pkcs8(der)
            .map_err(|e| anyhow::anyhow!("not an RSA private key in PKCS#8 DER ({e})"))?;
        Self::from_key_pair(kid.into(), key_pair)
    }

    /// The private key as PKCS#8 v1 DER, for the dev issuer's key file only.
    pub fn to_pkcs8_der(&self) -> anyhow::Result<Vec<u8>> {
        let der: aws_lc_rs::encoding::Pkcs8V1Der<'static> = self
            .key_pair
            .as_der()
            .map_err(|_| anyhow::anyhow!("aws-lc-rs could not encode the RSA private key"))?;
        Ok(der.as_ref().to_vec())
    }

    fn from_key_pair(kid: String, key_pair: KeyPair) -> anyhow::Result<Self> {
        let public = key_pair.public_key();
        let jwk = Jwk {
            common: CommonParameters {
                public_key_use: Some(PublicKeyUse::Signature),
                key_algorithm: Some(KeyAlgorithm::RS256),
                key_id: Some(kid.clone()),
                ..CommonParameters::default()
            },
            algorithm: AlgorithmParameters::RSA(RSAKeyParameters {
                key_type: RSAKeyType::RSA,
                n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
                e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
            }),
        };
        let public_key_der = public
            .as_der()
            .map_err(|_| anyhow::anyhow!("aws-lc-rs could not encode the RSA public key"))?
            .as_ref()
            .to_vec();
        Ok(Self {
            kid,
            key_pair,
            jwk,
            public_key_der,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public key as a JWK: `kty` RSA, `alg` RS256, `use` sig, `kid`, `n`, `e`.
    pub fn jwk(&self) -> Jwk {
        self.jwk.clone()
    }

    /// A JWKS holding only this key.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.jwk()],
        }
    }

    /// Signs `claims` with the header `{"alg":"RS256","typ":"JWT","kid":…}`.
    pub fn sign(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": self.kid});
        self.sign_with_header(&header, claims)
    }

    /// Signs `header.claims` with RS256 whatever `header` says, so tests can forge
    /// `alg: none`, `RS384`, a missing `kid`…
    pub fn sign_with_header(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> anyhow::Result<String> {
        let header = serde_json::to_vec(header).context("serializing the JWT header")?;
        let claims = serde_json::to_vec(claims).context("serializing the JWT claims")?;
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        let mut signature = vec![0; self.key_pair.public_modulus_len()];
        // aws-lc-rs ignores the rng argument for PKCS#1 v1.5; it is kept for ring compatibility.
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.key_pair
            .sign(
                &RSA_PKCS1_SHA256,
                &rng,
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("aws-lc-rs could not sign the token"))?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// The public key as SubjectPublicKeyInfo DER (what an HS256-confusion attacker would use
    /// as the HMAC secret).
    pub fn public_key_der(&self) -> Vec<u8> {
        self.public_key_der.clone()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    #[test]
    fn the_jwk_describes_an_rs256_signing_key_with_its_kid() {
        let signer = RsaSigner::generate("k1").unwrap();
        let jwk = serde_json::to_value(signer.jwk()).unwrap();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["alg"], "RS256");
        assert_eq!(jwk["use"], "sig");
        assert_eq!(jwk["kid"], "k1");
        assert_eq!(jwk["e"], "AQAB");
        // 2048-bit modulus: 256 bytes, 342 base64url characters without padding.
        assert_eq!(jwk["n"].as_str().unwrap().len(), 342);
        assert_eq!(signer.kid(), "k1");
        assert_eq!(signer.jwks().keys, vec![signer.jwk()]);
    }

    #[test]
    fn a_signed_token_verifies_with_the_published_jwk() {
        let signer = RsaSigner::generate("k1").unwrap();
        let token = signer
            .sign(&serde_json::json!({"sub": "x", "exp": u64::MAX / 2}))
            .unwrap();
        let key = DecodingKey::from_jwk(&signer.jwk()).unwrap();
        let data = jsonwebtoken::decode::<serde_json::Value>(
            &token,
            &key,
            &Validation::new(Algorithm::RS256),
        )
        .unwrap();
        assert_eq!(data.header.kid.as_deref(), Some("k1"));
        assert_eq!(data.header.alg, Algorithm::RS256);
        assert_eq!(data.claims["sub"], "x");
    }

    #[test]
    fn the_public_key_der_is_subject_public_key_info() {
        let signer = RsaSigner::generate("k1").unwrap();
        let der = signer.public_key_der();
        // SEQUENCE, then the rsaEncryption OID 1.2.840.113549.1.1.1 near the start.
        assert_eq!(der[0], 0x30);
        let oid = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
        assert!(der.windows(oid.len()).take(32).any(|w| w == oid));
    }

    #[test]
    fn two_generated_signers_have_different_keys() {
        let a = RsaSigner::generate("k").unwrap();
        let b = RsaSigner::generate("k").unwrap();
        assert_ne!(a.public_key_der(), b.public_key_der());
    }
}
