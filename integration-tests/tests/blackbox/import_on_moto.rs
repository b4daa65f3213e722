//! `POST /recipes/import` and the JSON-LD `GET /recipes/{id}` on the real binary, with
//! DynamoDB and Cognito tokens from moto, over real HTTP (Content-Length set by the client).

use reqwest::StatusCode;
use serde_json::Value;

use gota_testkit::fixtures::{IMPORT_CORPUS, import_page};
use gota_testkit::{Api, Moto, UserPool};

#[tokio::test]
async fn recipes_import_and_export_as_schema_org_on_dynamodb() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let pool = UserPool::create(&moto, "gota").await;
    pool.add_user("alice", &[]).await;
    pool.add_user("bob", &[]).await;
    let mut env = moto.env();
    env.extend(pool.env());
    env.push(("GOTA_TABLE_NAME".into(), "recipes".into()));
    let api = Api::start(&env).await;
    let http = reqwest::Client::new();
    let alice = pool.login("alice").await;
    let bob = pool.login("bob").await;

    let import =
        |token: String, media_type: &'static str, body: &'static str, key: Option<&'static str>| {
            let mut request = http
                .post(api.url("/recipes/import"))
                .bearer_auth(token)
                .header("content-type", media_type)
                .body(body);
            if let Some(key) = key {
                request = request.header("idempotency-key", key);
            }
            request.send()
        };

    // Every page of the corpus that holds a recipe imports; the one without is a 422.
    let mut imported = 0;
    for (name, media_type, page) in IMPORT_CORPUS {
        let response = import(alice.id.clone(), media_type, page, None)
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        if name == "no-recipe.html" {
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {body}");
        } else {
            assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
            assert!(body["import"]["guessed"].is_array() && body["import"]["dropped"].is_array());
            imported += 1;
        }
    }
    assert_eq!(imported, IMPORT_CORPUS.len() - 1);

    // Idempotency on DynamoDB: a retry replays, another body with the key is refused.
    let (media_type, page) = import_page("sections.html");
    let first = import(alice.id.clone(), media_type, page, Some("bb-import"))
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let location = first.headers()["location"].to_str().unwrap().to_owned();
    let first: Value = first.json().await.unwrap();
    let again = import(alice.id.clone(), media_type, page, Some("bb-import"))
        .await
        .unwrap();
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    assert_eq!(again.json::<Value>().await.unwrap(), first);
    let (other_type, other) = import_page("plain.json");
    let refused = import(alice.id.clone(), other_type, other, Some("bb-import"))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Export: JSON-LD with a weak ETag and Vary; 304 on it; 406; someone else's is a 404.
    let get = |token: String, accept: &'static str, if_none_match: Option<&'static str>| {
        let mut request = http
            .get(api.url(&location))
            .bearer_auth(token)
            .header("accept", accept);
        if let Some(tag) = if_none_match {
            request = request.header("if-none-match", tag);
        }
        request.send()
    };
    let exported = get(alice.id.clone(), "application/ld+json", None)
        .await
        .unwrap();
    assert_eq!(exported.status(), StatusCode::OK);
    assert_eq!(exported.headers()["content-type"], "application/ld+json");
    assert_eq!(exported.headers()["etag"], "W/\"1-ld\"");
    assert_eq!(exported.headers()["vary"], "Accept");
    let document = exported.text().await.unwrap();
    let node: Value = serde_json::from_str(&document).unwrap();
    assert_eq!(node["@type"], "Recipe");
    assert_eq!(node["name"], first["recipe"]["title"]);
    let cached = get(alice.id.clone(), "application/ld+json", Some("W/\"1-ld\""))
        .await
        .unwrap();
    assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(cached.headers()["vary"], "Accept");
    let refused = get(alice.id.clone(), "text/html", None).await.unwrap();
    assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(
        refused.headers()["content-type"],
        "application/problem+json"
    );
    let hidden = get(bob.id.clone(), "application/ld+json", None)
        .await
        .unwrap();
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);

    // The export imports back as the same recipe (an access token this time).
    let document: &'static str = Box::leak(document.into_boxed_str());
    let back = import(alice.access.clone(), "application/ld+json", document, None)
        .await
        .unwrap();
    assert_eq!(back.status(), StatusCode::CREATED);
    let back: Value = back.json().await.unwrap();
    for field in [
        "title",
        "servings",
        "prep_time_minutes",
        "cook_time_minutes",
        "ingredients",
        "steps",
        "tags",
        "author",
    ] {
        assert_eq!(back["recipe"][field], first["recipe"][field], "{field}");
    }
    assert_eq!(back["import"]["guessed"], serde_json::json!([]));

    // Import from a URL: the binary has no switch that admits loopback, so a name for this
    // machine, its addresses and the metadata service are refused before any connection,
    // with a reason that never names the address a name resolved to.
    for url in [
        "http://localhost/recipe",
        "http://127.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
    ] {
        let refused = http
            .post(api.url("/recipes/import"))
            .bearer_auth(alice.id.clone())
            .header("idempotency-key", "bb-url")
            .json(&serde_json::json!({ "url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(
            refused.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = refused.json().await.unwrap();
        assert_eq!(problem["errors"][0]["pointer"], "/url", "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains("address"), "{url}: {detail}");
        if url.contains("localhost") {
            assert!(
                !detail.contains("127.0.0.1") && !detail.contains("::1"),
                "{detail}"
            );
        }
    }
}
