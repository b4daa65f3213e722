//! `gota recipes photo set|get|rm`: a recipe's photo (doc/api.md "Photos"). The file is checked
//! before anything is sent; the upload goes where the API says, without the bearer token; the
//! image is fetched from where the API redirects, without it too (see `crate::photo`).

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use gota_domain::photo::{PhotoId, PhotoSize, PhotoStatus};

use crate::client::Api;
use crate::error::CliError;
use crate::photo::{PhotoFile, Transfer, resolve, size_text, write_atomically};
use crate::render;

use super::{Context, StdoutClosed, bearer, report};

/// Between two reads of the recipe while the server makes the thumbnails.
const POLL_EVERY: Duration = Duration::from_millis(500);

#[derive(Debug, Subcommand)]
pub enum PhotoCommand {
    /// Attach a photo to a recipe (replacing the one it has): a JPEG, PNG or WebP file (by its
    /// bytes, whatever its name) of at most 20 MiB. Waits until the server has made the
    /// thumbnails and prints the verdict; exits 2 when the image is refused.
    Set {
        id: String,
        file: PathBuf,
        /// Only if the recipe is still at this version (412, exit 5, otherwise).
        #[arg(long, value_name = "VERSION")]
        if_match: Option<u64>,
        /// Do not wait for the verdict: print the photo as `pending` once uploaded.
        #[arg(long)]
        no_wait: bool,
        /// How long to wait for the verdict (exit 1 when it has not come).
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = 60,
            conflicts_with = "no_wait"
        )]
        timeout: u64,
        /// No progress bar (there is none anyway when stderr is not a terminal).
        #[arg(long, short)]
        quiet: bool,
    },
    /// Download a recipe's photo (once it is `ready`) as a JPEG.
    Get {
        id: String,
        /// `original` (the whole picture, re-encoded without metadata), `medium` (960 px on
        /// the long side) or `thumb` (320 px).
        #[arg(long, value_enum, default_value_t = Size::Original)]
        size: Size,
        /// Write the image to FILE (`-` for standard output); a failed download leaves FILE
        /// as it was.
        #[arg(short, long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Remove a recipe's photo and its images.
    Rm {
        id: String,
        /// Only if the recipe is still at this version (412, exit 5, otherwise).
        #[arg(long, value_name = "VERSION")]
        if_match: Option<u64>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Size {
    Original,
    Medium,
    Thumb,
}

impl From<Size> for PhotoSize {
    fn from(size: Size) -> Self {
        match size {
            Size::Original => PhotoSize::Original,
            Size::Medium => PhotoSize::Medium,
            Size::Thumb => PhotoSize::Thumb,
        }
    }
}

pub(super) async fn photo(ctx: &Context, command: PhotoCommand) -> anyhow::Result<()> {
    match command {
        PhotoCommand::Set {
            id,
            file,
            if_match,
            no_wait,
            timeout,
            quiet,
        } => {
            // Before any request, the token's renewal included.
            let photo = PhotoFile::read(&file)?;
            let api = Api::new(&ctx.endpoint, Some(bearer(ctx).await?));
            let wait = (!no_wait).then(|| Duration::from_secs(timeout));
            set(ctx, &api, &id, &file, &photo, if_match, wait, quiet).await
        }
        PhotoCommand::Get { id, size, file } => {
            let api = Api::new(&ctx.endpoint, Some(bearer(ctx).await?));
            get(ctx, &api, &id, size.into(), &file).await
        }
        PhotoCommand::Rm { id, if_match } => {
            let api = Api::new(&ctx.endpoint, Some(bearer(ctx).await?));
            let etag = if_match.map(|v| format!("\"{v}\""));
            api.photo_delete(&id, etag.as_deref())
                .await
                .map_err(|e| super::changed(e, &id, ""))?;
            report(
                ctx,
                &format!("Removed the photo of recipe {id}."),
                &serde_json::json!({"recipe": id, "photo": null}),
            )
        }
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "one command's flags, passed through once"
)]
async fn set(
    ctx: &Context,
    api: &Api,
    id: &str,
    file: &Path,
    photo: &PhotoFile,
    if_match: Option<u64>,
    wait: Option<Duration>,
    quiet: bool,
) -> anyhow::Result<()> {
    let etag = if_match.map(|v| format!("\"{v}\""));
    let grant = api
        .photo_upload(id, photo.kind.content_type(), etag.as_deref())
        .await
        .map_err(|e| super::changed(e, id, ""))?;
    let len = photo.bytes.len() as u64;
    if len > grant.max_bytes {
        return Err(CliError::Usage(format!(
            "{} is {}: the server takes at most {} bytes; nothing was sent",
            file.display(),
            size_text(len),
            grant.max_bytes
        ))
        .into());
    }
    let url = resolve(api.base(), &grant.url)?;
    let show = !quiet && std::io::stderr().is_terminal();
    let bar = if show {
        upload_bar(len)
    } else {
        ProgressBar::hidden()
    };
    let uploaded = Transfer::new().upload(&grant, &url, photo, &bar).await;
    bar.finish_and_clear();
    uploaded.map_err(|e| {
        anyhow::Error::new(e).context(format!("uploading {} failed", file.display()))
    })?;
    let sent = format!(
        "Uploaded {} ({}, {}) to recipe {id}.",
        file.display(),
        size_text(len),
        photo.kind.content_type()
    );
    let Some(timeout) = wait else {
        return report(
            ctx,
            &format!("{sent}\nPhoto: {}", render::PENDING),
            &serde_json::json!({"recipe": id, "photo": grant.photo}),
        );
    };
    let photo_id: PhotoId = grant
        .photo
        .get("id")
        .and_then(|v| v.as_str())
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| CliError::Network("the server's answer has no photo id".into()))?;
    let spinner = if show {
        wait_spinner()
    } else {
        ProgressBar::hidden()
    };
    let verdict = verdict(api, id, photo_id, timeout).await;
    spinner.finish_and_clear();
    let (recipe, status) = verdict?;
    let json = serde_json::to_value(&recipe)?;
    let photo_json = json.get("photo").cloned().unwrap_or_default();
    let line = recipe
        .photo
        .as_ref()
        .map(render::photo_line)
        .unwrap_or_default();
    report(
        ctx,
        &format!("{sent}\n{line}"),
        &serde_json::json!({"recipe": id, "photo": photo_json}),
    )?;
    match status {
        PhotoStatus::Ready { .. } => Ok(()),
        PhotoStatus::Failed { reason } => Err(CliError::Usage(format!(
            "the server refused the photo of recipe {id}: {reason}"
        ))
        .into()),
        PhotoStatus::Pending => Err(anyhow::anyhow!(
            "the photo of recipe {id} is still being processed after {} s; `gota recipes get \
             {id}` shows it when it is done",
            timeout.as_secs()
        )),
    }
}

/// Reads the recipe until its photo `photo_id` is `ready` or `failed`, or `timeout` has passed
/// (then `pending`). Another photo, or none, means someone replaced or removed it meanwhile.
async fn verdict(
    api: &Api,
    id: &str,
    photo_id: PhotoId,
    timeout: Duration,
) -> anyhow::Result<(gota_domain::Recipe, PhotoStatus)> {
    let deadline = Instant::now() + timeout;
    loop {
        let (recipe, _) = api.get(id, None).await?;
        let status = match &recipe.photo {
            Some(photo) if photo.id == photo_id => photo.status.clone(),
            Some(_) => anyhow::bail!("another photo replaced this one on recipe {id} meanwhile"),
            None => anyhow::bail!("the photo of recipe {id} was removed meanwhile"),
        };
        if status != PhotoStatus::Pending || Instant::now() >= deadline {
            return Ok((recipe, status));
        }
        tokio::time::sleep(POLL_EVERY.min(deadline.saturating_duration_since(Instant::now())))
            .await;
    }
}

fn upload_bar(len: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

fn wait_spinner() -> ProgressBar {
    let spinner = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} making the thumbnails… {elapsed}")
    {
        spinner.set_style(style.tick_chars("-\\|/ "));
    }
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}

async fn get(
    ctx: &Context,
    api: &Api,
    id: &str,
    size: PhotoSize,
    file: &Path,
) -> anyhow::Result<()> {
    let location = api.photo_location(id, size).await.map_err(|e| match e {
        CliError::Api {
            status: 404,
            mut problem,
        } => {
            problem.title = format!("recipe {id} has no ready photo");
            CliError::Api {
                status: 404,
                problem,
            }
        }
        other => other,
    })?;
    let response = Transfer::new().download(&location).await?;
    if file.as_os_str() == "-" {
        return to_stdout(response).await;
    }
    let written = write_atomically(response, file).await?;
    report(
        ctx,
        &format!(
            "Wrote the {} photo of recipe {id} to {} ({}).",
            size.as_str(),
            file.display(),
            size_text(written)
        ),
        &serde_json::json!({"recipe": id, "size": size.as_str(), "file": file, "bytes": written}),
    )
}

/// The image on standard output, as it arrives (nothing else is written there).
async fn to_stdout(mut response: reqwest::Response) -> anyhow::Result<()> {
    use std::io::Write as _;
    let stdout = std::io::stdout();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| crate::error::network(&e))?
    {
        match stdout.lock().write_all(&chunk) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Err(StdoutClosed.into()),
            other => other?,
        }
    }
    match stdout.lock().flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        other => Ok(other?),
    }
}
