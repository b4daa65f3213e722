//! Photos over the wire: what a file is by its bytes, the upload the API describes (a
//! presigned S3 POST on AWS, a PUT to the server itself standalone), and the images the API
//! redirects to.
//!
//! The bearer token never goes to any of those URLs. They carry their own authority (a
//! signature, or a token in the URL); S3 refuses a request that authenticates twice ("only one
//! auth mechanism allowed": a presigned request authenticates by its query string or form
//! fields, an `Authorization` header is a second mechanism — "Authentication methods", AWS
//! Signature Version 4 documentation, docs.aws.amazon.com/IAM/latest/UserGuide/
//! aws-signing-authentication-methods.html); and a token must never reach a third host. So
//! they all go through [`Transfer`], a client that has no token to send, while [`crate::client::Api`]
//! never follows a redirect.

use std::convert::Infallible;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use indicatif::ProgressBar;

use crate::error::network;
use crate::error::{CliError, Problem};

/// The largest photo the API accepts (doc/api.md "Photos", Limits: 20 MiB, the upload's
/// `max_bytes`); a larger file is refused here, before any request.
pub const UPLOAD_BYTES_MAX: u64 = 20 * 1024 * 1024;

/// The largest image `photo get` writes. Renditions are JPEGs of at most 50 megapixels, far
/// below this; the cap only stops a misbehaving server from filling the disk.
pub const DOWNLOAD_BYTES_MAX: u64 = 128 * 1024 * 1024;

/// How much of the file goes out per body frame (and per step of the progress bar).
const CHUNK_BYTES: usize = 64 * 1024;

/// The image types the API accepts, told by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    Jpeg,
    Png,
    Webp,
}

impl ImageType {
    /// The type the bytes say they are (their signature), whatever the file is called: JPEG
    /// `FF D8 FF`, PNG `89 50 4E 47 0D 0A 1A 0A`, WebP `RIFF`, four bytes of size, `WEBP`.
    pub fn sniff(bytes: &[u8]) -> Option<Self> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if bytes.starts_with(PNG) {
            Some(ImageType::Png)
        } else if bytes.get(..4) == Some(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
            Some(ImageType::Webp)
        } else {
            None
        }
    }

    /// The `content_type` of `POST /recipes/{id}/photo`.
    pub fn content_type(self) -> &'static str {
        match self {
            ImageType::Jpeg => "image/jpeg",
            ImageType::Png => "image/png",
            ImageType::Webp => "image/webp",
        }
    }
}

/// A photo file, read once and checked: the bytes that go out are the bytes that were checked.
#[derive(Debug, Clone)]
pub struct PhotoFile {
    pub bytes: Bytes,
    pub kind: ImageType,
}

impl PhotoFile {
    /// Reads `path`, refusing a file over [`UPLOAD_BYTES_MAX`] (by its size, before reading
    /// it), an empty one, and one that is not a JPEG, PNG or WebP by its first bytes.
    pub fn read(path: &Path) -> Result<Self, CliError> {
        let shown = path.display();
        let cannot = |e: std::io::Error| CliError::Usage(format!("cannot read {shown}: {e}"));
        let too_large = |len: u64| {
            CliError::Usage(format!(
                "{shown} is {}: a photo may be at most 20 MiB ({UPLOAD_BYTES_MAX} bytes); \
                 nothing was sent",
                size_text(len)
            ))
        };
        let file = std::fs::File::open(path).map_err(cannot)?;
        let len = file.metadata().map_err(cannot)?.len();
        if len > UPLOAD_BYTES_MAX {
            return Err(too_large(len));
        }
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        // One byte more than the cap: a file that grew since its size was read is still caught.
        file.take(UPLOAD_BYTES_MAX + 1)
            .read_to_end(&mut bytes)
            .map_err(cannot)?;
        if bytes.len() as u64 > UPLOAD_BYTES_MAX {
            return Err(too_large(bytes.len() as u64));
        }
        if bytes.is_empty() {
            return Err(CliError::Usage(format!(
                "{shown} is empty; nothing was sent"
            )));
        }
        let kind = ImageType::sniff(&bytes).ok_or_else(|| {
            CliError::Usage(format!(
                "{shown} is not a JPEG, PNG or WebP image (judged by its first bytes, not its \
                 name); nothing was sent"
            ))
        })?;
        Ok(PhotoFile {
            bytes: Bytes::from(bytes),
            kind,
        })
    }
}

/// `2.4 MiB`, `12.0 KiB`, `300 bytes`.
pub fn size_text(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    #[allow(clippy::cast_precision_loss, reason = "a size for people, one decimal")]
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Name–value pairs in the order the server wrote them (`fields`, `headers`): S3 checks the
/// form against its policy field by field, and the file must come after all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs(pub Vec<(String, String)>);

impl<'de> serde::Deserialize<'de> for Pairs {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Pairs;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Pairs, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// How the upload is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
pub enum UploadMethod {
    /// `multipart/form-data`: every field, then the file as `file` (S3's presigned POST).
    #[serde(rename = "POST")]
    Post,
    /// The raw bytes, with the headers (the standalone server's `/uploads/{token}`).
    #[serde(rename = "PUT")]
    Put,
}

/// The answer of `POST /recipes/{id}/photo`: the upload to make.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct UploadGrant {
    pub url: String,
    pub method: UploadMethod,
    #[serde(default)]
    pub fields: Pairs,
    #[serde(default)]
    pub headers: Pairs,
    pub expires_at: String,
    pub max_bytes: u64,
    /// The new photo, `pending`, as the recipe now shows it.
    pub photo: serde_json::Value,
}

/// Where a URL the API gave points. An absolute `http(s)` URL (S3) stays as it is; a path
/// (`/uploads/…`, a `Location: /files/…`) is under the API's base URL, as every path of the
/// contract is (doc/api.md, `links`), so a base with a stage (`…/prod`) keeps it. Anything else
/// (`//host/…`, another scheme, a path without `/`) is refused rather than guessed at.
pub fn resolve(base: &str, url: &str) -> Result<String, CliError> {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Ok(url.to_owned());
    }
    if url.starts_with('/') && !url.starts_with("//") {
        return Ok(format!("{}{url}", base.trim_end_matches('/')));
    }
    Err(CliError::Network(format!(
        "the server pointed to `{url}`, which is neither an http(s) URL nor a path"
    )))
}

/// The request body of an upload: the file's bytes in [`CHUNK_BYTES`] frames, each a view of
/// the one buffer (no copy per chunk), counted on `progress` as hyper takes them. Its exact
/// size is known, so the request has a `Content-Length` (S3 takes no chunked uploads).
#[derive(Debug)]
struct Chunks {
    rest: Bytes,
    progress: ProgressBar,
}

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.rest.is_empty() {
            return Poll::Ready(None);
        }
        let chunk = this.rest.split_to(CHUNK_BYTES.min(this.rest.len()));
        this.progress.inc(chunk.len() as u64);
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.rest.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.rest.len() as u64)
    }
}

/// Requests to URLs the API handed out: no token, ever (see the module's header).
#[derive(Debug, Clone)]
pub struct Transfer {
    http: reqwest::Client,
}

impl Default for Transfer {
    fn default() -> Self {
        Self::new()
    }
}

impl Transfer {
    pub fn new() -> Self {
        // Redirects may be followed here: this client holds no credential to leak.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap_or_default();
        Self { http }
    }

    /// Makes the upload `grant` describes, to `url` (the grant's, resolved), with `photo`'s
    /// bytes; every byte handed to the connection moves `progress`.
    pub async fn upload(
        &self,
        grant: &UploadGrant,
        url: &str,
        photo: &PhotoFile,
        progress: &ProgressBar,
    ) -> Result<(), CliError> {
        let body = || {
            reqwest::Body::wrap(Chunks {
                rest: photo.bytes.clone(),
                progress: progress.clone(),
            })
        };
        let request = match grant.method {
            UploadMethod::Post => {
                let mut form = reqwest::multipart::Form::new();
                for (name, value) in &grant.fields.0 {
                    form = form.text(name.clone(), value.clone());
                }
                // Last: S3 ignores every field after the file ("POST Object", Amazon S3 API
                // Reference: "make sure that the file field is the last field in the form").
                let file =
                    reqwest::multipart::Part::stream_with_length(body(), photo.bytes.len() as u64)
                        .file_name("photo")
                        .mime_str(photo.kind.content_type())
                        .map_err(|e| network(&e))?;
                self.http.post(url).multipart(form.part("file", file))
            }
            UploadMethod::Put => {
                let mut request = self.http.put(url);
                let mut typed = false;
                for (name, value) in &grant.headers.0 {
                    typed |= name.eq_ignore_ascii_case("content-type");
                    request = request.header(name.as_str(), value.as_str());
                }
                if !typed {
                    request =
                        request.header(reqwest::header::CONTENT_TYPE, photo.kind.content_type());
                }
                request.body(body())
            }
        };
        let response = request.send().await.map_err(|e| network(&e))?;
        if response.status().is_success() {
            return Ok(());
        }
        Err(refusal(response).await)
    }

    /// `GET url`, which must answer 2xx.
    pub async fn download(&self, url: &str) -> Result<reqwest::Response, CliError> {
        let response = self.http.get(url).send().await.map_err(|e| network(&e))?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(refusal(response).await)
    }
}

/// A refused request to a URL the API handed out: a problem+json from the standalone server,
/// or S3's XML `<Error><Code>…</Code><Message>…</Message></Error>`.
async fn refusal(response: reqwest::Response) -> CliError {
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let problem = serde_json::from_str::<Problem>(&body).unwrap_or_else(|_| {
        let element = |name: &str| {
            let open = format!("<{name}>");
            let start = body.find(&open)? + open.len();
            let end = start + body.get(start..)?.find(&format!("</{name}>"))?;
            body.get(start..end).map(str::to_owned)
        };
        Problem {
            title: element("Code").unwrap_or_else(|| {
                status
                    .canonical_reason()
                    .unwrap_or("request failed")
                    .to_owned()
            }),
            detail: element("Message"),
            ..Problem::default()
        }
    });
    CliError::Api {
        status: status.as_u16(),
        problem,
    }
}

/// Writes `response`'s body to `path` all or nothing: into a new file beside it, renamed over
/// `path` once complete, so a failed download never leaves half an image. The byte count.
pub async fn write_atomically(mut response: reqwest::Response, path: &Path) -> anyhow::Result<u64> {
    use anyhow::Context as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".gota-photo-")
        .tempfile_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    let mut written = 0u64;
    while let Some(chunk) = response.chunk().await.map_err(|e| network(&e))? {
        written += chunk.len() as u64;
        if written > DOWNLOAD_BYTES_MAX {
            return Err(CliError::Network(format!(
                "the image is larger than {}; nothing was written",
                size_text(DOWNLOAD_BYTES_MAX)
            ))
            .into());
        }
        temp.write_all(&chunk)
            .with_context(|| format!("writing {}", temp.path().display()))?;
    }
    temp.as_file()
        .sync_all()
        .with_context(|| format!("writing {}", temp.path().display()))?;
    temp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];

    /// A loopback server for one request: its base URL, and the request as received (head
    /// and body) once it has been answered with `answer`.
    async fn serve_once(answer: String) -> (String, tokio::task::JoinHandle<(String, Vec<u8>)>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let mut buf = [0u8; 8192];
            let head_end = loop {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "the connection closed before the request's head");
                received.extend_from_slice(&buf[..n]);
                if let Some(at) = received.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
            };
            let head = String::from_utf8(received[..head_end].to_vec()).unwrap();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse().unwrap())
                })
                .unwrap_or(0);
            while received.len() < head_end + length {
                let n = socket.read(&mut buf).await.unwrap();
                assert!(n > 0, "the connection closed before the request's body");
                received.extend_from_slice(&buf[..n]);
            }
            socket.write_all(answer.as_bytes()).await.unwrap();
            socket.shutdown().await.unwrap();
            (head, received[head_end..].to_vec())
        });
        (base, task)
    }

    fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    fn photo(bytes: &[u8]) -> PhotoFile {
        PhotoFile {
            bytes: Bytes::copy_from_slice(bytes),
            kind: ImageType::sniff(bytes).unwrap(),
        }
    }

    const NO_CONTENT: &str = "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n";

    #[test]
    fn a_file_is_typed_by_its_first_bytes_not_its_name() {
        assert_eq!(ImageType::sniff(JPEG), Some(ImageType::Jpeg));
        assert_eq!(
            ImageType::sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
            Some(ImageType::Png)
        );
        assert_eq!(
            ImageType::sniff(b"RIFF\x24\0\0\0WEBPVP8 "),
            Some(ImageType::Webp)
        );
        // A RIFF that is not WebP (a WAV), a PNG signature cut short, two of JPEG's three bytes,
        // text: refused.
        assert_eq!(ImageType::sniff(b"RIFF\x24\0\0\0WAVEfmt "), None);
        assert_eq!(ImageType::sniff(b"\x89PNG\r\n"), None);
        assert_eq!(ImageType::sniff(&[0xFF, 0xD8]), None);
        assert_eq!(ImageType::sniff(b"<html>not a photo</html>"), None);
        assert_eq!(ImageType::sniff(b""), None);
        assert_eq!(ImageType::Webp.content_type(), "image/webp");
    }

    #[test]
    fn a_file_over_20_mib_empty_or_not_an_image_is_refused_and_one_at_the_limit_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.jpg");
        let file = std::fs::File::create(&big).unwrap();
        file.set_len(UPLOAD_BYTES_MAX + 1).unwrap();
        let e = PhotoFile::read(&big).unwrap_err().to_string();
        assert!(e.contains("at most 20 MiB (20971520 bytes)"), "{e}");

        let at_limit = dir.path().join("limit.bin");
        let mut bytes = JPEG.to_vec();
        bytes.resize(usize::try_from(UPLOAD_BYTES_MAX).unwrap(), 0);
        std::fs::write(&at_limit, &bytes).unwrap();
        let read = PhotoFile::read(&at_limit).unwrap();
        assert_eq!(read.bytes.len() as u64, UPLOAD_BYTES_MAX);
        assert_eq!(read.kind, ImageType::Jpeg);

        let renamed = dir.path().join("page.jpg");
        std::fs::write(&renamed, b"<html></html>").unwrap();
        let e = PhotoFile::read(&renamed).unwrap_err();
        assert!(e.to_string().contains("not a JPEG, PNG or WebP"), "{e}");
        assert_eq!(e.exit_code(), crate::error::exit::USAGE);

        let empty = dir.path().join("empty.png");
        std::fs::write(&empty, b"").unwrap();
        assert!(
            PhotoFile::read(&empty)
                .unwrap_err()
                .to_string()
                .contains("is empty")
        );
    }

    #[test]
    fn paths_resolve_under_the_api_base_and_absolute_urls_stay_as_they_are() {
        let s3 = "https://b.s3.eu-west-1.amazonaws.com/";
        assert_eq!(resolve("http://127.0.0.1:3000", s3).unwrap(), s3);
        assert_eq!(
            resolve("http://127.0.0.1:3000/", "/uploads/t0k").unwrap(),
            "http://127.0.0.1:3000/uploads/t0k"
        );
        // A stage in the base URL stays: paths are under the base, not the host's root.
        assert_eq!(
            resolve(
                "https://x.execute-api.eu-west-1.amazonaws.com/prod",
                "/files/t"
            )
            .unwrap(),
            "https://x.execute-api.eu-west-1.amazonaws.com/prod/files/t"
        );
        assert_eq!(
            resolve("http://a", "HTTPS://b.example/x").unwrap(),
            "HTTPS://b.example/x"
        );
        for refused in ["//evil.example/x", "ftp://h/x", "files/x", ""] {
            assert!(resolve("http://a", refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn upload_fields_and_headers_keep_the_order_the_server_wrote() {
        let grant: UploadGrant = serde_json::from_str(
            r#"{"url": "/", "method": "POST", "expires_at": "x", "max_bytes": 1, "photo": {},
                "fields": {"key": "k", "Content-Type": "image/jpeg", "policy": "p",
                           "x-amz-algorithm": "a", "bucket": "b"},
                "headers": {"z": "1", "a": "2"}}"#,
        )
        .unwrap();
        let names: Vec<&str> = grant.fields.0.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["key", "Content-Type", "policy", "x-amz-algorithm", "bucket"]
        );
        assert_eq!(grant.headers.0[0], ("z".to_owned(), "1".to_owned()));
        assert_eq!(grant.method, UploadMethod::Post);
    }

    #[tokio::test]
    async fn a_post_upload_sends_every_field_in_order_then_the_file_last_and_no_token() {
        let (base, server) = serve_once(NO_CONTENT.to_owned()).await;
        let grant: UploadGrant = serde_json::from_str(&format!(
            r#"{{"url": "{base}/", "method": "POST", "expires_at": "x", "max_bytes": 99,
                "photo": {{}}, "fields": {{"key": "uploads/o/r/p", "Content-Type": "image/jpeg",
                "policy": "cG9saWN5", "x-amz-signature": "abc"}}}}"#
        ))
        .unwrap();
        let mut bytes = JPEG.to_vec();
        bytes.extend((0..200_000u32).map(|n| (n % 251) as u8));
        let photo = photo(&bytes);
        let bar = ProgressBar::hidden();
        Transfer::new()
            .upload(&grant, &grant.url, &photo, &bar)
            .await
            .unwrap();
        let (head, body) = server.await.unwrap();
        assert!(head.starts_with("POST / HTTP/1.1"), "{head}");
        assert_eq!(header(&head, "authorization"), None);
        assert!(
            header(&head, "content-type")
                .unwrap()
                .starts_with("multipart/form-data; boundary=")
        );
        assert_eq!(
            header(&head, "content-length").unwrap(),
            body.len().to_string(),
            "a length, not chunked"
        );
        let text = String::from_utf8_lossy(&body);
        let names: Vec<&str> = text
            .match_indices("form-data; name=\"")
            .map(|(at, m)| {
                let rest = &text[at + m.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect();
        assert_eq!(
            names,
            ["key", "Content-Type", "policy", "x-amz-signature", "file"]
        );
        let file_at = body
            .windows(bytes.len())
            .position(|w| w == bytes.as_slice())
            .expect("the file's bytes, whole");
        assert!(file_at > text.find("name=\"file\"").unwrap());
        assert_eq!(bar.position(), bytes.len() as u64);
    }

    #[tokio::test]
    async fn a_put_upload_sends_the_raw_bytes_with_the_headers_under_the_api_base_and_no_token() {
        let (base, server) = serve_once(NO_CONTENT.to_owned()).await;
        let grant: UploadGrant = serde_json::from_str(
            r#"{"url": "/uploads/t0k", "method": "PUT", "expires_at": "x", "max_bytes": 99,
                "photo": {}, "headers": {"Content-Type": "image/png"}, "fields": {}}"#,
        )
        .unwrap();
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend(std::iter::repeat_n(7u8, 150_000));
        let photo = photo(&bytes);
        let bar = ProgressBar::hidden();
        let url = resolve(&base, &grant.url).unwrap();
        Transfer::new()
            .upload(&grant, &url, &photo, &bar)
            .await
            .unwrap();
        let (head, body) = server.await.unwrap();
        assert!(head.starts_with("PUT /uploads/t0k HTTP/1.1"), "{head}");
        assert_eq!(header(&head, "authorization"), None);
        assert_eq!(header(&head, "content-type"), Some("image/png"));
        assert_eq!(header(&head, "content-length"), Some("150008"));
        assert_eq!(body, bytes);
        assert_eq!(bar.position(), 150_008);
    }

    #[tokio::test]
    async fn a_refused_upload_reads_s3s_error_code_and_message() {
        let xml = "<?xml version=\"1.0\"?><Error><Code>EntityTooLarge</Code><Message>Your \
                   proposed upload exceeds the maximum allowed size</Message></Error>";
        let (base, _server) = serve_once(format!(
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{xml}",
            xml.len()
        ))
        .await;
        let grant: UploadGrant = serde_json::from_str(&format!(
            r#"{{"url": "{base}/", "method": "POST", "expires_at": "x", "max_bytes": 1,
                "photo": {{}}}}"#
        ))
        .unwrap();
        let e = Transfer::new()
            .upload(&grant, &grant.url, &photo(JPEG), &ProgressBar::hidden())
            .await
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "EntityTooLarge (400): Your proposed upload exceeds the maximum allowed size"
        );
    }

    #[tokio::test]
    async fn the_photo_redirect_is_read_not_followed_and_the_image_is_fetched_without_the_token() {
        // The image host: it must see exactly one request, without the token.
        let (image_base, image_host) = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 4\r\nconnection: close\r\n\r\nJPEG"
                .to_owned(),
        )
        .await;
        let (api_base, api) = serve_once(format!(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: {image_base}/img?X-Amz-Signature=s\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        ))
        .await;
        let location = crate::client::Api::new(&api_base, Some("secret-token".into()))
            .photo_location("r1", gota_domain::photo::PhotoSize::Thumb)
            .await
            .unwrap();
        assert_eq!(location, format!("{image_base}/img?X-Amz-Signature=s"));
        let (api_head, _) = api.await.unwrap();
        assert!(
            api_head.starts_with("GET /recipes/r1/photo/thumb HTTP/1.1"),
            "{api_head}"
        );
        assert_eq!(
            header(&api_head, "authorization"),
            Some("Bearer secret-token")
        );

        let image = Transfer::new().download(&location).await.unwrap();
        assert_eq!(image.bytes().await.unwrap().as_ref(), b"JPEG");
        let (image_head, _) = image_host.await.unwrap();
        assert!(
            image_head.starts_with("GET /img?X-Amz-Signature=s"),
            "{image_head}"
        );
        assert_eq!(header(&image_head, "authorization"), None);
    }

    #[tokio::test]
    async fn a_relative_location_is_under_the_api_base() {
        let (api_base, _api) = serve_once(
            "HTTP/1.1 307 Temporary Redirect\r\nlocation: /files/t0k\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_owned(),
        )
        .await;
        let location = crate::client::Api::new(&api_base, Some("t".into()))
            .photo_location("r1", gota_domain::photo::PhotoSize::Original)
            .await
            .unwrap();
        assert_eq!(location, format!("{api_base}/files/t0k"));
    }

    #[tokio::test]
    async fn a_download_cut_short_leaves_no_file_behind() {
        // Promises 1000 bytes, sends 10, closes.
        let (base, _server) = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-type: image/jpeg\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n0123456789"
                .to_owned(),
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("thumb.jpg");
        let response = Transfer::new()
            .download(&format!("{base}/x"))
            .await
            .unwrap();
        assert!(write_atomically(response, &target).await.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        let (base, _server) = serve_once(
            "HTTP/1.1 200 OK\r\ncontent-length: 10\r\nconnection: close\r\n\r\n0123456789"
                .to_owned(),
        )
        .await;
        let response = Transfer::new()
            .download(&format!("{base}/x"))
            .await
            .unwrap();
        assert_eq!(write_atomically(response, &target).await.unwrap(), 10);
        assert_eq!(std::fs::read(&target).unwrap(), b"0123456789");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
