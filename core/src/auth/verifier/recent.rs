//! Tokens that passed every check recently, so that a client sending the same bearer token
//! request after request pays for one RSA signature check, not one per request (the check is
//! most of a standalone GET's CPU time). API Gateway's Cognito authorizer caches its results
//! by token in the same way.
//!
//! Only successes are kept, keyed by the SHA-256 of the whole token: a token that differs in
//! any byte is a miss and is verified in full. A hit still re-checks `exp` against the clock
//! (and the verifier checks that the signing key is still published), and an entry lives at
//! most [`MAX_AGE`]. The map is bounded: at [`CAPACITY`] entries, expired ones are
//! dropped, and if none are, the whole map is (a flood of valid tokens costs re-verification,
//! never memory).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{SHA256, digest};

use crate::auth::Identity;

/// How long a verification is reused at most (API Gateway's authorizer default TTL).
pub(super) const MAX_AGE: Duration = Duration::from_secs(300);
/// Entries kept at most: about 200 bytes each.
pub(super) const CAPACITY: usize = 4096;

pub(super) type TokenDigest = [u8; 32];

#[derive(Debug)]
pub(super) struct RecentTokens {
    entries: Mutex<HashMap<TokenDigest, Entry>>,
    capacity: usize,
}

#[derive(Debug)]
struct Entry {
    identity: Identity,
    /// The token's `exp` plus the verifier's leeway, in Unix seconds.
    valid_until: u64,
    verified_at: Instant,
}

impl Entry {
    fn usable(&self, now_unix: u64, now: Instant) -> bool {
        now_unix <= self.valid_until && now.duration_since(self.verified_at) < MAX_AGE
    }
}

impl RecentTokens {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    pub(super) fn digest(token: &str) -> TokenDigest {
        let mut out = [0; 32];
        out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        out
    }

    /// The identity of a token verified recently whose expiry (plus leeway) has not passed.
    pub(super) fn get(&self, token: &TokenDigest, now_unix: u64) -> Option<Identity> {
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(token)
            .filter(|entry| entry.usable(now_unix, Instant::now()))
            .map(|entry| entry.identity.clone())
    }

    /// Remembers a token that has just passed every check.
    pub(super) fn insert(
        &self,
        token: TokenDigest,
        identity: Identity,
        valid_until: u64,
        now_unix: u64,
    ) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= self.capacity && !entries.contains_key(&token) {
            let now = Instant::now();
            entries.retain(|_, entry| entry.usable(now_unix, now));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(
            token,
            Entry {
                identity,
                valid_until,
                verified_at: Instant::now(),
            },
        );
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(subject: &str) -> Identity {
        Identity {
            subject: subject.to_owned(),
            groups: vec![],
            username: None,
        }
    }

    #[test]
    fn a_remembered_token_is_found_until_its_expiry() {
        let recent = RecentTokens::new(8);
        let token = RecentTokens::digest("a.b.c");
        recent.insert(token, identity("alice"), 1_000, 900);

        assert_eq!(recent.get(&token, 999), Some(identity("alice")));
        assert_eq!(recent.get(&token, 1_000), Some(identity("alice")));
        assert_eq!(recent.get(&token, 1_001), None, "expired");
    }

    #[test]
    fn a_token_differing_in_one_byte_is_a_miss() {
        let recent = RecentTokens::new(8);
        recent.insert(RecentTokens::digest("a.b.c"), identity("alice"), 1_000, 900);
        assert_eq!(recent.get(&RecentTokens::digest("a.b.d"), 900), None);
    }

    #[test]
    fn the_map_never_grows_past_its_capacity_and_drops_expired_entries_first() {
        let recent = RecentTokens::new(4);
        // Two entries expired by the time the map is full, two still valid.
        recent.insert(RecentTokens::digest("old-1"), identity("a"), 100, 50);
        recent.insert(RecentTokens::digest("old-2"), identity("b"), 100, 50);
        recent.insert(RecentTokens::digest("live-1"), identity("c"), 1_000, 50);
        recent.insert(RecentTokens::digest("live-2"), identity("d"), 1_000, 50);

        recent.insert(RecentTokens::digest("new"), identity("e"), 1_000, 500);

        assert_eq!(recent.len(), 3, "the expired two made room");
        assert!(recent.get(&RecentTokens::digest("live-1"), 500).is_some());
        assert!(recent.get(&RecentTokens::digest("new"), 500).is_some());

        for i in 0..20 {
            recent.insert(
                RecentTokens::digest(&format!("flood-{i}")),
                identity("f"),
                1_000,
                500,
            );
            assert!(recent.len() <= 4);
        }
    }
}
