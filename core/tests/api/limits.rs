//! Every limit of the contract (`gota_domain::limits`) at its edge, one table per kind of
//! limit. Each row is built from the constant itself and checked twice: in the domain
//! (`RecipeContent::parse`) and through the router (`POST /recipes`: 201 at the limit; 422 one
//! past it, with the row's JSON pointer and message). `every_limits_constant_has_a_row` fails
//! when a constant is added to `limits.rs` without a row here.

use std::collections::BTreeSet;
use std::time::Duration;

use axum::http::StatusCode;
use gota_core::fetch::{FetchError, FetchLimits};
use gota_domain::limits::*;
use gota_domain::{Owner, RecipeContent, RecipeInput, SearchText, ValidationErrors};
use gota_testkit::fixtures::minimal_recipe;
use serde_json::{Value, json};

use crate::fetch::{Answer, PageServer, fetcher_for};
use crate::support::{TestApp, assert_problem, pointers, recipe, spawn_app};

/// A constant and its name, so a table can say which constants it covers.
macro_rules! named {
    ($c:ident) => {
        (stringify!($c), $c)
    };
}

/// `body` with the value at `pointer` set (in an object, or an array item that exists).
fn with(mut body: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    match body.pointer_mut(parent).unwrap() {
        Value::Object(map) => {
            map.insert(key.to_owned(), value);
        }
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        other => panic!("{pointer}: {other} is no container"),
    }
    body
}

/// What a body should meet: accepted, or rejected with exactly one error.
#[derive(Debug, Clone)]
enum Expect {
    Accepted,
    Rejected { pointer: String, message: String },
}

fn rejected(pointer: &str, message: impl Into<String>) -> Expect {
    Expect::Rejected {
        pointer: pointer.to_owned(),
        message: message.into(),
    }
}

/// Checks `body` in the domain and through the router; returns the created recipe when accepted.
async fn check(t: &TestApp, token: &str, case: &str, body: Value, expect: &Expect) -> Value {
    let input: RecipeInput = serde_json::from_value(body.clone())
        .unwrap_or_else(|e| panic!("{case}: the body is well-typed: {e}"));
    let parsed = RecipeContent::parse(input);
    let reply = t.call("POST", "/recipes", Some(token), Some(body)).await;
    match expect {
        Expect::Accepted => {
            if let Err(e) = parsed {
                panic!("{case}: the domain refused it: {e}");
            }
            assert_eq!(reply.status, StatusCode::CREATED, "{case}: {}", reply.body);
            reply.body
        }
        Expect::Rejected { pointer, message } => {
            let Err(ValidationErrors(errors)) = parsed else {
                panic!("{case}: the domain accepted it");
            };
            let errors: Vec<(&str, &str)> = errors
                .iter()
                .map(|e| (e.pointer.as_str(), e.message.as_str()))
                .collect();
            assert_eq!(errors, [(pointer.as_str(), message.as_str())], "{case}");
            assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(pointers(&reply), std::slice::from_ref(pointer), "{case}");
            assert_eq!(
                reply.body["errors"][0]["message"],
                message.as_str(),
                "{case}"
            );
            Value::Null
        }
    }
}

// --- text lengths ------------------------------------------------------------------------

/// A text field or list item with a length limit in characters (NFC, trimmed).
struct Text {
    limit: (&'static str, usize),
    /// Where the text goes; a list (`/tags`) takes it as its only item, reported at `/0`.
    at: &'static str,
    list: bool,
    /// Blank text is dropped (the field becomes absent) instead of refused.
    blank_is_absent: bool,
    /// Any characters (a tag takes only a-z, 0-9 and hyphens).
    any_text: bool,
}

#[rustfmt::skip]
const TEXTS: [Text; 9] = [
    Text { limit: named!(TITLE_MAX), at: "/title", list: false, blank_is_absent: false, any_text: true },
    Text { limit: named!(DESCRIPTION_MAX), at: "/description", list: false, blank_is_absent: true, any_text: true },
    Text { limit: named!(AUTHOR_MAX), at: "/author", list: false, blank_is_absent: true, any_text: true },
    Text { limit: named!(INGREDIENT_NAME_MAX), at: "/ingredients/0/name", list: false, blank_is_absent: false, any_text: true },
    Text { limit: named!(INGREDIENT_NOTE_MAX), at: "/ingredients/0/note", list: false, blank_is_absent: true, any_text: true },
    Text { limit: named!(STEP_TEXT_MAX), at: "/steps/0/text", list: false, blank_is_absent: false, any_text: true },
    Text { limit: named!(TAG_MAX), at: "/tags", list: true, blank_is_absent: false, any_text: false },
    Text { limit: named!(EQUIPMENT_ITEM_MAX), at: "/equipment", list: true, blank_is_absent: false, any_text: true },
    Text { limit: named!(NOTE_MAX), at: "/notes", list: true, blank_is_absent: false, any_text: true },
];

#[tokio::test]
async fn text_is_accepted_at_its_length_limit_and_rejected_one_character_past_it() {
    let t = spawn_app();
    let token = t.token("alice");
    for row in &TEXTS {
        let (name, max) = row.limit;
        let place = |text: String| {
            let value = if row.list { json!([text]) } else { json!(text) };
            with(minimal_recipe(name), row.at, value)
        };
        let at = if row.list {
            format!("{}/0", row.at)
        } else {
            row.at.to_owned()
        };
        let too_long = rejected(
            &at,
            format!("must be at most {max} characters (got {})", max + 1),
        );
        let stored = |created: &Value| created.pointer(&at).cloned().unwrap_or(Value::Null);

        let text = "t".repeat(max);
        let created = check(&t, &token, name, place(text.clone()), &Expect::Accepted).await;
        assert_eq!(stored(&created), json!(text), "{name}");
        // Counted after trimming.
        let padded = format!("  {text}\n\t");
        let created = check(&t, &token, name, place(padded), &Expect::Accepted).await;
        assert_eq!(stored(&created), json!(text), "{name} is trimmed");
        check(&t, &token, name, place("t".repeat(max + 1)), &too_long).await;

        if row.any_text {
            // Counted after NFC: e + U+0301 is one character, é.
            let created = check(
                &t,
                &token,
                name,
                place("e\u{301}".repeat(max)),
                &Expect::Accepted,
            )
            .await;
            assert_eq!(
                stored(&created),
                json!("\u{e9}".repeat(max)),
                "{name} in NFC"
            );
            check(
                &t,
                &token,
                name,
                place("e\u{301}".repeat(max + 1)),
                &too_long,
            )
            .await;
        }

        let blank = place(" \u{a0} ".to_owned());
        if row.blank_is_absent {
            let created = check(&t, &token, name, blank, &Expect::Accepted).await;
            assert_eq!(stored(&created), Value::Null, "blank {name} becomes absent");
        } else {
            check(&t, &token, name, blank, &rejected(&at, "must not be empty")).await;
        }
    }
}

// --- list lengths ------------------------------------------------------------------------

/// A list with at most (and maybe at least) so many items.
struct Items {
    min: Option<(&'static str, usize)>,
    max: (&'static str, usize),
    at: &'static str,
    /// The `i`th item (distinct, where the list refuses duplicates).
    item: fn(usize) -> Value,
}

#[rustfmt::skip]
const ITEMS: [Items; 5] = [
    Items { min: Some(named!(INGREDIENTS_MIN)), max: named!(INGREDIENTS_MAX), at: "/ingredients", item: |i| json!({"name": format!("salt {i}")}) },
    Items { min: Some(named!(STEPS_MIN)), max: named!(STEPS_MAX), at: "/steps", item: |i| json!({"text": format!("Stir {i}.")}) },
    Items { min: None, max: named!(TAGS_MAX), at: "/tags", item: |i| json!(format!("tag-{i}")) },
    Items { min: None, max: named!(EQUIPMENT_MAX), at: "/equipment", item: |i| json!(format!("pot {i}")) },
    Items { min: None, max: named!(NOTES_MAX), at: "/notes", item: |i| json!(format!("note {i}")) },
];

#[tokio::test]
async fn lists_are_accepted_at_their_item_limits_and_rejected_one_item_past_them() {
    let t = spawn_app();
    let token = t.token("alice");
    for row in &ITEMS {
        let (name, max) = row.max;
        let list = |n: usize| with(minimal_recipe(name), row.at, (0..n).map(row.item).collect());

        let created = check(&t, &token, name, list(max), &Expect::Accepted).await;
        assert_eq!(
            created[&row.at[1..]].as_array().unwrap().len(),
            max,
            "{name}"
        );
        let too_many = rejected(
            row.at,
            format!("must have at most {max} items (got {})", max + 1),
        );
        check(&t, &token, name, list(max + 1), &too_many).await;

        match row.min {
            Some((min_name, min)) => {
                let created = check(&t, &token, min_name, list(min), &Expect::Accepted).await;
                assert_eq!(created[&row.at[1..]].as_array().unwrap().len(), min);
                let too_few = rejected(row.at, format!("must have at least {min} item"));
                check(&t, &token, min_name, list(min - 1), &too_few).await;
            }
            None => {
                let created = check(&t, &token, name, list(0), &Expect::Accepted).await;
                assert_eq!(
                    created[&row.at[1..]],
                    json!([]),
                    "{name}: an empty list is fine"
                );
            }
        }
    }
}

// --- whole numbers -----------------------------------------------------------------------

/// A whole number in `min..=max` (a constant, or 0).
struct Whole {
    min: (&'static str, u16),
    max: (&'static str, u16),
    at: &'static str,
}

#[rustfmt::skip]
const WHOLES: [Whole; 5] = [
    Whole { min: named!(SERVINGS_MIN), max: named!(SERVINGS_MAX), at: "/servings" },
    Whole { min: ("0", 0), max: named!(MINUTES_MAX), at: "/prep_time_minutes" },
    Whole { min: ("0", 0), max: named!(MINUTES_MAX), at: "/cook_time_minutes" },
    Whole { min: ("0", 0), max: named!(MINUTES_MAX), at: "/steps/0/duration_minutes" },
    Whole { min: ("0", 0), max: named!(CALORIES_MAX), at: "/calories_per_serving" },
];

#[tokio::test]
async fn whole_numbers_are_accepted_at_both_ends_and_rejected_one_past_either() {
    let t = spawn_app();
    let token = t.token("alice");
    for row in &WHOLES {
        let ((_, min), (name, max)) = (row.min, row.max);
        let number = |n: Value| with(minimal_recipe(name), row.at, n);
        let outside = rejected(
            row.at,
            format!("must be a whole number between {min} and {max}"),
        );
        for n in [min, max] {
            let created = check(&t, &token, name, number(json!(n)), &Expect::Accepted).await;
            assert_eq!(created.pointer(row.at), Some(&json!(n)), "{name}");
        }
        for n in [i64::from(min) - 1, i64::from(max) + 1] {
            check(&t, &token, name, number(json!(n)), &outside).await;
        }
        check(
            &t,
            &token,
            name,
            number(json!(f64::from(min) + 0.5)),
            &outside,
        )
        .await;
    }
}

#[tokio::test]
async fn servings_left_out_or_null_are_the_default() {
    let t = spawn_app();
    let token = t.token("alice");
    let (name, default) = named!(SERVINGS_DEFAULT);
    for body in [
        minimal_recipe(name),
        with(minimal_recipe(name), "/servings", Value::Null),
    ] {
        let created = check(&t, &token, name, body, &Expect::Accepted).await;
        assert_eq!(created["servings"], default);
    }
}

// --- amounts -----------------------------------------------------------------------------

#[tokio::test]
async fn amounts_are_accepted_at_both_bounds_and_rejected_past_either() {
    let t = spawn_app();
    let token = t.token("alice");
    let ((min_name, min), (max_name, max)) = (named!(AMOUNT_MIN), named!(AMOUNT_MAX));
    let amount = |name: &str, a: Value| {
        with(
            minimal_recipe(name),
            "/ingredients/0/quantity",
            json!({"amount": a, "unit": "g"}),
        )
    };
    let outside = rejected(
        "/ingredients/0/quantity/amount",
        format!("must be between {min} and {max}"),
    );
    for (name, a) in [(min_name, min), (max_name, max)] {
        let created = check(&t, &token, name, amount(name, json!(a)), &Expect::Accepted).await;
        assert_eq!(
            created["ingredients"][0]["quantity"]["amount"].as_f64(),
            Some(a),
            "{name}"
        );
    }
    // Below: what DynamoDB cannot store (1e-200), nothing, less than nothing, a hair under.
    for a in [
        json!(min / 2.0),
        json!(0.0009),
        json!(0),
        json!(0.0),
        json!(-0.5),
        json!(-1),
        json!(1e-200),
    ] {
        check(&t, &token, min_name, amount(min_name, a), &outside).await;
    }
    for a in [json!(max + 0.5), json!(max + 1.0), json!(1e30)] {
        check(&t, &token, max_name, amount(max_name, a), &outside).await;
    }
}

#[tokio::test]
async fn amounts_keep_their_significant_digits_up_to_the_limit_and_round_past_it() {
    let t = spawn_app();
    let token = t.token("alice");
    let (name, digits) = named!(AMOUNT_SIGNIFICANT_DIGITS);
    // 0.1 + 0.2 is 0.30000000000000004 (17 digits); 1/3 has 16 significant digits in an f64.
    let exact: f64 = format!("0.{}", "123456789".repeat(2)[..digits].to_owned())
        .parse()
        .unwrap();
    for (sent, kept) in [
        (exact, exact),
        (0.1 + 0.2, 0.3),
        (
            1.0 / 3.0,
            format!("0.{}", "3".repeat(digits)).parse().unwrap(),
        ),
    ] {
        let body = with(
            minimal_recipe(name),
            "/ingredients/0/quantity",
            json!({"amount": sent}),
        );
        let created = check(&t, &token, name, body, &Expect::Accepted).await;
        assert_eq!(
            created["ingredients"][0]["quantity"]["amount"],
            json!(kept),
            "{sent}"
        );
    }
}

// --- scaling -----------------------------------------------------------------------------

#[tokio::test]
async fn scaled_amounts_keep_the_limits_digits_and_decimal_places() {
    let t = spawn_app();
    let token = t.token("alice");
    let (digits_name, digits) = named!(SCALED_SIGNIFICANT_DIGITS);
    let (places_name, places) = named!(SCALED_DECIMAL_PLACES);
    assert_eq!(
        (digits, places),
        (4, 3),
        "the rows below are worked out for these"
    );
    // A third of each: 1000 g → 333.3 (4 significant digits, not 333.333…); 1 g → 0.333 (3
    // decimal places, not 0.3333).
    for (name, amount, scaled) in [(digits_name, 1000, 333.3), (places_name, 1, 0.333)] {
        let mut body = minimal_recipe(name);
        body["servings"] = json!(3);
        body["ingredients"][0]["quantity"] = json!({"amount": amount, "unit": "g"});
        let created = check(&t, &token, name, body, &Expect::Accepted).await;
        let uri = format!("/recipes/{}?servings=1", created["id"].as_str().unwrap());
        let reply = t.call("GET", &uri, Some(&token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert_eq!(
            reply.body["ingredients"][0]["quantity"]["amount"],
            json!(scaled),
            "{name}"
        );
    }
}

// --- the stored size ---------------------------------------------------------------------

#[tokio::test]
async fn a_recipe_is_accepted_at_the_stored_size_limit_and_rejected_one_byte_past_it() {
    let (name, max) = named!(CONTENT_BYTES_MAX);
    // The router refuses such bodies before they are read (256 KiB): this is the domain's rule,
    // and the router's side is the NFC test below.
    let at = gota_domain::arbitrary::input_of_stored_size(max);
    let content = RecipeContent::parse(at).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(content.stored_bytes(), max);
    let past = gota_domain::arbitrary::input_of_stored_size(max + 1);
    let Err(ValidationErrors(errors)) = RecipeContent::parse(past.clone()) else {
        panic!("{name}: one byte past the limit was accepted");
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pointer, "");
    assert_eq!(
        errors[0].message,
        format!(
            "the recipe would take {} bytes once stored (as JSON, after normalisation); at most \
             {max} are allowed",
            max + 1
        )
    );
    // What is already stored reads back, whatever its size.
    let stored: RecipeContent =
        serde_json::from_value(serde_json::to_value(past).unwrap()).unwrap();
    assert_eq!(stored.stored_bytes(), max + 1);
}

/// `n` steps, each `text`.
fn steps(n: usize, text: &str) -> Value {
    Value::Array(vec![json!({"text": text}); n])
}

#[tokio::test]
async fn text_that_grows_past_the_stored_size_limit_under_nfc_is_a_422_at_the_whole_body() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Eighth notes");
    // U+1D160 is 4 bytes as sent and 12 after NFC: 240 kB of body, 720 kB stored.
    body["steps"] = steps(100, &"\u{1d160}".repeat(600));
    assert!(serde_json::to_vec(&body).unwrap().len() < 256 * 1024);

    let reply = t.call("POST", "/recipes", Some(&token), Some(body)).await;

    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), vec![String::new()]);
    let message = reply.body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the recipe would take 72")
            && message.contains("bytes once stored")
            && message.ends_with(&format!("at most {CONTENT_BYTES_MAX} are allowed")),
        "{message}"
    );
}

// --- limits outside the recipe body ------------------------------------------------------

#[tokio::test]
async fn an_owner_is_accepted_at_its_length_limit_and_refused_one_past_it() {
    let (name, max) = named!(OWNER_MAX);
    let t = spawn_app();
    let at = "o".repeat(max);
    assert!(Owner::parse(&at).is_ok(), "{name}");
    assert_eq!(
        Owner::parse(&"o".repeat(max + 1)).map(|o| o.as_str().to_owned()),
        Err(format!(
            "must be at most {max} characters (got {})",
            max + 1
        ))
    );
    let created = t.create(&t.token(&at), recipe("Mine")).await;
    assert_eq!(created["owner"], at.as_str());
    let reply = t
        .call(
            "POST",
            "/recipes",
            Some(&t.token(&"o".repeat(max + 1))),
            Some(recipe("Mine")),
        )
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_search_text_is_accepted_at_its_length_limit_and_refused_one_past_it() {
    let (name, max) = named!(SEARCH_TEXT_MAX);
    let t = spawn_app();
    let token = t.token("alice");
    assert!(SearchText::parse(&"q".repeat(max)).is_ok(), "{name}");
    let reply = t
        .call(
            "GET",
            &format!("/recipes?q={}", "q".repeat(max)),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let reply = t
        .call(
            "GET",
            &format!("/recipes?q={}", "q".repeat(max + 1)),
            Some(&token),
            None,
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), ["/query/q"]);
    assert_eq!(
        reply.body["errors"][0]["message"],
        format!("must be at most {max} characters (got {})", max + 1)
    );
}

// --- import from a URL: the page fetcher's caps (`gota_core::fetch`) ---------------------

#[tokio::test]
async fn a_fetched_page_is_accepted_at_the_size_limit_and_refused_one_byte_past_it() {
    let (_, max) = named!(IMPORT_PAGE_BYTES_MAX);
    let server = PageServer::start(move |path| {
        let length = if path == "/over" { max + 1 } else { max };
        Answer::page("text/html", &vec![b'a'; length])
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", FetchLimits::default());
    let base = format!("http://recipes.test:{}", server.port());
    let page = fetcher.fetch(&format!("{base}/at")).await.unwrap();
    assert_eq!(page.body.len(), max);
    let result = fetcher.fetch(&format!("{base}/over")).await;
    assert!(
        matches!(result, Err(FetchError::TooLarge { limit }) if limit == max),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_fetch_follows_the_redirect_limit_and_refuses_one_redirect_past_it() {
    let (_, max) = named!(IMPORT_REDIRECTS_MAX);
    // /END/N redirects to /END/N+1 until N is END.
    let server = PageServer::start(|path| {
        let mut parts = path.trim_start_matches('/').split('/');
        let end: usize = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let n: usize = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        if n < end {
            Answer::redirect(302, &format!("/{end}/{}", n + 1))
        } else {
            Answer::page("text/html", b"arrived")
        }
    })
    .await;
    let fetcher = fetcher_for(&server, "recipes.test", FetchLimits::default());
    let base = format!("http://recipes.test:{}", server.port());
    let page = fetcher.fetch(&format!("{base}/{max}/0")).await.unwrap();
    assert_eq!(&page.body[..], b"arrived");
    let result = fetcher.fetch(&format!("{base}/{}/0", max + 1)).await;
    assert!(
        matches!(result, Err(FetchError::TooManyRedirects(n)) if n == max),
        "{result:?}"
    );
}

/// Paused time: the server's silence and the fetch's deadline run on tokio's clock, which
/// jumps ahead when nothing else can run, so the 10 s cap takes no real time.
#[tokio::test(start_paused = true)]
async fn a_fetch_ends_at_the_time_limit() {
    let (_, seconds) = named!(IMPORT_FETCH_SECONDS_MAX);
    let server =
        PageServer::start(|_| Answer::page("text/html", b"late").after(Duration::from_secs(3600)))
            .await;
    let fetcher = fetcher_for(&server, "recipes.test", FetchLimits::default());
    let started = tokio::time::Instant::now();
    let result = fetcher
        .fetch(&format!("http://recipes.test:{}/", server.port()))
        .await;
    let limit = Duration::from_secs(seconds);
    assert!(
        matches!(result, Err(FetchError::TimedOut(d)) if d == limit),
        "{result:?}"
    );
    assert!(started.elapsed() >= limit);
}

#[tokio::test]
async fn an_html_page_to_import_is_accepted_at_its_size_limit_and_refused_one_byte_past_it() {
    let (name, max) = named!(IMPORT_HTML_BYTES_MAX);
    let t = spawn_app();
    let token = t.token("alice");
    let (_, document) = gota_testkit::fixtures::import_page("plain.json");
    let page = |bytes: usize| {
        let script = format!("<script type=\"application/ld+json\">{document}</script>");
        let filler = bytes - script.len() - "<!---->".len();
        format!("<!--{}-->{script}", "x".repeat(filler))
    };
    let import = |body: String, length: Option<String>| {
        let mut request = axum::http::Request::builder()
            .method("POST")
            .uri("/recipes/import")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/html");
        if let Some(length) = length {
            request = request.header("content-length", length);
        }
        request.body(axum::body::Body::from(body)).unwrap()
    };
    assert_eq!(page(max).len(), max);
    let reply = t.send(import(page(max), None)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
    // No Content-Length: the limit holds while the body is read.
    let reply = t.send(import(page(max + 1), None)).await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    // A declared length over the limit is refused before reading.
    let reply = t
        .send(import(String::new(), Some((max + 1).to_string())))
        .await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        reply.body["detail"],
        format!("The request body is larger than {} KiB.", max / 1024)
    );
}

/// `GET /recipes?<query(n)>` is a 200 at `n = max` and a 422 at `pointer` one past it.
async fn a_list_query_is_accepted_at(
    name: &str,
    max: usize,
    query: impl Fn(usize) -> String,
    pointer: &str,
) {
    let t = spawn_app();
    let token = t.token("alice");
    let list = |n: usize| format!("/recipes?{}", query(n));
    let reply = t.call("GET", &list(max), Some(&token), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{name}: {}", reply.body);
    let reply = t.call("GET", &list(max + 1), Some(&token), None).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), [pointer], "{name}");
}

#[tokio::test]
async fn a_search_is_accepted_at_its_word_limit_and_refused_one_past_it() {
    let (name, max) = named!(SEARCH_TOKENS_MAX);
    let words = |n: usize| {
        let words: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
        format!("q={}", words.join("+"))
    };
    a_list_query_is_accepted_at(name, max, words, "/query/q").await;
}

#[tokio::test]
async fn the_tag_filter_is_accepted_at_its_repeat_limit_and_refused_one_past_it() {
    let (name, max) = named!(TAG_FILTERS_MAX);
    let tags = |n: usize| {
        let tags: Vec<String> = (0..n).map(|i| format!("tag=t{i}")).collect();
        tags.join("&")
    };
    a_list_query_is_accepted_at(name, max, tags, "/query/tag").await;
}

#[tokio::test]
async fn a_word_past_the_token_limit_still_finds_itself() {
    let (name, max) = named!(SEARCH_TOKEN_MAX);
    let t = spawn_app();
    let token = t.token("alice");
    let long = "x".repeat(max + 5);
    t.create(&token, recipe(&format!("{long} pie"))).await;
    t.create(&token, recipe("Plain pie")).await;
    let reply = t
        .call("GET", &format!("/recipes?q={long}+pie"), Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.body["items"].as_array().map(Vec::len),
        Some(1),
        "{name}"
    );
}

#[tokio::test]
async fn a_recipe_with_more_terms_than_the_index_keeps_is_still_found() {
    let (name, max) = named!(INDEX_TERMS_MAX);
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Epic");
    let words: Vec<String> = (0..=max).map(|i| format!("w{i}")).collect();
    body["description"] = json!(words.join(" "));
    t.create(&token, body).await;
    let reply = t
        .call("GET", &format!("/recipes?q=w{max}"), Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["items"][0]["title"], "Epic", "{name}");
}

#[tokio::test]
async fn an_import_report_keeps_its_findings_limit_and_counts_the_rest_in_its_last() {
    let (_, max) = named!(IMPORT_FINDINGS_MAX);
    let (_, chars) = named!(IMPORT_FINDING_CHARS_MAX);
    let t = spawn_app();
    let token = t.token("alice");
    // Every `{}` step is one dropped finding ("a step with no text"); one real step keeps the
    // recipe valid.
    let page = |empty_steps: usize| {
        let mut steps = vec![json!({}); empty_steps];
        steps.push(json!("Stir."));
        let node = json!({"@type": "Recipe", "name": "Steps", "recipeIngredient": ["salt"],
            "recipeInstructions": steps, "prepTime": "x".repeat(10 * chars)});
        format!("<script type=\"application/ld+json\">{node}</script>")
    };
    let import = |body: String| {
        axum::http::Request::builder()
            .method("POST")
            .uri("/recipes/import")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "text/html")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    // `prepTime` is one finding, the steps the others.
    let reply = t.send(import(page(max - 1))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let dropped = reply.body["import"]["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), max);
    assert_eq!(dropped[0]["from"], "prepTime");
    let quoted = dropped[0]["note"].as_str().unwrap();
    assert_eq!(quoted.chars().count(), chars, "{quoted}");
    assert!(quoted.ends_with('…'));
    assert_eq!(dropped[max - 1]["note"], "a step with no text");

    let reply = t.send(import(page(max))).await;
    let dropped = reply.body["import"]["dropped"].as_array().unwrap();
    assert_eq!(dropped.len(), max);
    assert_eq!(dropped[max - 1]["from"], "import");
    assert_eq!(
        dropped[max - 1]["note"],
        format!(
            "2 more findings left out: a report keeps at most {max} of each kind and {} KiB",
            IMPORT_REPORT_BYTES_MAX / 1024
        )
    );

    // As many findings as a page can hold: the answer stays small.
    let steps = (IMPORT_HTML_BYTES_MAX - 10 * chars - 1000) / 3;
    let reply = t.send(import(page(steps))).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let size = serde_json::to_vec(&reply.body).unwrap().len();
    assert!(size < 100_000, "{size} bytes");
}

/// A failed photo's reason is the worker's text, never a client's: `PhotoStatus::failed` cuts it
/// to the limit, a store refuses a longer one, and the recipe shows it whole.
#[tokio::test]
async fn a_failed_photos_reason_keeps_its_limit_from_worker_to_answer() {
    use gota_core::store::embedded::EmbeddedStore;
    use gota_core::store::{RecipeStore, Scope, StoreError};
    use gota_domain::photo::{Photo, PhotoId, PhotoStatus};
    let (name, max) = named!(PHOTO_REASON_MAX);
    let store = std::sync::Arc::new(EmbeddedStore::in_memory().unwrap());
    let t = crate::support::spawn_app_with_store(store.clone());
    let token = t.token("alice");
    let created = t.create(&token, recipe("Blurred")).await;
    let id: gota_domain::RecipeId = created["id"].as_str().unwrap().parse().unwrap();
    let owner = Owner::parse("alice").unwrap();
    let failed = |status| Photo {
        id: PhotoId::new(),
        status,
        updated_at: gota_domain::now_utc(),
    };
    let over = PhotoStatus::Failed {
        reason: "é".repeat(max + 1),
    };
    let refused = store
        .update_photo(id, Scope::Owner(&owner), &|_| {
            Ok(Some(failed(over.clone())))
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::Unexpected(_))),
        "{name}: {refused:?}"
    );
    store
        .update_photo(id, Scope::Owner(&owner), &|_| {
            Ok(Some(failed(PhotoStatus::failed(&"é".repeat(max + 1)))))
        })
        .await
        .unwrap()
        .unwrap();
    let reply = t
        .call("GET", &format!("/recipes/{id}"), Some(&token), None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let reason = reply.body["photo"]["reason"].as_str().unwrap();
    assert_eq!(reason.chars().count(), max, "{name}");
}

/// The report's bytes, whatever its findings hold: 150 findings each naming a property of 300
/// three-byte characters (the most a finding keeps) would be ~140 KB.
#[tokio::test]
async fn an_import_report_is_at_most_its_byte_limit_and_says_what_it_left_out() {
    let (name, max) = named!(IMPORT_REPORT_BYTES_MAX);
    let t = spawn_app();
    let token = t.token("alice");
    // Each unknown property is a dropped finding that names it (cut to 300 characters).
    let long = "日".repeat(300);
    let mut node = json!({"@type": "Recipe", "name": "Long names", "recipeIngredient": ["salt"],
        "recipeInstructions": ["Stir."]});
    for n in 0..150 {
        node[format!("{n}{long}")] = json!(1);
    }
    let body = node.to_string();
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/recipes/import")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/ld+json")
        .body(axum::body::Body::from(body))
        .unwrap();
    let reply = t.send(request).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let report = serde_json::to_vec(&reply.body["import"]).unwrap();
    assert!(report.len() <= max, "{name}: {} bytes", report.len());
    let dropped = reply.body["import"]["dropped"].as_array().unwrap();
    let last = dropped.last().unwrap();
    assert_eq!(last["from"], "import", "{last}");
    assert!(
        last["note"]
            .as_str()
            .unwrap()
            .contains("more findings left out")
    );
}

#[tokio::test]
async fn a_url_to_import_is_accepted_at_its_length_limit_and_refused_one_past_it() {
    let (name, max) = named!(IMPORT_URL_MAX);
    let (media_type, document) = gota_testkit::fixtures::import_page("plain.json");
    let server = PageServer::start(move |_| Answer::page(media_type, document.as_bytes())).await;
    let t = crate::support::spawn_app_fetching(fetcher_for(
        &server,
        "recipes.test",
        FetchLimits::default(),
    ));
    let token = t.token("alice");
    let base = format!("http://recipes.test:{}/", server.port());
    let url = |chars: usize| format!("{base}{}", "a".repeat(chars - base.len()));
    assert_eq!(url(max).chars().count(), max);
    let reply = t
        .call(
            "POST",
            "/recipes/import",
            Some(&token),
            Some(json!({"url": url(max)})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{name}: {}", reply.body);
    let reply = t
        .call(
            "POST",
            "/recipes/import",
            Some(&token),
            Some(json!({"url": url(max + 1)})),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), ["/url"]);
    assert_eq!(
        reply.body["errors"][0]["message"],
        format!("must be at most {max} characters (got {})", max + 1)
    );
    assert_eq!(server.connections(), 1, "the long URL was never fetched");

    // The limit counts the URL as sent: "é" is sent as "%C3%A9".
    let typed = format!("{base}{}", "é".repeat((max - base.len()) / 6 + 1));
    assert!(typed.chars().count() < max);
    let reply = t
        .call(
            "POST",
            "/recipes/import",
            Some(&token),
            Some(json!({"url": typed})),
        )
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), ["/url"]);
    assert_eq!(
        reply.body["errors"][0]["message"],
        format!("not a usable URL: longer than {max} characters once percent-encoded")
    );
    assert_eq!(
        server.connections(),
        1,
        "{name}: the long URL was never fetched"
    );
}

// --- the tables cover limits.rs ----------------------------------------------------------

/// The constants the tests of this module are built from: every table row, and every other
/// test's `named!` constant.
fn covered() -> BTreeSet<&'static str> {
    let mut names: BTreeSet<&'static str> = BTreeSet::new();
    names.extend(TEXTS.iter().map(|r| r.limit.0));
    for row in &ITEMS {
        names.insert(row.max.0);
        names.extend(row.min.map(|m| m.0));
    }
    for row in &WHOLES {
        names.extend([row.min.0, row.max.0]);
    }
    names.remove("0");
    // The limits with a test of their own (amounts, digits, stored size, owner, search…): a
    // constant counts only where a test of this file builds from it, outside this function.
    let own = include_str!("limits.rs");
    let this = own.find("fn covered()").unwrap_or(own.len());
    let end = own[this..].find("\n}\n").map_or(own.len(), |at| this + at);
    for part in [&own[..this], &own[end..]] {
        for (at, _) in part.match_indices("named!(") {
            let rest = &part[at + "named!(".len()..];
            if let Some(close) = rest.find(')') {
                names.insert(&rest[..close]);
            }
        }
    }
    names
}

#[test]
fn every_limits_constant_has_a_row() {
    let source = include_str!("../../../domain/src/limits.rs");
    let declared: BTreeSet<&str> = source
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("pub const "))
        .filter_map(|rest| rest.split(':').next())
        .collect();
    assert!(
        !declared.is_empty(),
        "limits.rs declares its constants as `pub const`"
    );
    let covered = covered();
    let missing: Vec<_> = declared.difference(&covered).collect();
    assert!(missing.is_empty(), "limits without a row here: {missing:?}");
    let unknown: Vec<_> = covered.difference(&declared).collect();
    assert!(
        unknown.is_empty(),
        "rows naming no constant of limits.rs: {unknown:?}"
    );
}

#[tokio::test]
async fn a_merge_patch_that_makes_the_recipe_too_large_is_a_422_and_changes_nothing() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Long");
    body["steps"] = steps(100, &"\u{1f35c}".repeat(600)); // 240 kB: within every limit
    let created = t.create(&token, body).await;
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());
    // 120 kB more: each request is within 256 KiB, the merged recipe is not within 350 kB.
    let ingredient = json!({"name": "\u{1f35c}".repeat(100), "note": "\u{1f35c}".repeat(200)});
    let patch = json!({"ingredients": vec![ingredient; 100]});

    let reply = t
        .call_with(
            "PATCH",
            &uri,
            Some(&token),
            Some(patch),
            &[
                ("content-type", "application/merge-patch+json"),
                ("if-match", "\"1\""),
            ],
        )
        .await;

    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), vec![String::new()]);
    let after = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.body["version"], 1);
}

#[tokio::test]
async fn scaling_down_never_answers_an_amount_below_the_smallest() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut body = recipe("Feast");
    body["servings"] = json!(1000);
    body["ingredients"][0]["quantity"] = json!({"amount": 0.001, "unit": "mg"});
    let created = t.create(&token, body).await;

    let reply = t
        .call(
            "GET",
            &format!("/recipes/{}?servings=1", created["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;

    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        reply.body["ingredients"][0]["quantity"],
        json!({"amount": 0.001, "unit": "mg"})
    );
}

#[tokio::test]
async fn a_shopping_list_takes_1_to_50_recipes() {
    let t = spawn_app();
    let token = t.token("alice");
    let (min_name, min) = named!(SHOPPING_RECIPES_MIN);
    let (max_name, max) = named!(SHOPPING_RECIPES_MAX);
    let mut ids = Vec::new();
    for n in 0..=max {
        let created = t.create(&token, minimal_recipe(&format!("R{n}"))).await;
        ids.push(json!({"id": created["id"]}));
    }
    for (case, count, accepted) in [
        (min_name, min, true),
        (max_name, max, true),
        (min_name, min - 1, false),
        (max_name, max + 1, false),
    ] {
        let body = json!({"recipes": ids[..count]});
        let reply = t
            .call("POST", "/shopping-list", Some(&token), Some(body))
            .await;
        if accepted {
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{case} {count}: {}",
                reply.body
            );
            assert_eq!(reply.body["recipes"].as_array().unwrap().len(), count);
        } else {
            assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(pointers(&reply), ["/recipes"], "{case} {count}");
        }
    }
}
