//! Opaque list cursors, bound to the caller, the listed owner and the filters.
//!
//! A cursor is `base64url(json payload) "." base64url(HMAC-SHA256(payload))`. The MAC makes it
//! tamper-evident; the bindings stop a cursor from being replayed by someone else or with other
//! filters. See `doc/adr/0003-cursor-format.md`.

use aws_lc_rs::{digest, hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

use crate::store::ListFilter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorError;

/// 2: filters bound as canonical JSON (1 joined them with NUL, which they may contain).
const CURSOR_VERSION: u8 = 2;

/// Signs and checks cursors with one key.
pub struct CursorCodec {
    key: hmac::Key,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(<key>)")
    }
}

/// What a cursor is valid for.
#[derive(Debug, Clone, Copy)]
pub struct CursorBinding<'a> {
    pub caller: &'a str,
    pub owner: &'a str,
    pub filter: &'a ListFilter,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    v: u8,
    /// Caller's subject.
    c: String,
    /// Owner whose recipes are listed.
    o: String,
    /// Digest of the normalised filters ([`canonical_filter`]).
    f: String,
    /// The store's position.
    p: String,
}

/// The bound filters as canonical JSON: `[tag, ingredient, q]`, each a JSON string or `null`.
/// JSON string escaping makes the encoding injective whatever the values contain (NUL, quotes,
/// separators), and keeps an absent filter apart from an empty one.
fn canonical_filter(tag: Option<&str>, ingredient: Option<&str>, q: Option<&str>) -> Vec<u8> {
    // Serialising a tuple of optional strings cannot fail.
    serde_json::to_vec(&(tag, ingredient, q)).unwrap_or_default()
}

fn filter_digest(filter: &ListFilter) -> String {
    let ingredient = filter
        .ingredient
        .as_ref()
        .map(|i| i.as_str().to_lowercase());
    let canonical = canonical_filter(
        filter.tag.as_ref().map(|t| t.as_str()),
        ingredient.as_deref(),
        filter.title.as_ref().map(|q| q.as_str()),
    );
    let hash = digest::digest(&digest::SHA256, &canonical);
    B64.encode(hash.as_ref().get(..16).unwrap_or_default())
}

impl CursorCodec {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, secret),
        }
    }

    /// A codec with a random key: cursors die with the process (standalone without a key).
    pub fn random() -> anyhow::Result<Self> {
        let secret: [u8; 32] = rand::generate(&rand::SystemRandom::new())
            .map_err(|_| anyhow::anyhow!("system random generator failed"))?
            .expose();
        Ok(Self::new(&secret))
    }

    pub fn encode(&self, binding: CursorBinding<'_>, position: &str) -> String {
        let payload = Payload {
            v: CURSOR_VERSION,
            c: binding.caller.to_owned(),
            o: binding.owner.to_owned(),
            f: filter_digest(binding.filter),
            p: position.to_owned(),
        };
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let tag = hmac::sign(&self.key, &json);
        format!("{}.{}", B64.encode(&json), B64.encode(tag.as_ref()))
    }

    /// The store position, if the cursor is authentic and issued for exactly this binding.
    pub fn decode(&self, binding: CursorBinding<'_>, cursor: &str) -> Result<String, CursorError> {
        let (payload, tag) = cursor.split_once('.').ok_or(CursorError)?;
        let json = B64.decode(payload).map_err(|_| CursorError)?;
        let tag = B64.decode(tag).map_err(|_| CursorError)?;
        hmac::verify(&self.key, &json, &tag).map_err(|_| CursorError)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| CursorError)?;
        let bound = payload.v == CURSOR_VERSION
            && payload.c == binding.caller
            && payload.o == binding.owner
            && payload.f == filter_digest(binding.filter);
        if bound {
            Ok(payload.p)
        } else {
            Err(CursorError)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::domain::Tag;

    fn binding<'a>(caller: &'a str, owner: &'a str, filter: &'a ListFilter) -> CursorBinding<'a> {
        CursorBinding {
            caller,
            owner,
            filter,
        }
    }

    #[test]
    fn a_cursor_round_trips_for_its_own_binding() {
        let codec = CursorCodec::new(&[1; 32]);
        let filter = ListFilter::default();
        let cursor = codec.encode(binding("alice", "alice", &filter), "pos-1");
        assert_eq!(
            codec.decode(binding("alice", "alice", &filter), &cursor),
            Ok("pos-1".into())
        );
    }

    #[test]
    fn a_cursor_is_refused_for_another_caller_owner_filter_or_key() {
        let codec = CursorCodec::new(&[1; 32]);
        let none = ListFilter::default();
        let vegan = ListFilter {
            tag: Some(Tag::parse("vegan").unwrap()),
            ..ListFilter::default()
        };
        let cursor = codec.encode(binding("alice", "alice", &none), "pos");
        assert_eq!(
            codec.decode(binding("bob", "alice", &none), &cursor),
            Err(CursorError)
        );
        assert_eq!(
            codec.decode(binding("alice", "bob", &none), &cursor),
            Err(CursorError)
        );
        assert_eq!(
            codec.decode(binding("alice", "alice", &vegan), &cursor),
            Err(CursorError)
        );
        let other_key = CursorCodec::new(&[2; 32]);
        assert_eq!(
            other_key.decode(binding("alice", "alice", &none), &cursor),
            Err(CursorError)
        );
    }

    #[test]
    fn filters_that_ran_together_under_nul_joining_now_differ() {
        // Under the old `tag=…\0ingredient=…\0q=…` text both read
        // "tag=\0ingredient=x\0q=y\0q=": a cursor issued for one was accepted for the other.
        let one = canonical_filter(None, Some("x\0q=y"), None);
        let other = canonical_filter(None, Some("x"), Some("y\0q="));
        assert_ne!(one, other);
        // Absent and empty are different filters too.
        assert_ne!(
            canonical_filter(None, None, None),
            canonical_filter(Some(""), None, None)
        );
        assert_ne!(
            canonical_filter(Some("a"), None, None),
            canonical_filter(None, Some("a"), None)
        );
    }

    #[test]
    fn a_tampered_cursor_is_refused() {
        let codec = CursorCodec::new(&[1; 32]);
        let filter = ListFilter::default();
        let cursor = codec.encode(binding("alice", "alice", &filter), "pos");
        let (payload, tag) = cursor.split_once('.').unwrap();
        let mut json = B64.decode(payload).unwrap();
        let text = String::from_utf8(json.clone())
            .unwrap()
            .replace("pos", "pot");
        json = text.into_bytes();
        let forged = format!("{}.{tag}", B64.encode(json));
        assert_eq!(
            codec.decode(binding("alice", "alice", &filter), &forged),
            Err(CursorError)
        );
        for garbage in ["", ".", "abc", "a.b", "!!!.???"] {
            assert_eq!(
                codec.decode(binding("alice", "alice", &filter), garbage),
                Err(CursorError)
            );
        }
    }
}
