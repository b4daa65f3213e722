//! `gota … | head`: a reader that stops early ends the command quietly, as in `gota-api`.
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

#[test]
fn a_closed_pipe_ends_the_output_quietly_with_exit_0() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["completions", "bash"][..], &["--help"], &["--version"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        // The reader is gone before the first write, as after `| head -c 0`.
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_gota"))
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path())
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(
            (output.status.code(), stderr.as_ref()),
            (Some(0), ""),
            "{args:?}"
        );
    }
}

#[test]
fn version_prints_the_name_and_the_workspace_version() {
    let output = Command::new(env!("CARGO_BIN_EXE_gota"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        format!("gota {}\n", env!("CARGO_PKG_VERSION"))
    );
}
