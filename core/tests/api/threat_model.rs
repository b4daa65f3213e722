//! `doc/threat-model.md` maps each threat to the tests that show its control works. Every test
//! it cites must exist, so that a renamed, moved or deleted test breaks the build instead of
//! leaving the threat model pointing at nothing.
//!
//! Citations are code spans: `` `path/to/file.rs::test_name` `` (a `#[test]`-style function in
//! that file) and `` `infra/test/x.test.ts: "it title"` `` (a test title in that file).

use std::path::{Path, PathBuf};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ has a parent")
        .to_path_buf()
}

/// A test the document names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Citation {
    Rust { file: String, function: String },
    Infra { file: String, title: String },
}

/// The code spans of `markdown` outside fenced blocks (the mermaid diagram).
fn code_spans(markdown: &str) -> Vec<String> {
    let mut fenced = false;
    let mut prose = String::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            prose.push_str(line);
            prose.push('\n');
        }
    }
    prose
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// Every citation in `markdown`; a span that looks like one but is malformed is an `Err`.
fn citations(markdown: &str) -> Vec<Result<Citation, String>> {
    code_spans(markdown)
        .into_iter()
        .filter_map(|span| {
            if let Some((file, function)) = span.split_once(".rs::") {
                let well_formed = !file.is_empty()
                    && !function.is_empty()
                    && function
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
                Some(if well_formed {
                    Ok(Citation::Rust {
                        file: format!("{file}.rs"),
                        function: function.to_owned(),
                    })
                } else {
                    Err(format!("malformed Rust test citation `{span}`"))
                })
            } else if span.starts_with("infra/test/") && span.contains(".test.ts:") {
                let parsed = span.split_once(".test.ts: \"").and_then(|(file, rest)| {
                    let title = rest.strip_suffix('"')?;
                    (!title.is_empty()).then(|| Citation::Infra {
                        file: format!("{file}.test.ts"),
                        title: title.to_owned(),
                    })
                });
                Some(parsed.ok_or_else(|| format!("malformed infra test citation `{span}`")))
            } else {
                None
            }
        })
        .collect()
}

/// Whether `source` defines `function` as a test: `fn function(` directly under attributes one
/// of which names `test` (`#[test]`, `#[tokio::test(...)]`).
fn defines_test(source: &str, function: &str) -> bool {
    let lines: Vec<&str> = source.lines().collect();
    let signature = format!("fn {function}(");
    lines.iter().enumerate().any(|(at, line)| {
        line.contains(&signature)
            && lines[..at]
                .iter()
                .rev()
                .map(|l| l.trim())
                .take_while(|l| l.starts_with("#["))
                .any(|attribute| attribute.contains("test"))
    })
}

/// Whether `source` has `title` as a whole string literal (any of JavaScript's three quotes).
fn has_title(source: &str, title: &str) -> bool {
    ['\'', '"', '`']
        .iter()
        .any(|q| source.contains(&format!("{q}{title}{q}")))
}

/// What is wrong with the citations of `markdown`, read against the tree at `root`.
fn broken_citations(markdown: &str, root: &Path) -> Vec<String> {
    let read = |file: &str| std::fs::read_to_string(root.join(file)).ok();
    citations(markdown)
        .into_iter()
        .filter_map(|citation| match citation {
            Err(malformed) => Some(malformed),
            Ok(Citation::Rust { file, function }) => match read(&file) {
                None => Some(format!("`{file}::{function}`: no file {file}")),
                Some(source) => (!defines_test(&source, &function))
                    .then(|| format!("`{file}::{function}`: no test fn {function} in {file}")),
            },
            Ok(Citation::Infra { file, title }) => match read(&file) {
                None => Some(format!("`{file}: \"{title}\"`: no file {file}")),
                Some(source) => (!has_title(&source, &title))
                    .then(|| format!("`{file}: \"{title}\"`: no test titled so in {file}")),
            },
        })
        .collect()
}

#[test]
fn every_test_the_threat_model_cites_exists_where_it_says() {
    let root = repo_root();
    let document = std::fs::read_to_string(root.join("doc/threat-model.md"))
        .expect("doc/threat-model.md exists");
    let cited = citations(&document);
    let rust = cited
        .iter()
        .filter(|c| matches!(c, Ok(Citation::Rust { .. })))
        .count();
    let infra = cited
        .iter()
        .filter(|c| matches!(c, Ok(Citation::Infra { .. })))
        .count();
    // A document that lost its citations (a bad edit, a changed citation form) must not pass.
    assert!(
        rust >= 50 && infra >= 20,
        "only {rust} Rust and {infra} infra citations were found"
    );
    let broken = broken_citations(&document, &root);
    assert!(
        broken.is_empty(),
        "doc/threat-model.md cites tests that do not exist:\n{}",
        broken.join("\n")
    );
}

#[test]
fn a_misspelled_moved_or_malformed_citation_is_reported() {
    let root = repo_root();
    let real =
        "`core/tests/api/threat_model.rs::a_misspelled_moved_or_malformed_citation_is_reported`";
    assert!(broken_citations(real, &root).is_empty());

    let cases = [
        // A misspelled test name.
        "`core/tests/api/threat_model.rs::a_mispelled_moved_or_malformed_citation_is_reported`",
        // The right name in the wrong file.
        "`core/tests/api/errors.rs::a_misspelled_moved_or_malformed_citation_is_reported`",
        // A file that does not exist.
        "`core/tests/api/nowhere.rs::a_misspelled_moved_or_malformed_citation_is_reported`",
        // A function that exists but is not a test.
        "`core/tests/api/threat_model.rs::broken_citations`",
        // Not a Rust identifier.
        "`core/tests/api/threat_model.rs::Broken-Name`",
        // An infra title that is not there, a misspelled one, and a file that is not there.
        "`infra/test/stack.test.ts: \"grants everything to everyone\"`",
        "`infra/test/stack.test.ts: \"names no resource: CloudFormation generates every phyiscal name\"`",
        "`infra/test/nowhere.test.ts: \"names no resource: CloudFormation generates every physical name\"`",
        // An infra citation without a quoted title.
        "`infra/test/stack.test.ts: names no resource`",
    ];
    for case in cases {
        assert_eq!(
            broken_citations(case, &root).len(),
            1,
            "not reported: {case}"
        );
    }
    let infra = "`infra/test/stack.test.ts: \"names no resource: CloudFormation generates every physical name\"`";
    assert!(broken_citations(infra, &root).is_empty());
    // Spans inside a fenced block are diagram text, not citations.
    let fenced = "```mermaid\n`core/tests/api/nowhere.rs::x`\n```\n";
    assert!(citations(fenced).is_empty());
}
