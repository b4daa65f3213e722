//! Opaque list cursors, bound to the caller, the listed owner and the filters.
//!
//! A cursor is `base64url(json payload) "." base64url(HMAC-SHA256(payload))`. The MAC makes it
//! tamper-evident; the bindings stop a cursor from being replayed by someone else or with other
//! filters. See `doc/adr/0003-cursor-format.md`.
//!
//! Keys rotate (`doc/adr/0018-cursor-key-rotation-and-business-metrics.md`): cursors are signed
//! with the current key and accepted under the current or the previous one, and a codec with a
//! [`KeySource`] re-reads its keys when they are older than [`KEY_TTL`], or sooner when a cursor
//! verifies under neither (another instance may already sign with a newer key).

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::{digest, hmac, rand};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

use crate::store::ListFilter;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorError;

/// 2: filters bound as canonical JSON (1 joined them with NUL, which they may contain).
const CURSOR_VERSION: u8 = 2;

/// How long keys read from a [`KeySource`] are used before they are read again: the longest a
/// warm instance keeps signing with a key after a rotation.
pub const KEY_TTL: Duration = Duration::from_secs(300);

/// The least time between two reads caused by cursors that verify under no known key, so that
/// forged cursors cannot turn every request into a read of the secret. The first such read
/// is never delayed: a rotation that happened since the last read is learnt at once.
pub const MISS_REFRESH_INTERVAL: Duration = Duration::from_secs(10);

/// The keys in force: cursors are signed with `current` and accepted under either.
pub struct Keyring {
    current: hmac::Key,
    previous: Option<hmac::Key>,
}

impl Keyring {
    pub fn new(current: &[u8], previous: Option<&[u8]>) -> Self {
        Self {
            current: hmac::Key::new(hmac::HMAC_SHA256, current),
            previous: previous.map(|p| hmac::Key::new(hmac::HMAC_SHA256, p)),
        }
    }

    fn verifies(&self, json: &[u8], tag: &[u8]) -> bool {
        std::iter::once(&self.current)
            .chain(&self.previous)
            .any(|key| hmac::verify(key, json, tag).is_ok())
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("previous", &self.previous.as_ref().map(|_| "<key>"))
            .finish_non_exhaustive()
    }
}

/// Where the keys live when they can change while the process runs (Secrets Manager).
#[async_trait::async_trait]
pub trait KeySource: Send + Sync + std::fmt::Debug {
    /// The keys in force now. Errors never contain key material.
    async fn fetch(&self) -> anyhow::Result<Keyring>;
}

#[derive(Debug)]
struct Refresh {
    source: Arc<dyn KeySource>,
    reads: tokio::sync::Mutex<Reads>,
}

/// When the keys were last asked for (successfully or not).
#[derive(Debug)]
struct Reads {
    last: Instant,
    /// The last read caused by a cursor under no known key.
    last_on_miss: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    /// Keys older than [`KEY_TTL`].
    Stale,
    /// A cursor that verifies under no known key.
    Miss,
}

/// Signs and checks cursors.
pub struct CursorCodec {
    keys: RwLock<Arc<Keyring>>,
    refresh: Option<Refresh>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(<keys>)")
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

/// The bound filters as canonical JSON: `[tag, ingredient, q]`, each a JSON string or `null`
/// (`tag` is an array of the sorted tags when there are several, so a one-tag cursor reads as
/// before). JSON string escaping makes the encoding injective whatever the values contain
/// (NUL, quotes, separators), and keeps an absent filter apart from an empty one.
fn canonical_filter(tags: &[&str], ingredient: Option<&str>, q: Option<&str>) -> Vec<u8> {
    let tag = match tags {
        [] => serde_json::Value::Null,
        [one] => serde_json::Value::from(*one),
        many => serde_json::Value::from(many.to_vec()),
    };
    // Serialising JSON values and optional strings cannot fail.
    serde_json::to_vec(&(tag, ingredient, q)).unwrap_or_default()
}

fn filter_digest(filter: &ListFilter) -> String {
    let ingredient = filter
        .ingredient
        .as_ref()
        .map(|i| i.as_str().to_lowercase());
    let tags: Vec<&str> = filter.tags.iter().map(|t| t.as_str()).collect();
    let canonical = canonical_filter(
        &tags,
        ingredient.as_deref(),
        filter.q.as_ref().map(|q| q.as_str()),
    );
    let hash = digest::digest(&digest::SHA256, &canonical);
    B64.encode(hash.as_ref().get(..16).unwrap_or_default())
}

impl CursorCodec {
    /// A codec with one fixed key (`GOTA_CURSOR_KEY`, tests).
    pub fn new(secret: &[u8]) -> Self {
        Self::with_keyring(Keyring::new(secret, None))
    }

    pub fn with_keyring(keys: Keyring) -> Self {
        Self {
            keys: RwLock::new(Arc::new(keys)),
            refresh: None,
        }
    }

    /// A codec whose keys come from `source`: read now (an error here is a start-up error),
    /// then again whenever they are stale.
    pub async fn from_source(source: Arc<dyn KeySource>) -> anyhow::Result<Self> {
        let keys = source.fetch().await?;
        Ok(Self {
            keys: RwLock::new(Arc::new(keys)),
            refresh: Some(Refresh {
                source,
                reads: tokio::sync::Mutex::new(Reads {
                    last: Instant::now(),
                    last_on_miss: None,
                }),
            }),
        })
    }

    /// A codec with a random key: cursors die with the process (standalone without a key).
    pub fn random() -> anyhow::Result<Self> {
        let secret: [u8; 32] = rand::generate(&rand::SystemRandom::new())
            .map_err(|_| anyhow::anyhow!("system random generator failed"))?
            .expose();
        Ok(Self::new(&secret))
    }

    fn keyring(&self) -> Arc<Keyring> {
        // A poisoned lock still holds a whole `Arc`: writers only swap it.
        Arc::clone(&self.keys.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Reads the keys again when `why` makes it due. A failed read keeps the keys in force
    /// (logged, never with key material): cursors keep working on the old keys.
    async fn refresh(&self, why: Why) {
        let Some(refresh) = &self.refresh else {
            return;
        };
        // One read at a time. Keys that are only stale still sign and verify, so a request
        // never waits for another's read of them (up to READ_TIMEOUT); a miss may need the
        // read under way, so it waits, and finds it no longer due.
        let mut reads = match why {
            Why::Stale => match refresh.reads.try_lock() {
                Ok(reads) => reads,
                Err(_) => return,
            },
            Why::Miss => refresh.reads.lock().await,
        };
        let due = match why {
            Why::Stale => reads.last.elapsed() >= KEY_TTL,
            Why::Miss => reads
                .last_on_miss
                .is_none_or(|at| at.elapsed() >= MISS_REFRESH_INTERVAL),
        };
        if !due {
            return;
        }
        let now = Instant::now();
        reads.last = now;
        if why == Why::Miss {
            reads.last_on_miss = Some(now);
        }
        match refresh.source.fetch().await {
            Ok(keys) => {
                *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(keys);
                tracing::info!(reason = ?why, "cursor keys re-read");
            }
            Err(error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "could not re-read the cursor keys; keeping the ones in force"
                );
            }
        }
    }

    /// A cursor for `position`, signed with the current key (read again first if stale).
    pub async fn encode(&self, binding: CursorBinding<'_>, position: &str) -> String {
        self.refresh(Why::Stale).await;
        let payload = Payload {
            v: CURSOR_VERSION,
            c: binding.caller.to_owned(),
            o: binding.owner.to_owned(),
            f: filter_digest(binding.filter),
            p: position.to_owned(),
        };
        // Serialising a struct of strings cannot fail.
        let json = serde_json::to_vec(&payload).unwrap_or_default();
        let tag = hmac::sign(&self.keyring().current, &json);
        format!("{}.{}", B64.encode(&json), B64.encode(tag.as_ref()))
    }

    /// The store position, if the cursor is authentic under the current or the previous key
    /// and issued for exactly this binding.
    pub async fn decode(
        &self,
        binding: CursorBinding<'_>,
        cursor: &str,
    ) -> Result<String, CursorError> {
        self.refresh(Why::Stale).await;
        let (payload, tag) = cursor.split_once('.').ok_or(CursorError)?;
        let json = B64.decode(payload).map_err(|_| CursorError)?;
        let tag = B64.decode(tag).map_err(|_| CursorError)?;
        if !self.keyring().verifies(&json, &tag) {
            // Checked again whether or not this call read: a concurrent one may have.
            self.refresh(Why::Miss).await;
            if !self.keyring().verifies(&json, &tag) {
                return Err(CursorError);
            }
        }
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
    use gota_domain::Tag;

    fn binding<'a>(caller: &'a str, owner: &'a str, filter: &'a ListFilter) -> CursorBinding<'a> {
        CursorBinding {
            caller,
            owner,
            filter,
        }
    }

    #[tokio::test]
    async fn a_cursor_round_trips_for_its_own_binding() {
        let codec = CursorCodec::new(&[1; 32]);
        let filter = ListFilter::default();
        let cursor = codec
            .encode(binding("alice", "alice", &filter), "pos-1")
            .await;
        assert_eq!(
            codec
                .decode(binding("alice", "alice", &filter), &cursor)
                .await,
            Ok("pos-1".into())
        );
    }

    #[tokio::test]
    async fn a_cursor_is_refused_for_another_caller_owner_filter_or_key() {
        let codec = CursorCodec::new(&[1; 32]);
        let none = ListFilter::default();
        let vegan = ListFilter {
            tags: vec![Tag::parse("vegan").unwrap()],
            ..ListFilter::default()
        };
        let cursor = codec.encode(binding("alice", "alice", &none), "pos").await;
        assert_eq!(
            codec.decode(binding("bob", "alice", &none), &cursor).await,
            Err(CursorError)
        );
        assert_eq!(
            codec.decode(binding("alice", "bob", &none), &cursor).await,
            Err(CursorError)
        );
        assert_eq!(
            codec
                .decode(binding("alice", "alice", &vegan), &cursor)
                .await,
            Err(CursorError)
        );
        let other_key = CursorCodec::new(&[2; 32]);
        assert_eq!(
            other_key
                .decode(binding("alice", "alice", &none), &cursor)
                .await,
            Err(CursorError)
        );
    }

    #[test]
    fn filters_that_ran_together_under_nul_joining_now_differ() {
        // Under the old `tag=…\0ingredient=…\0q=…` text both read
        // "tag=\0ingredient=x\0q=y\0q=": a cursor issued for one was accepted for the other.
        let one = canonical_filter(&[], Some("x\0q=y"), None);
        let other = canonical_filter(&[], Some("x"), Some("y\0q="));
        assert_ne!(one, other);
        // Absent and empty are different filters too.
        assert_ne!(
            canonical_filter(&[], None, None),
            canonical_filter(&[""], None, None)
        );
        assert_ne!(
            canonical_filter(&["a"], None, None),
            canonical_filter(&[], Some("a"), None)
        );
    }

    #[tokio::test]
    async fn a_tampered_cursor_is_refused() {
        let codec = CursorCodec::new(&[1; 32]);
        let filter = ListFilter::default();
        let cursor = codec
            .encode(binding("alice", "alice", &filter), "pos")
            .await;
        let (payload, tag) = cursor.split_once('.').unwrap();
        let mut json = B64.decode(payload).unwrap();
        let text = String::from_utf8(json.clone())
            .unwrap()
            .replace("pos", "pot");
        json = text.into_bytes();
        let forged = format!("{}.{tag}", B64.encode(json));
        assert_eq!(
            codec
                .decode(binding("alice", "alice", &filter), &forged)
                .await,
            Err(CursorError)
        );
        for garbage in ["", ".", "abc", "a.b", "!!!.???"] {
            assert_eq!(
                codec
                    .decode(binding("alice", "alice", &filter), garbage)
                    .await,
                Err(CursorError)
            );
        }
    }

    /// Keys that a test rotates, counting reads.
    #[derive(Debug, Default)]
    struct Rotating {
        keys: std::sync::Mutex<(Vec<u8>, Option<Vec<u8>>)>,
        reads: std::sync::atomic::AtomicUsize,
        fail: std::sync::atomic::AtomicBool,
    }

    impl Rotating {
        fn new(current: u8) -> Arc<Self> {
            let source = Self::default();
            *source.keys.lock().unwrap() = (vec![current; 32], None);
            Arc::new(source)
        }

        /// What `PutSecretValue` does to the stages: the new value becomes AWSCURRENT, the
        /// old AWSCURRENT becomes AWSPREVIOUS.
        fn rotate_to(&self, current: u8) {
            let mut keys = self.keys.lock().unwrap();
            let old = std::mem::replace(&mut keys.0, vec![current; 32]);
            keys.1 = Some(old);
        }

        fn reads(&self) -> usize {
            self.reads.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[async_trait::async_trait]
    impl KeySource for Rotating {
        async fn fetch(&self) -> anyhow::Result<Keyring> {
            self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            anyhow::ensure!(
                !self.fail.load(std::sync::atomic::Ordering::SeqCst),
                "secrets manager unreachable"
            );
            let keys = self.keys.lock().unwrap();
            Ok(Keyring::new(&keys.0, keys.1.as_deref()))
        }
    }

    impl CursorCodec {
        /// Pretends every read so far happened `age` ago.
        async fn age_by(&self, age: Duration) {
            let mut reads = self.refresh.as_ref().unwrap().reads.lock().await;
            let then = Instant::now().checked_sub(age).unwrap();
            reads.last = then;
            reads.last_on_miss = reads.last_on_miss.map(|_| then);
        }
    }

    #[tokio::test]
    async fn a_cursor_signed_with_the_previous_key_is_accepted_and_new_ones_use_the_current() {
        let filter = ListFilter::default();
        let b = binding("alice", "alice", &filter);
        let before = CursorCodec::new(&[1; 32]).encode(b, "pos").await;
        let rotated = CursorCodec::with_keyring(Keyring::new(&[2; 32], Some(&[1; 32])));
        assert_eq!(rotated.decode(b, &before).await, Ok("pos".into()));
        let after = rotated.encode(b, "pos").await;
        assert_eq!(
            CursorCodec::new(&[2; 32]).decode(b, &after).await,
            Ok("pos".into())
        );
        assert_eq!(
            CursorCodec::new(&[1; 32]).decode(b, &after).await,
            Err(CursorError),
            "signed with the current key, not the previous"
        );
        let unrelated = CursorCodec::with_keyring(Keyring::new(&[3; 32], Some(&[2; 32])));
        assert_eq!(unrelated.decode(b, &before).await, Err(CursorError));
    }

    #[tokio::test]
    async fn a_stale_instance_learns_a_rotation_from_a_cursor_it_cannot_verify() {
        let filter = ListFilter::default();
        let b = binding("alice", "alice", &filter);
        let source = Rotating::new(1);
        let stale = CursorCodec::from_source(source.clone()).await.unwrap();
        let old_cursor = stale.encode(b, "old").await;
        source.rotate_to(2);
        let fresh = CursorCodec::from_source(source.clone()).await.unwrap();
        let new_cursor = fresh.encode(b, "new").await;
        // Both instances accept the cursor issued before the rotation.
        assert_eq!(fresh.decode(b, &old_cursor).await, Ok("old".into()));
        // The stale instance re-reads at once on the first cursor it cannot verify.
        let reads = source.reads();
        assert_eq!(stale.decode(b, &new_cursor).await, Ok("new".into()));
        assert_eq!(source.reads(), reads + 1);
        assert_eq!(stale.decode(b, &old_cursor).await, Ok("old".into()));
        assert_eq!(stale.decode(b, &new_cursor).await, Ok("new".into()));
        assert_eq!(source.reads(), reads + 1, "known keys need no read");
    }

    #[tokio::test]
    async fn forged_cursors_cause_at_most_one_read_per_interval() {
        let filter = ListFilter::default();
        let b = binding("alice", "alice", &filter);
        let source = Rotating::new(1);
        let codec = CursorCodec::from_source(source.clone()).await.unwrap();
        let forged = CursorCodec::new(&[9; 32]).encode(b, "p").await;
        for _ in 0..5 {
            assert_eq!(codec.decode(b, &forged).await, Err(CursorError));
        }
        assert_eq!(
            source.reads(),
            2,
            "the start-up read and one on the first miss"
        );
        codec.age_by(MISS_REFRESH_INTERVAL).await;
        assert_eq!(codec.decode(b, &forged).await, Err(CursorError));
        assert_eq!(source.reads(), 3);
    }

    #[tokio::test]
    async fn keys_older_than_the_ttl_are_read_again_before_signing() {
        let filter = ListFilter::default();
        let b = binding("alice", "alice", &filter);
        let source = Rotating::new(1);
        let codec = CursorCodec::from_source(source.clone()).await.unwrap();
        source.rotate_to(2);
        codec.age_by(KEY_TTL - Duration::from_secs(1)).await;
        let cursor = codec.encode(b, "p").await;
        assert_eq!(
            CursorCodec::new(&[1; 32]).decode(b, &cursor).await,
            Ok("p".into()),
            "fresh keys are not read again"
        );
        codec.age_by(KEY_TTL).await;
        let cursor = codec.encode(b, "p").await;
        assert_eq!(
            CursorCodec::new(&[2; 32]).decode(b, &cursor).await,
            Ok("p".into())
        );
    }

    #[tokio::test]
    async fn a_failed_re_read_keeps_the_keys_in_force() {
        let filter = ListFilter::default();
        let b = binding("alice", "alice", &filter);
        let source = Rotating::new(1);
        let codec = CursorCodec::from_source(source.clone()).await.unwrap();
        let cursor = codec.encode(b, "p").await;
        source.fail.store(true, std::sync::atomic::Ordering::SeqCst);
        codec.age_by(KEY_TTL).await;
        assert_eq!(codec.decode(b, &cursor).await, Ok("p".into()));
        assert!(
            CursorCodec::from_source(source.clone()).await.is_err(),
            "a first read that fails is an error"
        );
    }
}
