//! In-process benchmarks: an API Gateway REST v1 event, as the Lambda runtime hands it over
//! (JSON bytes), through lambda_http's adapter, the real router and middleware and the embedded
//! store on redb's in-memory backend, to the serialized Lambda response. Token verification is
//! measured cold (JWKS parsed first) and warm (key cached).
//!
//! Every case runs next to a baseline measured in the same run — the same lambda_http + axum
//! path answering constant JSON, or jsonwebtoken's own `decode` with a ready key — and the run
//! ends with a table of medians and ratios, so the cost of Gota's own code is visible whatever
//! the machine's speed. `cargo bench -p gota-core --bench inprocess [-- FILTER]`.
//!
//! `growth`: how reads grow with the data — one owner holding 100, 1,000 and 10,000 recipes;
//! get, the first page unfiltered and filtered; a table of medians and the 10k / 100 factor.
//! Allocations per request are counted by the `allocations` bench (its own executable, so the
//! counting allocator never runs under these timings).

// Bench code, held to the same rules as tests (clippy.toml): a failed set-up should panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use gota_core::auth::{JwksSource, RsaSigner, TokenVerifier, VerifierConfig};
use gota_domain::{FromStore, Owner, Recipe, RecipeContent, RecipeId, RecipeInput, now_utc};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

mod support;
use support::{
    CLIENT_ID, ISSUER, OWNER, baseline_app, create, gota_app, invoke, owner_token, recipe,
    request_cases, rest_v1_event, unix_now,
};

fn bench_requests(c: &mut Criterion, rt: &Runtime, signer: &RsaSigner) {
    let mut gota = gota_app(signer);
    let mut baseline = baseline_app();
    let cases = request_cases(rt, &mut gota, &owner_token(signer));

    let mut group = c.benchmark_group("request");
    configure(&mut group);
    for case in &cases {
        case.check(rt, &mut gota, &mut baseline);
        group.bench_function(format!("{}/gota", case.name), |b| {
            b.iter(|| black_box(rt.block_on(invoke(&mut gota, black_box(&case.event)))));
        });
        group.bench_function(format!("{}/baseline", case.name), |b| {
            b.iter(|| black_box(rt.block_on(invoke(&mut baseline, black_box(&case.event)))));
        });
    }
    group.finish();
}

/// The sizes of [`bench_growth`]: recipes one owner holds.
const GROWTH_SIZES: [usize; 3] = [100, 1_000, 10_000];
/// Recipes matching the rare filters: the owner's oldest, so a newest-first page that wants
/// them reads every recipe the owner has (the worst case of a filter).
const RARE: usize = 20;

/// The `i`-th of an owner's recipes in [`bench_growth`]: every 4th is tagged `weekend` (a
/// common filter), the first [`RARE`] are risottos with saffron tagged `festive`.
fn growth_recipe(i: usize) -> Value {
    let rare = i < RARE;
    let mut body = recipe(&if rare {
        format!("Saffron risotto {i}")
    } else {
        format!("Pizza {i}")
    });
    let tags = body["tags"].as_array_mut().unwrap();
    if i.is_multiple_of(4) {
        tags.push(json!("weekend"));
    }
    if rare {
        tags.push(json!("festive"));
        body["ingredients"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "saffron", "quantity": {"amount": 1, "unit": "g"}}));
    }
    body
}

/// How reads grow with the data: one owner holding 100, 1,000 and 10,000 recipes. The first
/// page (20) unfiltered and filtered (a common tag; a rare tag, ingredient and search words
/// whose matches are the oldest recipes), searches through the index, and a get.
fn bench_growth(c: &mut Criterion, rt: &Runtime, signer: &RsaSigner) {
    let mut group = c.benchmark_group("growth");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1));
    // `cargo test` runs every bench once to check it (criterion's test mode, no `--bench`):
    // there the smallest size does, instead of seeding 11,100 recipes in a debug build.
    let measuring = std::env::args().any(|a| a == "--bench");
    let sizes = if measuring {
        &GROWTH_SIZES[..]
    } else {
        &GROWTH_SIZES[..1]
    };
    for &size in sizes {
        let mut gota = gota_app(signer);
        let ids: Vec<String> = (0..size)
            .map(|i| create(rt, &mut gota, &growth_recipe(i)))
            .collect();
        let list = |query: Value| rest_v1_event("GET", "/recipes", Some(&query), None, None);
        let cases = [
            (
                "get",
                rest_v1_event(
                    "GET",
                    &format!("/recipes/{}", ids[size / 2]),
                    None,
                    None,
                    None,
                ),
                None,
            ),
            ("list", list(json!({"limit": "20"})), Some(20)),
            (
                "list_tag_common",
                list(json!({"limit": "20", "tag": "weekend"})),
                Some(20),
            ),
            (
                "list_tag_rare",
                list(json!({"limit": "20", "tag": "festive"})),
                Some(RARE),
            ),
            (
                "list_ingredient_rare",
                list(json!({"limit": "20", "ingredient": "saffron"})),
                Some(RARE),
            ),
            (
                "list_q_rare",
                list(json!({"limit": "20", "q": "risotto"})),
                Some(RARE),
            ),
            // Search (the index, ADR 0030): two words, the last a prefix; a prefix alone; a
            // word every recipe has but the rare ones; a word with a tag.
            (
                "search_words_rare",
                list(json!({"limit": "20", "q": "saffron risot"})),
                Some(RARE),
            ),
            (
                "search_prefix_rare",
                list(json!({"limit": "20", "q": "saff"})),
                Some(RARE),
            ),
            (
                "search_common",
                list(json!({"limit": "20", "q": "pizza"})),
                Some(20),
            ),
            (
                "search_tag_rare",
                list(json!({"limit": "20", "q": "risotto", "tag": "festive"})),
                Some(RARE),
            ),
            // A word every pizza has and a one-character prefix of many words (at 10,000:
            // the 1,111 numbers that start with 1), whose matches are rare among the pizzas.
            (
                "search_prefix_many_words",
                list(json!({"limit": "20", "q": "pizza 1"})),
                None,
            ),
        ];
        for (name, event, items) in &cases {
            let first = rt.block_on(invoke(&mut gota, event));
            assert_eq!(support::status_of(&first), 200, "{name}");
            if let Some(items) = items {
                assert_eq!(
                    support::body_of(&first)["items"].as_array().unwrap().len(),
                    *items,
                    "{name} at {size}"
                );
            }
            group.bench_function(format!("{name}/{size}"), |b| {
                b.iter(|| black_box(rt.block_on(invoke(&mut gota, black_box(event)))));
            });
        }
    }
    group.finish();
}

/// The growth table: each case's median at every size, and the factor from the smallest to
/// the largest.
fn print_growth(dir: &Path, started: SystemTime) {
    let cases = [
        "get",
        "list",
        "list_tag_common",
        "list_tag_rare",
        "list_ingredient_rare",
        "list_q_rare",
        "search_words_rare",
        "search_prefix_rare",
        "search_common",
        "search_tag_rare",
        "search_prefix_many_words",
    ];
    let mut header = format!("\n{:<28}", "growth (median)");
    for size in GROWTH_SIZES {
        header.push_str(&format!(" {:>12}", format!("{size} recipes")));
    }
    let mut header = Some(header);
    for case in cases {
        let medians: Vec<Option<f64>> = GROWTH_SIZES
            .iter()
            .map(|size| median_ns(dir, started, "growth", &format!("{case}/{size}")))
            .collect();
        if medians.iter().all(Option::is_none) {
            continue;
        }
        if let Some(header) = header.take() {
            println!("{header} {:>10}", "10k / 100");
        }
        let mut row = format!("{:<28}", format!("growth/{case}"));
        for median in &medians {
            row.push_str(&format!(" {:>12}", median.map_or("-".to_owned(), micros)));
        }
        let factor = match (medians.first(), medians.last()) {
            (Some(Some(small)), Some(Some(large))) => format!("{:.2}x", large / small),
            _ => "-".to_owned(),
        };
        println!("{row} {factor:>10}");
    }
}

fn bench_tokens(c: &mut Criterion, rt: &Runtime, signer: &RsaSigner) {
    let config = VerifierConfig::new(
        ISSUER,
        vec![CLIENT_ID.to_owned()],
        JwksSource::Static(signer.jwks()),
    );
    let token = signer
        .sign(&json!({
            "sub": OWNER, "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id",
            "iat": unix_now(), "exp": unix_now() + 24 * 3600, "cognito:groups": ["editors"],
        }))
        .unwrap();
    // Key parsed and cached, every call checks the signature (a token seen for the first time).
    let warm = TokenVerifier::new(VerifierConfig {
        remember_verified: false,
        ..config.clone()
    });
    assert!(rt.block_on(warm.verify(&token)).is_ok());
    // The same token again within minutes: what most requests of a client are.
    let remembered = TokenVerifier::new(config.clone());
    assert!(rt.block_on(remembered.verify(&token)).is_ok());

    // The floor: jsonwebtoken's RS256 decode with the key already parsed.
    let jwk = &signer.jwks().keys[0];
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[ISSUER]);
    validation.validate_aud = false;
    assert!(jsonwebtoken::decode::<Value>(&token, &key, &validation).is_ok());

    let mut group = c.benchmark_group("token");
    configure(&mut group);
    group.bench_function("verify_warm/gota", |b| {
        b.iter(|| black_box(rt.block_on(warm.verify(black_box(&token))).is_ok()));
    });
    group.bench_function("verify_remembered/gota", |b| {
        b.iter(|| black_box(rt.block_on(remembered.verify(black_box(&token))).is_ok()));
    });
    group.bench_function("verify_cold/gota", |b| {
        b.iter(|| {
            let verifier = TokenVerifier::new(black_box(config.clone()));
            black_box(rt.block_on(verifier.verify(black_box(&token))).is_ok())
        });
    });
    group.bench_function("verify/baseline", |b| {
        b.iter(|| {
            black_box(jsonwebtoken::decode::<Value>(black_box(&token), &key, &validation).is_ok())
        });
    });
    group.finish();
}

/// Decoding one stored recipe from the embedded store's bytes, the largest single cost of a
/// GET and the per-item cost of a list (ADR 0025): as this release writes it (`schema_version`
/// present: the integrity check only) and as earlier releases wrote it (no marker: validated
/// in full), for the realistic recipe and for the same recipe with accented text (where the
/// NFC check, skipped for marked items, has work to do).
fn bench_decode(c: &mut Criterion) {
    let plain = stored_recipe(recipe("Pizza"));
    let accented = stored_recipe(accented(recipe("Pizza")));
    let mut group = c.benchmark_group("decode");
    configure(&mut group);
    for (name, recipe) in [
        ("stored_recipe", &plain),
        ("stored_recipe_accented", &accented),
    ] {
        let marked = serde_json::to_vec(&recipe.to_store()).unwrap();
        let unmarked = serde_json::to_vec(recipe).unwrap();
        assert_eq!(&decode(&marked), recipe);
        assert_eq!(&decode(&unmarked), recipe);
        group.bench_function(format!("{name}/gota"), |b| {
            b.iter(|| black_box(decode(black_box(&marked))));
        });
        group.bench_function(format!("{name}_unmarked/gota"), |b| {
            b.iter(|| black_box(decode(black_box(&unmarked))));
        });
    }
    group.finish();
}

/// Writing a recipe as response JSON, the per-item cost of a list beside decoding (and the
/// body of a GET): the realistic recipe and its accented twin.
fn bench_serialize(c: &mut Criterion) {
    let plain = stored_recipe(recipe("Pizza"));
    let accented = stored_recipe(accented(recipe("Pizza")));
    let mut group = c.benchmark_group("serialize");
    configure(&mut group);
    for (name, recipe) in [("recipe", &plain), ("recipe_accented", &accented)] {
        group.bench_function(format!("{name}/gota"), |b| {
            b.iter(|| black_box(serde_json::to_vec(black_box(recipe)).unwrap()));
        });
    }
    group.finish();
}

/// What the embedded store's read does with a recipe's bytes.
fn decode(bytes: &[u8]) -> Recipe {
    serde_json::from_slice::<FromStore>(bytes)
        .unwrap()
        .into_recipe()
}

fn stored_recipe(body: Value) -> Recipe {
    let input: RecipeInput = serde_json::from_value(body).unwrap();
    let now = now_utc();
    Recipe {
        id: RecipeId::new(),
        content: RecipeContent::parse(input).unwrap(),
        owner: Owner::parse(OWNER).unwrap(),
        version: 1,
        created_at: now,
        updated_at: now,
        photo: None,
    }
}

/// The recipe with every free text accented (precomposed, so already NFC): "Pizza" becomes
/// "Pìzzà".
fn accented(mut body: Value) -> Value {
    fn accent(value: &mut Value) {
        if let Some(text) = value.as_str() {
            *value = Value::from(
                text.replace('a', "\u{e0}")
                    .replace('e', "\u{e9}")
                    .replace('i', "\u{ec}"),
            );
        }
    }
    for field in ["title", "description", "author"] {
        if let Some(value) = body.get_mut(field) {
            accent(value);
        }
    }
    for list in ["ingredients", "steps"] {
        for item in body[list].as_array_mut().into_iter().flatten() {
            for field in ["name", "note", "text"] {
                if let Some(value) = item.get_mut(field) {
                    accent(value);
                }
            }
        }
    }
    for list in ["equipment", "notes"] {
        for item in body[list].as_array_mut().into_iter().flatten() {
            accent(item);
        }
    }
    body
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(60)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
}

/// `target/criterion`, beside the bench executable's `target/<profile>/deps`.
fn criterion_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors().nth(3).unwrap().join("criterion")
}

/// Criterion's median estimate (ns) of a benchmark, if it ran in this run (since `started`).
fn median_ns(dir: &Path, started: SystemTime, group: &str, id: &str) -> Option<f64> {
    let path = dir
        .join(group)
        .join(id.replace('/', "_"))
        .join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < started {
        return None;
    }
    let estimates: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    estimates["median"]["point_estimate"].as_f64()
}

/// The summary: each case's median next to its baseline's, the ratio, and issue 13's target for
/// that ratio where it set one.
fn print_table(dir: &Path, started: SystemTime) {
    let rows = [
        ("request", "get_by_id", "get_by_id/baseline", 1.5),
        (
            "request",
            "get_by_id_bearer",
            "get_by_id_bearer/baseline",
            f64::NAN,
        ),
        ("request", "list_20", "list_20/baseline", 8.0),
        ("request", "post", "post/baseline", 3.0),
        ("request", "patch", "patch/baseline", 2.5),
        ("token", "verify_warm", "verify/baseline", f64::NAN),
        ("token", "verify_remembered", "verify/baseline", f64::NAN),
        ("token", "verify_cold", "verify/baseline", f64::NAN),
        // Here the "baseline" is the same recipe without the marker, validated in full.
        (
            "decode",
            "stored_recipe",
            "stored_recipe_unmarked/gota",
            f64::NAN,
        ),
        (
            "decode",
            "stored_recipe_accented",
            "stored_recipe_accented_unmarked/gota",
            f64::NAN,
        ),
    ];
    println!(
        "\n{:<28} {:>12} {:>12} {:>8} {:>10}",
        "case (median)", "gota", "baseline", "ratio", "target"
    );
    for (group, case, baseline, target_ratio) in rows {
        let Some(ours) = median_ns(dir, started, group, &format!("{case}/gota")) else {
            continue;
        };
        let base = median_ns(dir, started, group, baseline);
        let target = match base {
            _ if target_ratio.is_nan() => "-".to_owned(),
            Some(b) if ours / b <= target_ratio => format!("≤{target_ratio}x ok"),
            Some(_) => format!("≤{target_ratio}x MISS"),
            None => format!("≤{target_ratio}x ?"),
        };
        println!(
            "{:<28} {:>12} {:>12} {:>8} {:>10}",
            format!("{group}/{case}"),
            micros(ours),
            base.map_or("-".to_owned(), micros),
            base.map_or("-".to_owned(), |b| format!("{:.2}x", ours / b)),
            target,
        );
    }
}

fn micros(ns: f64) -> String {
    format!("{:.1}µs", ns / 1000.0)
}

fn main() {
    let started = SystemTime::now();
    let dir = criterion_dir();
    let mut c = Criterion::default()
        .output_directory(&dir)
        .configure_from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let signer = RsaSigner::generate("bench-kid").unwrap();
    bench_requests(&mut c, &rt, &signer);
    bench_tokens(&mut c, &rt, &signer);
    bench_growth(&mut c, &rt, &signer);
    bench_decode(&mut c);
    bench_serialize(&mut c);
    c.final_summary();
    print_table(&dir, started);
    print_growth(&dir, started);
}
