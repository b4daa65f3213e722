//! `gota recipes import URL|FILE`: what to send to `POST /recipes/import`, and the server's
//! import report in words.

use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;

use crate::error::CliError;

/// The body of one import request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportBody {
    /// `{"url": …}`: the server fetches the page.
    Url(String),
    /// A page or document read here, with the media type to send it as.
    Document {
        media_type: &'static str,
        bytes: Vec<u8>,
    },
}

const HTML: &str = "text/html";
const JSON_LD: &str = "application/ld+json";

impl ImportBody {
    /// `source` is a URL when it starts with `http://` or `https://` (any case), else a file
    /// (`-` for stdin). A file's type comes from its extension (`.html`/`.htm`,
    /// `.json`/`.jsonld`), else from its first non-blank byte (`<` HTML, `{` or `[` JSON-LD).
    pub fn from_source(source: &str) -> Result<Self, CliError> {
        let lower = source.to_ascii_lowercase();
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Self::Url(source.to_owned()));
        }
        let path = Path::new(source);
        let bytes = if source == "-" {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)
                .map_err(|e| CliError::Usage(format!("cannot read the page from stdin: {e}")))?;
            bytes
        } else {
            std::fs::read(path)
                .map_err(|e| CliError::Usage(format!("cannot read {source}: {e}")))?
        };
        let by_extension = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .and_then(|e| match e.as_str() {
                "html" | "htm" => Some(HTML),
                "json" | "jsonld" => Some(JSON_LD),
                _ => None,
            });
        let by_content = || match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'<') => Some(HTML),
            Some(b'{' | b'[') => Some(JSON_LD),
            _ => None,
        };
        let media_type = by_extension.or_else(by_content).ok_or_else(|| {
            CliError::Usage(format!(
                "{source} is neither HTML nor JSON-LD (name it .html, .htm, .json or .jsonld)"
            ))
        })?;
        Ok(Self::Document { media_type, bytes })
    }
}

/// `error` as the answer to an import sent under `key`, naming the key when the import may
/// have happened all the same: the answer was lost (a network error), or the server failed
/// after it may have stored the recipe (a 500, or a 503 when the request outran its deadline).
/// A 502 or 504 is the page's server failing before anything was stored, and a 4xx stores
/// nothing: a new run is as good as a retry.
pub fn failed_under_key(error: CliError, key: &str) -> CliError {
    let hint = format!(
        "the import may have happened: retry with --idempotency-key {key} to get its answer \
         instead of a second recipe"
    );
    match error {
        CliError::Network(text) => CliError::Network(format!("{text}\n({hint})")),
        CliError::Api {
            status: status @ (500 | 503),
            mut problem,
        } => {
            problem.detail = Some(match problem.detail.filter(|d| !d.is_empty()) {
                Some(detail) => format!("{detail} ({hint})"),
                None => hint,
            });
            CliError::Api { status, problem }
        }
        other => other,
    }
}

/// One thing the import guessed or left out, as the server reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Finding {
    pub field: Option<String>,
    pub from: String,
    pub note: String,
}

/// The `import` member of the server's answer.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportReport {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub guessed: Vec<Finding>,
    #[serde(default)]
    pub dropped: Vec<Finding>,
}

/// The report in words, for a person reading the card above it.
pub fn report_text(report: &ImportReport) -> String {
    let mut out = String::new();
    if let Some(url) = &report.url {
        let _ = writeln!(out, "Imported from {url}");
    }
    if report.guessed.is_empty() && report.dropped.is_empty() {
        let _ = writeln!(out, "Everything in the page was read as written.");
        return out;
    }
    if !report.guessed.is_empty() {
        let _ = writeln!(out, "Guessed — check these:");
        for f in &report.guessed {
            let at = f
                .field
                .as_deref()
                .map(|p| format!(" → {p}"))
                .unwrap_or_default();
            let _ = writeln!(out, "  - {}{at}: {}", f.from, f.note);
        }
    }
    if !report.dropped.is_empty() {
        let _ = writeln!(out, "Left out:");
        for f in &report.dropped {
            let _ = writeln!(out, "  - {}: {}", f.from, f.note);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, text: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        (dir, path.to_str().unwrap().to_owned())
    }

    fn media_type(body: ImportBody) -> &'static str {
        match body {
            ImportBody::Document { media_type, .. } => media_type,
            ImportBody::Url(url) => panic!("read as a URL: {url}"),
        }
    }

    #[test]
    fn http_and_https_sources_are_urls_and_anything_else_a_file() {
        for url in ["https://example.com/r", "HTTP://example.com/r"] {
            assert_eq!(
                ImportBody::from_source(url).unwrap(),
                ImportBody::Url(url.into())
            );
        }
        let missing = ImportBody::from_source("ftp://example.com/r");
        assert!(matches!(missing, Err(CliError::Usage(_))), "{missing:?}");
    }

    #[test]
    fn a_files_type_comes_from_its_extension_then_its_first_byte() {
        let cases = [
            ("r.html", "{}", HTML),
            ("r.HTM", "{}", HTML),
            ("r.json", "<p>", JSON_LD),
            ("r.jsonld", "<p>", JSON_LD),
            ("page", "\n  <!doctype html>", HTML),
            ("doc.txt", " {\"@type\": \"Recipe\"}", JSON_LD),
            ("list", "[{}]", JSON_LD),
        ];
        for (name, text, expected) in cases {
            let (_dir, path) = file(name, text);
            assert_eq!(
                media_type(ImportBody::from_source(&path).unwrap()),
                expected,
                "{name}"
            );
        }
        let (_dir, path) = file("notes.txt", "just words");
        assert!(matches!(
            ImportBody::from_source(&path),
            Err(CliError::Usage(_))
        ));
    }

    #[test]
    fn a_failure_after_which_the_recipe_may_exist_names_the_key_to_retry_with() {
        let api = |status| CliError::Api {
            status,
            problem: crate::error::Problem {
                title: "Service Unavailable".into(),
                detail: Some("Try again.".into()),
                errors: Vec::new(),
            },
        };
        for error in [CliError::Network("timed out".into()), api(500), api(503)] {
            let code = error.exit_code();
            let error = failed_under_key(error, "k-1");
            assert!(
                error.to_string().contains("--idempotency-key k-1"),
                "{error}"
            );
            assert_eq!(error.exit_code(), code, "{error}");
        }
        for error in [api(422), api(502), api(504), api(409)] {
            let error = failed_under_key(error, "k-1");
            assert!(!error.to_string().contains("k-1"), "{error}");
        }
    }

    #[test]
    fn the_report_names_the_page_and_each_finding() {
        let report: ImportReport = serde_json::from_value(serde_json::json!({
            "url": "https://example.com/r",
            "guessed": [{"field": "/servings", "from": "recipeYield", "note": "read from \"1 loaf\""}],
            "dropped": [{"field": null, "from": "video", "note": "no Gota field holds it"}],
        }))
        .unwrap();
        assert_eq!(
            report_text(&report),
            "Imported from https://example.com/r\nGuessed — check these:\n  - recipeYield → \
             /servings: read from \"1 loaf\"\nLeft out:\n  - video: no Gota field holds it\n"
        );
    }
}
