//! A 12-megapixel (4000 × 3000) camera-like JPEG through `process`: decode, orientation,
//! metadata-free original, 960 px and 320 px renditions. Peak memory is measured by
//! `examples/process_one.rs` (a process of its own); the figures are in ADR 0032.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use gota_media::{Limits, inspect, process};

fn twelve_megapixels(c: &mut Criterion) {
    // `cargo test --all-targets` (make test) runs each benchmark once, in a debug build, without
    // `--bench`: a small picture there keeps it a smoke test of seconds, not tens of them.
    let measuring = std::env::args().any(|arg| arg == "--bench");
    let (width, height) = if measuring { (4000, 3000) } else { (400, 300) };
    let jpeg = common::jpeg(&common::photo(width, height));
    let limits = Limits::default();
    let mut group = c.benchmark_group(format!("{width} × {height} JPEG"));
    group.sample_size(10);
    group.bench_function("process (all renditions)", |b| {
        b.iter(|| process(&jpeg, &limits).unwrap());
    });
    group.bench_function("inspect (header only)", |b| {
        b.iter(|| inspect(&jpeg).unwrap());
    });
    group.finish();
}

criterion_group!(benches, twelve_megapixels);
criterion_main!(benches);
