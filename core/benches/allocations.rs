//! Heap allocations per request: the in-process request cases of `inprocess` (a REST v1 event
//! through lambda_http's adapter, the real router and the embedded store in memory, to the
//! serialized response), each next to the constant-JSON baseline doing the same runtime work.
//! The difference is what Gota's own code allocates. Counted by a wrapping global allocator in
//! this bench executable only. `cargo bench -p gota-core --bench allocations`.

// Bench code, held to the same rules as tests (clippy.toml): a failed set-up should panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::cast_precision_loss
)]

use std::alloc::System;

use gota_core::auth::RsaSigner;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::runtime::Runtime;

mod support;
use support::{baseline_app, gota_app, invoke, owner_token, request_cases};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Calls per case; every call is counted, and the table shows the mean.
const ROUNDS: usize = 200;

/// Allocations (new blocks and reallocations) and bytes requested per call of `work`.
fn per_call(rt: &Runtime, mut work: impl AsyncFnMut()) -> (f64, f64) {
    rt.block_on(work());
    let region = Region::new(GLOBAL);
    for _ in 0..ROUNDS {
        rt.block_on(work());
    }
    let change = region.change();
    let calls = ROUNDS as f64;
    (
        (change.allocations + change.reallocations) as f64 / calls,
        change.bytes_allocated as f64 / calls,
    )
}

fn main() {
    // The runtime `inprocess` measures with; counting is process-wide, so the blocking pool's
    // share of a list is in the figures.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = RsaSigner::generate("bench-kid").unwrap();
    let mut gota = gota_app(&signer);
    let mut baseline = baseline_app();
    let cases = request_cases(&rt, &mut gota, &owner_token(&signer));
    println!(
        "\n{:<28} {:>10} {:>10} {:>10} {:>12}",
        "allocations per request", "gota", "baseline", "gota own", "gota bytes"
    );
    for case in &cases {
        case.check(&rt, &mut gota, &mut baseline);
        let (ours, bytes) = per_call(&rt, async || {
            invoke(&mut gota, &case.event).await;
        });
        let (base, _) = per_call(&rt, async || {
            invoke(&mut baseline, &case.event).await;
        });
        println!(
            "{:<28} {:>10.1} {:>10.1} {:>10.1} {:>12.0}",
            format!("request/{}", case.name),
            ours,
            base,
            ours - base,
            bytes
        );
    }
}
