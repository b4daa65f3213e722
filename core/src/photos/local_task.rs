//! The standalone server's photo worker: what S3 events, SQS and the `gota-worker` Lambda do on
//! AWS, done in-process. Uploads received by `PUT /uploads/{token}` are queued (a bounded
//! queue) and developed one at a time ([`develop`]); the image work itself runs on the
//! blocking pool inside `develop`.
//!
//! Nothing is lost: an upload is a file under `<data dir>/objects/uploads/` until `develop`
//! has decided on it, and the queue only names files. So a full queue refuses nothing (the
//! files are picked up by a scan once it has drained), a failure that a retry may fix is
//! retried a few times and then left on disk, and every start scans the folder and queues
//! what it finds (`develop` tells stale and finished uploads apart).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::PhotoObjects;
use super::develop::develop;
use super::local::is_temporary;
use crate::store::RecipeStore;
use gota_domain::photo::{PhotoKeys, UPLOADS_PREFIX};

/// Uploads waiting at most: one user's burst; past it, the files wait on disk for a scan.
pub const QUEUE_CAPACITY: usize = 64;

/// The waits before each retry of an upload whose development failed for a reason a retry can
/// fix (the store or the disk); after the last, the upload stays on disk until the next start.
pub const RETRY_DELAYS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(5),
    Duration::from_secs(30),
];

/// How long shutting down waits for the upload in hand before abandoning it (it stays on disk
/// and is queued again at the next start).
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// The running task: queue uploads through [`LocalTask::queue`], stop it with
/// [`LocalTask::shutdown`].
#[derive(Debug)]
pub struct LocalTask {
    queue: PhotoQueue,
    stop: watch::Sender<bool>,
    worker: JoinHandle<()>,
}

/// Where `PUT /uploads/{token}` hands an upload over (cheap to clone).
#[derive(Debug, Clone)]
pub struct PhotoQueue {
    sender: mpsc::Sender<PhotoKeys>,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Uploads queued and not yet developed (or given up on).
    outstanding: AtomicUsize,
    /// An upload was not queued (the queue was full): scan the folder once it has drained.
    missed: AtomicBool,
    /// Told whenever the task may have become idle.
    idle: Notify,
}

impl PhotoQueue {
    /// Queues an upload already on disk. Never waits: when the queue is full the upload stays
    /// on disk and the task finds it by scanning the folder once the queue has drained.
    pub fn enqueue(&self, keys: PhotoKeys) {
        self.shared.outstanding.fetch_add(1, Ordering::SeqCst);
        if let Err(error) = self.sender.try_send(keys) {
            let (reason, keys) = match error {
                mpsc::error::TrySendError::Full(keys) => {
                    self.shared.missed.store(true, Ordering::SeqCst);
                    ("the queue is full: picked up by the next scan", keys)
                }
                mpsc::error::TrySendError::Closed(keys) => {
                    ("the task has stopped: picked up at the next start", keys)
                }
            };
            tracing::info!(recipe_id = %keys.recipe, photo_id = %keys.photo, reason, "photo not queued");
            self.done_one();
        }
    }

    fn done_one(&self) {
        self.shared.outstanding.fetch_sub(1, Ordering::SeqCst);
        self.shared.idle.notify_waiters();
    }

    fn is_idle(&self) -> bool {
        self.shared.outstanding.load(Ordering::SeqCst) == 0
            && !self.shared.missed.load(Ordering::SeqCst)
    }

    /// Resolves once every upload queued so far (and every one a scan found) is developed or
    /// given up on. For tests and for callers that must wait for the renditions.
    pub async fn idle(&self) {
        loop {
            let notified = self.shared.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_idle() {
                return;
            }
            notified.await;
        }
    }
}

impl LocalTask {
    /// Starts the task for the objects of `objects`, whose uploads are files under
    /// `uploads_dir` (the local storage's `uploads/`), and queues every upload already there.
    pub fn start(
        objects: Arc<dyn PhotoObjects>,
        uploads_dir: PathBuf,
        store: Arc<dyn RecipeStore>,
    ) -> LocalTask {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let queue = PhotoQueue {
            sender,
            shared: Arc::new(Shared::default()),
        };
        let (stop, stopped) = watch::channel(false);
        // The first scan runs inside the task: start-up does not wait for it.
        queue.shared.missed.store(true, Ordering::SeqCst);
        let worker = tokio::spawn(run(
            Worker {
                objects,
                uploads_dir,
                started: SystemTime::now(),
                store,
                queue: queue.clone(),
            },
            receiver,
            stopped,
        ));
        LocalTask {
            queue,
            stop,
            worker,
        }
    }

    pub fn queue(&self) -> PhotoQueue {
        self.queue.clone()
    }

    /// Stops taking uploads, lets the one in hand finish (at most [`SHUTDOWN_GRACE`]) and
    /// ends the task. Whatever was not developed stays on disk for the next start.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let mut worker = self.worker;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut worker)
            .await
            .is_err()
        {
            worker.abort();
            tracing::warn!(
                "photo task did not stop in time; its upload is left for the next start"
            );
        }
        tracing::info!("photo task stopped");
    }
}

struct Worker {
    objects: Arc<dyn PhotoObjects>,
    uploads_dir: PathBuf,
    /// When the task began: a temporary file older than this is no write of this process.
    started: SystemTime,
    store: Arc<dyn RecipeStore>,
    queue: PhotoQueue,
}

async fn run(
    worker: Worker,
    mut receiver: mpsc::Receiver<PhotoKeys>,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        if receiver.is_empty() && worker.queue.shared.missed.load(Ordering::SeqCst) {
            // The scan counts as outstanding work before the flag is cleared, so that the task
            // never looks idle between the two.
            let shared = &worker.queue.shared;
            shared.outstanding.fetch_add(1, Ordering::SeqCst);
            shared.missed.store(false, Ordering::SeqCst);
            worker.scan().await;
            worker.queue.done_one();
        }
        if worker.queue.is_idle() {
            worker.queue.shared.idle.notify_waiters();
        }
        let keys = tokio::select! {
            biased;
            _ = stopped.wait_for(|stop| *stop) => break,
            keys = receiver.recv() => match keys {
                Some(keys) => keys,
                None => break,
            },
        };
        // The upload in hand is finished even when a stop comes meanwhile (`shutdown` bounds
        // that wait); only a wait before a retry is cut short.
        let finished = worker.develop_with_retries(&keys, &mut stopped).await;
        worker.queue.done_one();
        if !finished {
            break;
        }
    }
}

impl Worker {
    /// Develops `keys`, retrying what a retry may fix; `false` when a stop came during a wait
    /// before a retry (the upload stays on disk for the next start).
    async fn develop_with_retries(
        &self,
        keys: &PhotoKeys,
        stopped: &mut watch::Receiver<bool>,
    ) -> bool {
        for (attempt, delay) in std::iter::once(None)
            .chain(RETRY_DELAYS.into_iter().map(Some))
            .enumerate()
        {
            if let Some(delay) = delay {
                tokio::select! {
                    biased;
                    _ = stopped.wait_for(|stop| *stop) => return false,
                    () = tokio::time::sleep(delay) => {}
                }
            }
            match develop(&*self.objects, &*self.store, keys).await {
                Ok(_) => return true,
                Err(error) => tracing::warn!(
                    recipe_id = %keys.recipe,
                    photo_id = %keys.photo,
                    attempt = attempt + 1,
                    error = format!("{:#}", anyhow::Error::from(error)),
                    "developing a photo failed"
                ),
            }
        }
        tracing::error!(
            recipe_id = %keys.recipe,
            photo_id = %keys.photo,
            "giving up on a photo until the next start; its upload stays on disk"
        );
        true
    }

    /// Queues every upload on disk (each start, and after the queue refused one).
    async fn scan(&self) {
        let (dir, started) = (self.uploads_dir.clone(), self.started);
        let found = tokio::task::spawn_blocking(move || uploads_in(&dir, started))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match found {
            Ok(found) => {
                tracing::info!(uploads = found.len(), "photo uploads found on disk");
                for keys in found {
                    self.queue.enqueue(keys);
                }
            }
            Err(error) => tracing::error!(
                error = %error,
                dir = %self.uploads_dir.display(),
                "scanning photo uploads failed"
            ),
        }
    }
}

/// The uploads in `uploads_dir` (`<owner>/<recipe>/<photo>` under it). The temporary file of
/// a write that a crash or a kill cut short (one last changed over a minute before `started`,
/// when this process's task began) is removed; anything else there (a write in progress, a stray file)
/// is left alone.
fn uploads_in(uploads_dir: &Path, started: SystemTime) -> std::io::Result<Vec<PhotoKeys>> {
    let mut found = Vec::new();
    let mut pending = vec![(uploads_dir.to_path_buf(), UPLOADS_PREFIX.to_owned(), 0_u8)];
    while let Some((dir, prefix, depth)) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(error),
        };
        for entry in entries {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let key = format!("{prefix}{name}");
            let kind = entry.file_type()?;
            if kind.is_dir() && depth < 2 {
                pending.push((entry.path(), format!("{key}/"), depth + 1));
            } else if kind.is_file()
                && let Some(keys) = PhotoKeys::parse_upload(&key)
            {
                found.push(keys);
            } else if kind.is_file() && is_temporary(&name) {
                // A minute's margin: file times come from a coarser clock than `started`.
                let abandoned = entry.metadata()?.modified()? + Duration::from_secs(60) < started;
                if abandoned {
                    let path = entry.path();
                    match std::fs::remove_file(&path) {
                        Ok(()) => {
                            tracing::info!(file = %path.display(), "removed an upload a stop cut short");
                        }
                        Err(error) => {
                            tracing::warn!(file = %path.display(), error = %error, "an upload a stop cut short could not be removed");
                        }
                    }
                }
            }
        }
    }
    // Oldest photo first (photo ids are UUIDv7: time-ordered).
    found.sort_by_key(|keys| keys.photo);
    Ok(found)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::photos::local::LocalObjects;
    use crate::store::embedded::EmbeddedStore;
    use gota_domain::photo::PhotoId;
    use gota_domain::{Owner, RecipeId};

    fn upload_keys() -> PhotoKeys {
        PhotoKeys {
            owner: Owner::parse("alice").unwrap(),
            recipe: RecipeId::new(),
            photo: PhotoId::new(),
        }
    }

    /// Uploads of recipes that do not exist: `develop` calls each stale and removes it, so an
    /// upload still on disk is one the task never developed.
    #[tokio::test]
    async fn uploads_the_full_queue_refused_are_found_by_a_scan_once_it_drains() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let objects = Arc::new(LocalObjects::open(dir.path()).unwrap());
        let uploads = objects.file_path("uploads").unwrap();
        let task = LocalTask::start(objects.clone(), uploads.clone(), store);
        let queue = task.queue();
        queue.idle().await;

        let all: Vec<_> = (0..QUEUE_CAPACITY + 6).map(|_| upload_keys()).collect();
        for keys in &all {
            objects
                .write_upload(&keys.upload(), vec![1, 2, 3])
                .await
                .unwrap();
        }
        // No await in between: the task takes nothing off the queue meanwhile, so the last
        // six find it full.
        for keys in &all {
            queue.enqueue(keys.clone());
        }
        assert!(queue.shared.missed.load(Ordering::SeqCst));
        tokio::time::timeout(Duration::from_secs(30), queue.idle())
            .await
            .expect("the task goes idle");
        let left: Vec<_> = all
            .iter()
            .filter(|keys| objects.file_path(&keys.upload()).unwrap().exists())
            .collect();
        assert!(left.is_empty(), "never developed: {}", left.len());
        assert!(uploads_in(&uploads, SystemTime::now()).unwrap().is_empty());
        task.shutdown().await;
    }

    /// A real JPEG, large enough that developing it takes a moment.
    fn jpeg() -> Vec<u8> {
        let image = image::RgbImage::from_fn(1600, 1200, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x ^ y) % 256) as u8])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&image)
            .unwrap();
        bytes
    }

    #[tokio::test]
    async fn a_shutdown_lets_the_upload_in_hand_finish() {
        use gota_domain::photo::{Photo, PhotoStatus};
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        let objects = Arc::new(LocalObjects::open(dir.path()).unwrap());
        let recipe = crate::store::conformance::sample_recipe("alice", "Pie");
        store.create(&recipe, None).await.unwrap();
        let keys = PhotoKeys {
            owner: recipe.owner.clone(),
            recipe: recipe.id,
            photo: PhotoId::new(),
        };
        let pending = Photo {
            id: keys.photo,
            status: PhotoStatus::Pending,
            updated_at: gota_domain::now_utc(),
        };
        store
            .update_photo(
                recipe.id,
                crate::store::Scope::Owner(&recipe.owner),
                &|_| Ok(Some(pending.clone())),
            )
            .await
            .unwrap()
            .unwrap();
        let uploads = objects.file_path("uploads").unwrap();
        let task = LocalTask::start(objects.clone(), uploads, store.clone());
        let queue = task.queue();
        queue.idle().await;
        // After the start's scan: this upload reaches the task through the queue only.
        objects.write_upload(&keys.upload(), jpeg()).await.unwrap();
        queue.enqueue(keys.clone());
        // Until the task has taken the upload off the queue: it is in hand.
        while queue.sender.capacity() < QUEUE_CAPACITY {
            tokio::task::yield_now().await;
        }
        task.shutdown().await;

        let photo = store
            .get(recipe.id, crate::store::Scope::Owner(&recipe.owner))
            .await
            .unwrap()
            .unwrap()
            .photo
            .unwrap();
        assert!(
            matches!(photo.status, PhotoStatus::Ready { .. }),
            "{photo:?}"
        );
        assert!(!objects.file_path(&keys.upload()).unwrap().exists());
    }

    #[test]
    fn a_scan_finds_uploads_only() {
        let dir = tempfile::tempdir().unwrap();
        let keys = upload_keys();
        let file = |relative: &str| {
            let path = dir.path().join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        };
        let upload = keys.upload();
        file(upload.trim_start_matches(UPLOADS_PREFIX));
        file(&format!(
            "{}.tmp",
            upload.trim_start_matches(UPLOADS_PREFIX)
        ));
        file("stray");
        file("a/b/c/d");
        // A write in progress, and one a previous run's crash left (last changed before start).
        let folder = upload
            .trim_start_matches(UPLOADS_PREFIX)
            .rsplit_once('/')
            .unwrap()
            .0;
        let in_progress = format!("{folder}/.{}.1.tmp", keys.photo);
        let abandoned = format!("{folder}/.{}.0.tmp", keys.photo);
        file(&in_progress);
        file(&abandoned);
        let started = SystemTime::now();
        let before = started - Duration::from_secs(120);
        std::fs::File::options()
            .write(true)
            .open(dir.path().join(&abandoned))
            .unwrap()
            .set_modified(before)
            .unwrap();
        assert_eq!(uploads_in(dir.path(), started).unwrap(), [keys]);
        assert!(dir.path().join(&in_progress).exists());
        assert!(!dir.path().join(&abandoned).exists());
        assert!(dir.path().join("stray").exists());
        assert!(
            uploads_in(&dir.path().join("missing"), started)
                .unwrap()
                .is_empty()
        );
    }
}
