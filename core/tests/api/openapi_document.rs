//! `doc/openapi.json` is the committed contract that releases compare (`make api-check`): it must
//! be exactly what the binary prints, so a change to the code shows up as a change to the file.

use std::process::Command;

/// What `gota-api openapi` prints, run as `make openapi` runs it (no inherited configuration).
fn printed_by_the_binary() -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_gota-api"))
        .arg("openapi")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "gota-api openapi failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn the_committed_openapi_document_is_what_the_binary_prints() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../doc/openapi.json");
    let committed = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}; run `make openapi` to generate it"));
    let printed = printed_by_the_binary();
    if committed != printed {
        let line = committed
            .lines()
            .zip(printed.lines())
            .position(|(a, b)| a != b)
            .map_or_else(
                || committed.lines().count().min(printed.lines().count()) + 1,
                |i| i + 1,
            );
        panic!(
            "doc/openapi.json differs from `gota-api openapi` (first difference at line {line}); \
             run `make openapi` and commit the result (a release compares it with the last \
             release's: see doc/releasing.md)"
        );
    }
}

#[test]
fn the_printed_document_is_stable_between_runs() {
    assert_eq!(printed_by_the_binary(), printed_by_the_binary());
}
