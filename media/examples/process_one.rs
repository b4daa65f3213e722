//! One photo through `gota_media::process`, in a process of its own, to measure what the
//! worker Lambda needs: wall time per phase-free call and the peak resident memory (VmHWM).
//!
//! `cargo run --release -p gota-media --example process_one [-- WIDTH HEIGHT | -- FILE]`
//! (default: a generated 4000 × 3000 JPEG, 12 megapixels). The input is made first, then the
//! peak is reset (`/proc/self/clear_refs`), so the figure is `process` alone plus the input.
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use gota_media::{Limits, process};

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let input = match args.as_slice() {
        [file] => std::fs::read(file).expect("readable input file"),
        [width, height] => common::jpeg(&common::photo(
            width.parse().expect("width"),
            height.parse().expect("height"),
        )),
        _ => common::jpeg(&common::photo(4000, 3000)),
    };
    // Resets VmHWM to the current RSS (Linux ≥ 4.0, proc(5)); if it fails the peak includes
    // making the input, which only overstates it.
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let before = status_kib("VmRSS:").unwrap_or(0);

    let started = Instant::now();
    // The generated noise is harsher than a camera's, so a generated 48 MP JPEG is over the
    // byte cap that a real one (8–15 MB) is under: measure pixels, not the cap.
    let limits = Limits {
        max_bytes: usize::MAX,
        ..Limits::default()
    };
    let processed = process(&input, &limits).expect("the photo is accepted");
    let elapsed = started.elapsed();
    let peak = status_kib("VmHWM:").unwrap_or(0);

    let info = processed.source;
    println!(
        "input: {:?} {} × {} px, {} bytes",
        info.image_type,
        info.width,
        info.height,
        input.len()
    );
    for rendition in processed.renditions() {
        println!(
            "{:>8}: {} × {} px, {} bytes",
            rendition.size.as_str(),
            rendition.width,
            rendition.height,
            rendition.bytes.len()
        );
    }
    println!("process: {:.0} ms", elapsed.as_secs_f64() * 1000.0);
    println!(
        "memory: RSS before {} MiB, peak {} MiB (peak reset: {reset})",
        before / 1024,
        peak / 1024
    );
}
