//! `gota-bench photo`: what the photo worker needs per image, on its real code path —
//! [`develop`] with the embedded store and [`LocalObjects`] in a temporary folder. That is the
//! Lambda worker's work minus the S3 and DynamoDB round trips (and the SQS batch around it):
//! the same reads, decode, renditions, writes and conditional status write, against local files.
//!
//! - time: `--images` fresh uploads of a generated 4000 × 3000 camera-like JPEG with EXIF, each
//!   developed once; the split comes from timing every storage call `develop` makes (decorators
//!   around the store and the objects), the decode and renditions being the rest;
//! - memory: a child process (`gota-bench photo --one DIR KEY…`) develops the given uploads and
//!   nothing else, then waits; the parent reads its peak RSS (VmHWM, the kernel's `ru_maxrss`)
//!   before letting it exit. The same child
//!   with no key (`--one DIR`: the store and the objects opened, nothing developed) is the
//!   baseline. 12 MP once, 48 MP (8000 × 6000, the largest class the limits admit) once, and
//!   48 MP [`WORKER_CONCURRENCY`] times at once, as one worker invocation may.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use gota_core::photos::local::LocalObjects;
use gota_core::photos::{Fetched, ObjectsError, PhotoObjects, Upload, Verdict, develop};
use gota_core::store::embedded::EmbeddedStore;
use gota_core::store::{
    Change, Check, ClaimOutcome, IdempotencyClaim, IdempotencyRecord, IdempotencyScope, ListQuery,
    Page, PhotoChange, RecipeStore, Refusal, Scope, StoreError,
};
use gota_domain::photo::{Photo, PhotoId, PhotoKeys, PhotoStatus};
use gota_domain::{Owner, Recipe, RecipeContent, RecipeId, RecipeInput, now_utc};
use image::ImageEncoder as _;
use image::codecs::jpeg::JpegEncoder;
use time::OffsetDateTime;

use crate::{median, ms};

/// Uploads one worker invocation develops at once (the worker's own constant).
pub const WORKER_CONCURRENCY: usize = gota_core::photos::WORKER_CONCURRENCY;

/// A 12-megapixel phone photo, the common case.
const TWELVE_MP: (u32, u32) = (4000, 3000);
/// 48 megapixels, 4:3: the largest class `gota_media::Limits` admits (50 MP, 10,000 px a side).
const FORTY_EIGHT_MP: (u32, u32) = (8000, 6000);

pub fn main(exe: &Path, mut args: impl Iterator<Item = String>) -> anyhow::Result<()> {
    let mut images = 10_usize;
    while let Some(flag) = args.next() {
        match flag.as_str() {
            "--images" => images = args.next().context("--images needs a value")?.parse()?,
            "--one" => {
                let dir = args.next().context("--one needs a folder")?;
                return one(Path::new(&dir), &args.collect::<Vec<_>>());
            }
            other => bail!("unknown flag {other}; flags: --images N"),
        }
    }
    if images == 0 {
        bail!("--images must be at least 1");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    eprintln!("photo: {images} developments of a 12 MP upload…");
    let timing = runtime.block_on(timings(images))?;
    drop(runtime);
    eprintln!("photo: peak memory of one develop() per child process…");
    let memory = peaks(exe)?;
    #[allow(clippy::print_stdout)] // the report is this program's output
    {
        println!("{}", render(&timing, &memory));
    }
    Ok(())
}

/// A photo-like 4:3 picture as a phone writes it: smooth gradients, some texture, sensor-like
/// noise (a fixed-seed generator), JPEG quality 90 with an EXIF block (orientation, GPS).
/// Gentler noise than `media/tests/common`'s `photo`, so 48 MP stays under the 20 MiB upload
/// cap as real 48 MP JPEGs (8–15 MB) do; a generated file over it would be refused unread.
pub fn camera_jpeg(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    let mut state: u32 = 0x9e37_79b9;
    let mut pixels = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        for x in 0..width {
            let base = [
                x * 255 / width.max(1),
                y * 255 / height.max(1),
                ((x / 7) ^ (y / 5)) % 64 + 96,
            ];
            for channel in base {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let noise = (state % 13) as i32 - 6;
                pixels.push((channel as i32 + noise).clamp(0, 255) as u8);
            }
        }
    }
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 90);
    encoder.set_exif_metadata(exif())?;
    encoder.write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)?;
    Ok(bytes)
}

/// A TIFF-structured EXIF block (little-endian) as cameras write it: IFD0 with the
/// orientation (1, upright) and a GPS IFD pointer; the GPS IFD with a latitude.
fn exif() -> Vec<u8> {
    fn entry(out: &mut Vec<u8>, tag: u16, kind: u16, count: u32, value: [u8; 4]) {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&value);
    }
    let (ascii, short, long, rational) = (2, 3, 4, 5);
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    // IFD0 at 8: 2 entries, 2 + 24 + 4 = 30 bytes; the GPS IFD at 38: 2 entries, 30 bytes;
    // the latitude's three rationals at 68.
    out.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut out, 0x0112, short, 1, [1, 0, 0, 0]);
    entry(&mut out, 0x8825, long, 1, 38u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    entry(&mut out, 0x0001, ascii, 2, *b"N\0\0\0");
    entry(&mut out, 0x0002, rational, 3, 68u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    for (numerator, denominator) in [(48u32, 1u32), (51, 1), (3013, 100)] {
        out.extend_from_slice(&numerator.to_le_bytes());
        out.extend_from_slice(&denominator.to_le_bytes());
    }
    out
}

/// A recipe of `owner` with a pending photo and its upload written, as
/// `POST /recipes/{id}/photo` and the client's upload leave them.
async fn fresh_upload(
    store: &dyn RecipeStore,
    objects: &LocalObjects,
    owner: &str,
    jpeg: &[u8],
) -> anyhow::Result<PhotoKeys> {
    let input: RecipeInput =
        serde_json::from_value(gota_testkit::fixtures::minimal_recipe("With a photo"))?;
    let now = now_utc();
    let recipe = Recipe {
        id: RecipeId::new(),
        owner: Owner::parse(owner).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        version: 1,
        created_at: now,
        updated_at: now,
        content: RecipeContent::parse(input).map_err(|e| anyhow::anyhow!("{e:?}"))?,
        photo: None,
    };
    store.create(&recipe, None).await?;
    let photo = Photo {
        id: PhotoId::new(),
        status: PhotoStatus::Pending,
        updated_at: now_utc(),
    };
    let set = |_: &Recipe| Ok(Some(photo.clone()));
    store
        .update_photo(recipe.id, Scope::Owner(&recipe.owner), &set)
        .await?
        .map_err(|refusal| anyhow::anyhow!("the pending photo was refused: {refusal}"))?;
    let keys = PhotoKeys {
        owner: recipe.owner,
        recipe: recipe.id,
        photo: photo.id,
    };
    objects.write_upload(&keys.upload(), jpeg.to_vec()).await?;
    Ok(keys)
}

/// The storage calls `develop` makes, in the order of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    ReadRecipe,
    GetUpload,
    PutRendition,
    StatusWrite,
    DeleteUpload,
}

type Log = Arc<Mutex<Vec<(Call, Duration)>>>;

fn record<T>(log: &Log, call: Call, started: Instant, result: T) -> T {
    if let Ok(mut log) = log.lock() {
        log.push((call, started.elapsed()));
    }
    result
}

/// The objects, every call `develop` makes timed.
#[derive(Debug)]
struct TimedObjects {
    inner: LocalObjects,
    log: Log,
}

#[async_trait]
impl PhotoObjects for TimedObjects {
    async fn presign_upload(
        &self,
        key: &str,
        content_type: &str,
        max_bytes: u64,
        expires_at: OffsetDateTime,
    ) -> Result<Upload, ObjectsError> {
        (self.inner)
            .presign_upload(key, content_type, max_bytes, expires_at)
            .await
    }

    async fn presign_get(
        &self,
        key: &str,
        expires_at: OffsetDateTime,
    ) -> Result<String, ObjectsError> {
        self.inner.presign_get(key, expires_at).await
    }

    async fn get(&self, key: &str, max_bytes: u64) -> Result<Option<Fetched>, ObjectsError> {
        let started = Instant::now();
        let result = self.inner.get(key, max_bytes).await;
        record(&self.log, Call::GetUpload, started, result)
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), ObjectsError> {
        let started = Instant::now();
        let result = self.inner.put(key, bytes, content_type).await;
        record(&self.log, Call::PutRendition, started, result)
    }

    async fn delete(&self, keys: &[String]) -> Result<(), ObjectsError> {
        let started = Instant::now();
        let result = self.inner.delete(keys).await;
        record(&self.log, Call::DeleteUpload, started, result)
    }
}

/// The store, the two calls `develop` makes timed.
#[derive(Debug)]
struct TimedStore {
    inner: EmbeddedStore,
    log: Log,
}

#[async_trait]
impl RecipeStore for TimedStore {
    async fn get(&self, id: RecipeId, scope: Scope<'_>) -> Result<Option<Recipe>, StoreError> {
        let started = Instant::now();
        let result = self.inner.get(id, scope).await;
        record(&self.log, Call::ReadRecipe, started, result)
    }

    async fn list(&self, query: &ListQuery) -> Result<Page, StoreError> {
        self.inner.list(query).await
    }

    async fn create(
        &self,
        recipe: &Recipe,
        idempotency: Option<&IdempotencyRecord>,
    ) -> Result<(), StoreError> {
        self.inner.create(recipe, idempotency).await
    }

    async fn update(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &Change<'_>,
    ) -> Result<Result<Recipe, Refusal>, StoreError> {
        self.inner.update(id, scope, change).await
    }

    async fn delete(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        check: &Check<'_>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        self.inner.delete(id, scope, check).await
    }

    async fn update_photo(
        &self,
        id: RecipeId,
        scope: Scope<'_>,
        change: &PhotoChange<'_>,
    ) -> Result<Result<(Recipe, Option<Photo>), Refusal>, StoreError> {
        let started = Instant::now();
        let result = self.inner.update_photo(id, scope, change).await;
        record(&self.log, Call::StatusWrite, started, result)
    }

    async fn claim_idempotency_key(
        &self,
        claim: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        self.inner.claim_idempotency_key(claim).await
    }

    async fn release_idempotency_key(
        &self,
        scope: &IdempotencyScope,
        claimed_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.inner.release_idempotency_key(scope, claimed_at).await
    }
}

/// One develop(), split: milliseconds per part.
#[derive(Debug, Clone, Copy, Default)]
struct Split {
    read_recipe: f64,
    get: f64,
    process: f64,
    puts: f64,
    status: f64,
    delete: f64,
    total: f64,
}

#[derive(Debug)]
struct Timings {
    input_bytes: usize,
    runs: Vec<Split>,
}

async fn timings(images: usize) -> anyhow::Result<Timings> {
    let jpeg = camera_jpeg(TWELVE_MP.0, TWELVE_MP.1)?;
    let dir = tempfile::tempdir()?;
    let log = Log::default();
    let store = TimedStore {
        inner: EmbeddedStore::open(dir.path())?,
        log: log.clone(),
    };
    let objects = TimedObjects {
        inner: LocalObjects::open(dir.path())?,
        log: log.clone(),
    };
    let mut runs = Vec::with_capacity(images);
    for i in 0..images {
        let keys = fresh_upload(&store, &objects.inner, &format!("bench-{i}"), &jpeg).await?;
        log.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.clear();
        let started = Instant::now();
        let verdict = develop(&objects, &store, &keys).await?;
        let total = ms(started.elapsed());
        check_ready(&verdict, TWELVE_MP)?;
        let calls = std::mem::take(&mut *log.lock().map_err(|_| anyhow::anyhow!("poisoned"))?);
        let sum = |call: Call| -> f64 {
            let times = calls.iter().filter(|(c, _)| *c == call);
            times.map(|(_, d)| ms(*d)).sum()
        };
        let puts = calls
            .iter()
            .filter(|(c, _)| *c == Call::PutRendition)
            .count();
        if puts != 3 {
            bail!("develop() wrote {puts} renditions, not 3");
        }
        let mut split = Split {
            read_recipe: sum(Call::ReadRecipe),
            get: sum(Call::GetUpload),
            puts: sum(Call::PutRendition),
            status: sum(Call::StatusWrite),
            delete: sum(Call::DeleteUpload),
            total,
            ..Split::default()
        };
        split.process =
            total - split.read_recipe - split.get - split.puts - split.status - split.delete;
        runs.push(split);
    }
    Ok(Timings {
        input_bytes: jpeg.len(),
        runs,
    })
}

fn check_ready(verdict: &Verdict, (width, height): (u32, u32)) -> anyhow::Result<()> {
    if *verdict != (Verdict::Ready { width, height }) {
        bail!("develop() of a {width} × {height} JPEG ended {verdict:?}, not ready");
    }
    Ok(())
}

/// What the child prints once every verdict is out.
const DONE: &str = "done";

/// The child: opens the store and the objects in `dir` and develops every upload key given, all
/// at once (as one worker invocation does up to its concurrency); with none, only opens them.
fn one(dir: &Path, keys: &[String]) -> anyhow::Result<()> {
    let keys = keys
        .iter()
        .map(|key| PhotoKeys::parse_upload(key).with_context(|| format!("not an upload: {key}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    // As gota-worker: `#[tokio::main]`, the multi-threaded runtime.
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let store = Arc::new(EmbeddedStore::open(dir)?);
        let objects = Arc::new(LocalObjects::open(dir)?);
        let developing: Vec<_> = keys
            .into_iter()
            .map(|keys| {
                let (store, objects) = (store.clone(), objects.clone());
                tokio::spawn(async move { develop(objects.as_ref(), store.as_ref(), &keys).await })
            })
            .collect();
        let mut out = std::io::stdout().lock();
        for task in developing {
            let verdict = task.await??;
            // The parent checks every verdict.
            writeln!(out, "{verdict:?}")?;
        }
        writeln!(out, "{DONE}")?;
        out.flush()?;
        anyhow::Ok(())
    })?;
    // Stay (nothing more allocated) until the parent has read the peak and closes our stdin.
    std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())?;
    Ok(())
}

/// Peak RSS (KiB) of one child run, and what it printed.
#[derive(Debug)]
struct Peak {
    case: String,
    kib: u64,
    secs: f64,
}

#[derive(Debug)]
struct Memory {
    idle: Peak,
    cases: Vec<Peak>,
    bytes_12: usize,
    bytes_48: usize,
}

/// One child's work: `at_once` uploads of `jpeg` developed together.
struct Case<'a> {
    name: &'static str,
    jpeg: &'a [u8],
    size: (u32, u32),
    at_once: usize,
}

fn peaks(exe: &Path) -> anyhow::Result<Memory> {
    let jpeg_12 = camera_jpeg(TWELVE_MP.0, TWELVE_MP.1)?;
    let jpeg_48 = camera_jpeg(FORTY_EIGHT_MP.0, FORTY_EIGHT_MP.1)?;
    let cases = [
        Case {
            name: "12 MP (4000 × 3000), one",
            jpeg: &jpeg_12,
            size: TWELVE_MP,
            at_once: 1,
        },
        Case {
            name: "48 MP (8000 × 6000), one",
            jpeg: &jpeg_48,
            size: FORTY_EIGHT_MP,
            at_once: 1,
        },
        Case {
            name: "48 MP, the worker's concurrency at once",
            jpeg: &jpeg_48,
            size: FORTY_EIGHT_MP,
            at_once: WORKER_CONCURRENCY,
        },
    ];
    let runtime = tokio::runtime::Runtime::new()?;
    let dir = tempfile::tempdir()?;
    let mut uploads = Vec::new();
    {
        let store = EmbeddedStore::open(dir.path())?;
        let objects = LocalObjects::open(dir.path())?;
        for (n, case) in cases.iter().enumerate() {
            let mut keys = Vec::new();
            for i in 0..case.at_once {
                let owner = format!("peak-{n}-{i}");
                let made = runtime.block_on(fresh_upload(&store, &objects, &owner, case.jpeg))?;
                keys.push(made.upload());
            }
            uploads.push(keys);
        }
    }
    drop(runtime);

    let idle = child(exe, dir.path(), &[])?;
    let mut measured = Vec::new();
    for (case, keys) in cases.iter().zip(&uploads) {
        let (printed, kib, secs) = child(exe, dir.path(), keys)?;
        let (width, height) = case.size;
        let want = format!("{:?}", Verdict::Ready { width, height });
        if printed.lines().count() != keys.len() || printed.lines().any(|line| line != want) {
            bail!(
                "the child's develop() of {} ended {printed:?}, not {want}",
                case.name
            );
        }
        measured.push(Peak {
            case: case.name.to_owned(),
            kib,
            secs,
        });
    }
    Ok(Memory {
        idle: Peak {
            case: "idle: store and objects opened, nothing developed".to_owned(),
            kib: idle.1,
            secs: idle.2,
        },
        cases: measured,
        bytes_12: jpeg_12.len(),
        bytes_48: jpeg_48.len(),
    })
}

/// Runs `gota-bench photo --one DIR KEYS…`: its verdicts, its peak RSS (KiB) once it has
/// developed them all, and its wall seconds until then.
fn child(exe: &Path, dir: &Path, keys: &[String]) -> anyhow::Result<(String, u64, f64)> {
    let started = Instant::now();
    let mut child = Command::new(exe)
        .args(["photo", "--one"])
        .arg(dir)
        .args(keys)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("the child's stdout")?;
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        if line == DONE {
            break;
        }
        printed.push_str(&line);
        printed.push('\n');
    }
    let secs = started.elapsed().as_secs_f64();
    // Read while the child waits on its stdin: after its exit /proc no longer has it.
    let peak = vm_hwm_kib(child.id());
    drop(child.stdin.take());
    let status = child.wait()?;
    if !status.success() {
        bail!("gota-bench photo --one failed ({status}); it printed {printed:?}");
    }
    Ok((printed, peak?, secs))
}

/// The process's peak resident set size, "VmHWM" in /proc/PID/status (proc(5)): the same
/// high-water mark getrusage(2) reports as `ru_maxrss`, read without `wait4` (the workspace
/// forbids `unsafe`, and std does not return a child's rusage).
fn vm_hwm_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmHWM in /proc/PID/status")
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// p90 by nearest rank (the 9th of 10).
fn p90(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = (values.len() * 9).div_ceil(10).max(1);
    values.get(rank - 1).copied().unwrap_or(f64::NAN)
}

fn render(timing: &Timings, memory: &Memory) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "## Photo worker: develop() on the embedded store and local objects \
         (the worker's work minus the S3 and DynamoDB round trips)\n"
    );
    let _ = writeln!(
        out,
        "{} fresh uploads of a 4000 × 3000 camera-like JPEG with EXIF ({} bytes), each developed \
         once (ms):\n",
        timing.runs.len(),
        timing.input_bytes
    );
    let _ = writeln!(out, "| part | median | p90 |\n|---|---:|---:|");
    type Part = fn(&Split) -> f64;
    let parts: [(&str, Part); 7] = [
        ("read the recipe (store get)", |s| s.read_recipe),
        ("get the upload", |s| s.get),
        ("decode + renditions (process, the rest)", |s| s.process),
        ("put ×3 (original, medium, thumb)", |s| s.puts),
        ("status write (conditional update_photo)", |s| s.status),
        ("delete the upload", |s| s.delete),
        ("**develop(), total**", |s| s.total),
    ];
    for (name, part) in parts {
        let mut values: Vec<f64> = timing.runs.iter().map(part).collect();
        let _ = writeln!(
            out,
            "| {name} | {:.1} | {:.1} |",
            median(&mut values.clone()),
            p90(&mut values)
        );
    }
    let _ = writeln!(
        out,
        "\nPeak RSS of a child process (`gota-bench photo --one`, VmHWM = `ru_maxrss`); \
         inputs {} bytes (12 MP) and {} bytes (48 MP):\n",
        memory.bytes_12, memory.bytes_48
    );
    let _ = writeln!(
        out,
        "| child | peak MiB | over idle MiB | wall s |\n|---|---:|---:|---:|"
    );
    let _ = writeln!(
        out,
        "| {} | {:.1} | — | {:.2} |",
        memory.idle.case,
        mib(memory.idle.kib),
        memory.idle.secs
    );
    for peak in &memory.cases {
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.2} |",
            peak.case,
            mib(peak.kib),
            mib(peak.kib.saturating_sub(memory.idle.kib)),
            peak.secs
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn the_generated_photo_is_a_jpeg_of_its_size_with_the_exif_block() {
        let small = camera_jpeg(400, 300).unwrap();
        let info = gota_media::inspect(&small).unwrap();
        assert_eq!((info.width, info.height), (400, 300));
        // The EXIF block right after SOI, in its APP1 segment.
        assert!(small.windows(6).any(|w| w == b"Exif\0\0"));
        assert!(small.windows(exif().len()).any(|w| w == exif()));
    }

    #[test]
    fn p90_is_the_nearest_rank() {
        let mut ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(p90(&mut ten), 9.0);
        assert_eq!(p90(&mut [5.0]), 5.0);
    }
}
