//! The tree stays readable: no two modules of a crate import each other, directly or around a
//! loop. A module may use its ancestors (`super::State`) and its own children; between any
//! other modules, dependencies go one way. Test modules (`#[cfg(test)] mod tests`, at the end
//! of a file by convention) are not counted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

type Module = Vec<String>;

/// Every `.rs` file under `src` as its module path (`http/recipes/mod.rs` → `http::recipes`).
fn modules(src: &Path) -> BTreeMap<Module, PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(src, &mut files);
    files
        .into_iter()
        .filter(|path| !path.starts_with(src.join("bin")))
        .map(|path| {
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = relative
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            (module, path)
        })
        .collect()
}

/// The code of a file without its trailing test module and without comments (a doc link to
/// another module is not an import).
fn code_of(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap();
    let code = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => &text,
    };
    code.lines()
        .map(|line| line.find("//").map_or(line, |at| &line[..at]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Paths that start at `crate`, `super` or `self`, with `{a, b::c}` groups expanded.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = code.as_bytes();
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let begin = from + at;
            from = begin + start.len();
            let preceded_by_ident = begin > 0
                && (bytes[begin - 1].is_ascii_alphanumeric()
                    || bytes[begin - 1] == b'_'
                    || bytes[begin - 1] == b':');
            if preceded_by_ident {
                continue;
            }
            let rest = &code[begin..];
            let end = path_end(rest);
            expand(&rest[..end], &mut found);
        }
    }
    found
}

/// Where the path at the start of `text` ends (a group `{…}` is part of it).
fn path_end(text: &str) -> usize {
    let mut depth = 0usize;
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            c if depth == 0 && !(c.is_alphanumeric() || c == '_' || c == ':') => return i,
            _ => {}
        }
    }
    text.len()
}

fn expand(path: &str, out: &mut Vec<Vec<String>>) {
    let Some(open) = path.find('{') else {
        out.push(
            path.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        );
        return;
    };
    let prefix = &path[..open];
    let inner = &path[open + 1..path.len().saturating_sub(1)];
    let mut depth = 0;
    let mut part = String::new();
    let mut parts = Vec::new();
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut part));
                continue;
            }
            _ => {}
        }
        part.push(c);
    }
    parts.push(part);
    for part in parts {
        let part: String = part.chars().filter(|c| !c.is_whitespace()).collect();
        if part.is_empty() {
            continue;
        }
        let part = if part == "self" { String::new() } else { part };
        expand(&format!("{prefix}{part}"), out);
    }
}

/// The module a path names, as the longest module prefix; `from` resolves `super` and `self`.
fn target(path: &[String], from: &Module, known: &BTreeMap<Module, PathBuf>) -> Option<Module> {
    let mut absolute: Module = Vec::new();
    let mut rest = path;
    match path.first().map(String::as_str) {
        Some("crate") => rest = &path[1..],
        Some("self" | "super") => {
            absolute = from.clone();
            while let Some(step) = rest.first() {
                match step.as_str() {
                    "self" => {}
                    "super" => {
                        absolute.pop()?;
                    }
                    _ => break,
                }
                rest = &rest[1..];
            }
        }
        _ => return None,
    }
    absolute.extend(rest.iter().cloned());
    (0..=absolute.len())
        .rev()
        .map(|n| absolute[..n].to_vec())
        .find(|candidate| known.contains_key(candidate))
}

fn related(a: &Module, b: &Module) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

/// One import loop among `edges`, if there is one, as the modules around it.
fn a_cycle(edges: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<Module>> {
    fn visit(
        node: &Module,
        edges: &BTreeMap<Module, BTreeSet<Module>>,
        done: &mut BTreeSet<Module>,
        stack: &mut Vec<Module>,
    ) -> Option<Vec<Module>> {
        if let Some(at) = stack.iter().position(|m| m == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, done, stack) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut done, &mut Vec::new()))
}

fn import_graph(src: &Path) -> BTreeMap<Module, BTreeSet<Module>> {
    let known = modules(src);
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, path) in &known {
        for reference in paths_in(&code_of(path)) {
            if let Some(to) = target(&reference, module, &known)
                && !related(module, &to)
            {
                edges.entry(module.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn no_two_modules_of_any_crate_import_each_other() {
    let root = workspace_root();
    let mut checked = 0;
    for entry in fs::read_dir(&root).unwrap() {
        let src = entry.unwrap().path().join("src");
        if !src.join("lib.rs").exists() && !src.join("main.rs").exists() {
            continue;
        }
        let graph = import_graph(&src);
        checked += 1;
        if let Some(cycle) = a_cycle(&graph) {
            let names: Vec<String> = cycle.iter().map(|m| m.join("::")).collect();
            panic!(
                "{}: modules import each other: {}",
                src.display(),
                names.join(" → ")
            );
        }
    }
    assert!(
        checked >= 4,
        "found only {checked} crates under {}",
        root.display()
    );
}

#[test]
fn the_check_finds_a_loop_between_two_sibling_modules() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    fs::create_dir(src.join("http")).unwrap();
    fs::write(src.join("lib.rs"), "pub mod http;\n").unwrap();
    fs::write(
        src.join("http/mod.rs"),
        "pub mod error;\npub mod extract;\npub struct State;\n",
    )
    .unwrap();
    fs::write(
        src.join("http/error.rs"),
        "use super::State;\n/// Not [`super::extract::LIMIT`] itself.\nconst L: usize = super::extract::LIMIT;\n",
    )
    .unwrap();
    fs::write(
        src.join("http/extract.rs"),
        "use crate::http::{error::ApiError, State};\npub const LIMIT: usize = 1;\n#[cfg(test)]\nmod tests {\n    use crate::http::extract;\n}\n",
    )
    .unwrap();
    let cycle = a_cycle(&import_graph(src)).expect("a cycle");
    let names: BTreeSet<String> = cycle.iter().map(|m| m.join("::")).collect();
    assert_eq!(
        names,
        BTreeSet::from(["http::error".to_owned(), "http::extract".to_owned()])
    );

    // One direction only is fine, and so is every use of the parent; a doc link is no import.
    fs::write(
        src.join("http/error.rs"),
        "use super::State;\n/// Unlike [`super::extract::LIMIT`].\n",
    )
    .unwrap();
    assert_eq!(a_cycle(&import_graph(src)), None);
}
