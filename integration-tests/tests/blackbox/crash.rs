//! Crash safety of the embedded store: `gota-bench crash` SIGKILLs the real `gota-api` in the
//! middle of a concurrent POST/PUT load, restarts it on the same data folder and checks that
//! every write answered 2xx is there as acknowledged, nothing is half-written, and idempotent
//! replays agree (the checks are listed in `bench/src/crash.rs`, their one home; `make bench`
//! runs the same thing for longer against the release build).

use std::process::{Command, Stdio};
use std::time::Duration;

use gota_testkit::{Process, gota_api_bin};

#[test]
fn every_write_acknowledged_before_a_kill_9_is_there_after_the_restart() {
    // gota-bench is built beside gota-api (`cargo test --workspace` builds every binary;
    // for a narrow run: `cargo build -p gota-core -p gota-bench --bins`).
    let api = gota_api_bin();
    let bench = api.with_file_name("gota-bench");
    assert!(
        bench.exists(),
        "{} is missing: `cargo build -p gota-bench`",
        bench.display()
    );
    let mut run = Process::spawn(
        Command::new(&bench)
            .args(["crash", "--seconds", "2", "--rounds", "2", "--writers", "8"])
            .arg("--api")
            .arg(&api)
            .stdin(Stdio::null()),
    );
    let status = run.wait_for_exit(Duration::from_secs(120));
    assert!(
        status.success(),
        "the crash run found a lost or half-written write ({status}; its report is above)"
    );
}
