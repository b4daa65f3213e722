//! A 12-megapixel (4000 × 3000) camera-like JPEG through `process`: decode, orientation,
//! metadata-free original, 960 px and 320 px renditions. Peak memory is measured by
//! `examples/process_one.rs` (a process of its own); the figures are in ADR 0032.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use gota_media::{Limits, inspect, process};

fn twelve_megapixels(c: &mut Criterion) {
    let jpeg = common::jpeg(&common::photo(4000, 3000));
    let limits = Limits::default();
    let mut group = c.benchmark_group("12 MP JPEG");
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
