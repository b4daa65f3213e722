//! One test per row of the contract's error table, plus the rules that order them.

use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gota_core::store::{
    Change, Check, ClaimOutcome, IdempotencyClaim, IdempotencyRecord, IdempotencyScope, ListQuery,
    Page, RecipeStore, Refusal, Scope, StoreError,
};
use gota_domain::{Recipe, RecipeId};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn invalid_json_is_a_400_problem() {
    let t = spawn_app();
    let token = t.token("alice");
    let request = Request::post("/recipes")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"title\": "))
        .unwrap();
    assert_problem(&t.send(request).await, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_json_type_mismatch_is_a_400_with_a_pointer() {
    let t = spawn_app();
    let mut body = recipe("Typed");
    body["steps"][1]["text"] = json!(42);
    let reply = t
        .call("POST", "/recipes", Some(&t.token("alice")), Some(body))
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);
    assert_eq!(pointers(&reply), vec!["/steps/1/text"]);
}

#[tokio::test]
async fn unknown_and_server_controlled_fields_are_400s() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut unknown = recipe("Unknown");
    unknown["rating"] = json!(5);
    let reply = t
        .call("POST", "/recipes", Some(&token), Some(unknown))
        .await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);

    let mut nested = recipe("Nested unknown");
    nested["ingredients"][0]["colour"] = json!("red");
    let reply = t.call("POST", "/recipes", Some(&token), Some(nested)).await;
    assert_problem(&reply, StatusCode::BAD_REQUEST);

    for field in [
        "id",
        "owner",
        "version",
        "created_at",
        "updated_at",
        "photo",
    ] {
        let mut body = recipe("Mass assignment");
        body[field] = json!("x");
        let reply = t.call("POST", "/recipes", Some(&token), Some(body)).await;
        assert_problem(&reply, StatusCode::BAD_REQUEST);
        assert_eq!(pointers(&reply), vec![format!("/{field}")], "{field}");
    }
    let listed = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(listed.body["items"], json!([]), "nothing was created");
}

#[tokio::test]
async fn a_photo_in_a_put_or_patch_body_is_a_400_and_changes_nothing() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Unphotographed")).await;
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());
    let photo = json!({"id": "0193a1b2-5c3d-7e4f-8a9b-0c1d2e3f4a5b", "status": "ready",
        "width": 1, "height": 1, "updated_at": "2026-12-03T14:00:00Z"});
    let mut body = recipe("Unphotographed");
    body["photo"] = photo.clone();
    let put = t.call("PUT", &uri, Some(&token), Some(body)).await;
    assert_problem(&put, StatusCode::BAD_REQUEST);
    assert_eq!(pointers(&put), vec!["/photo"]);
    for patch in [json!({"photo": photo}), json!({"photo": null})] {
        let reply = t
            .call_with(
                "PATCH",
                &uri,
                Some(&token),
                Some(patch.clone()),
                &[("content-type", "application/merge-patch+json")],
            )
            .await;
        assert_problem(&reply, StatusCode::BAD_REQUEST);
    }
    let now = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(now.body["version"], 1, "nothing changed");
    assert!(now.body.get("photo").is_none(), "{}", now.body);
}

#[tokio::test]
async fn a_merge_patch_naming_an_unknown_field_is_a_400_even_when_it_removes_it() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t
        .call("POST", "/recipes", Some(&token), Some(recipe("Patched")))
        .await;
    let uri = format!("/recipes/{}", created.body["id"].as_str().unwrap());
    for patch in [
        json!({"descripton": null}),
        json!({"title": "Soup", "rating": null}),
    ] {
        let reply = t
            .call_with(
                "PATCH",
                &uri,
                Some(&token),
                Some(patch.clone()),
                &[("content-type", "application/merge-patch+json")],
            )
            .await;
        assert_problem(&reply, StatusCode::BAD_REQUEST);
    }
    let now = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(now.body["version"], 1, "nothing changed");
}

#[tokio::test]
async fn an_invalid_idempotency_key_is_a_400() {
    let t = spawn_app();
    let token = t.token("alice");
    let long = "k".repeat(256);
    for key in ["has space", long.as_str(), "tab\there"] {
        let reply = t
            .call_with(
                "POST",
                "/recipes",
                Some(&token),
                Some(recipe("Keyed")),
                &[("idempotency-key", key)],
            )
            .await;
        assert_problem(&reply, StatusCode::BAD_REQUEST);
    }
    let ok = "k".repeat(255);
    let reply = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(recipe("Keyed")),
            &[("idempotency-key", ok.as_str())],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "255 visible characters are a valid key"
    );
}

#[tokio::test]
async fn missing_bad_and_expired_tokens_are_401s_with_a_bearer_challenge() {
    let t = spawn_app();
    let mut expired = id_claims("alice", &[]);
    expired["exp"] = json!(now() - 3600);
    let cases = [
        (None, "Bearer"),
        (
            Some("not-a-jwt".to_owned()),
            "Bearer error=\"invalid_token\"",
        ),
        (
            Some(t.signer.sign(&expired).unwrap()),
            "Bearer error=\"invalid_token\"",
        ),
    ];
    for (token, challenge) in cases {
        let reply = t.call("GET", "/recipes", token.as_deref(), None).await;
        assert_problem(&reply, StatusCode::UNAUTHORIZED);
        assert_eq!(reply.header("www-authenticate"), Some(challenge));
    }
    let basic = t
        .call_with(
            "GET",
            "/recipes",
            None,
            None,
            &[("authorization", "Basic YWxpY2U6eA==")],
        )
        .await;
    assert_problem(&basic, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn authentication_is_checked_before_anything_else_on_recipes() {
    let t = spawn_app();
    let id = RecipeId::new();
    let huge = "x".repeat(300 * 1024);
    let cases: Vec<Request<Body>> = vec![
        Request::post("/recipes")
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("hi"))
            .unwrap(),
        Request::post("/recipes")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{bad"))
            .unwrap(),
        Request::post("/recipes")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(huge))
            .unwrap(),
        Request::post("/recipes")
            .header("idempotency-key", "bad key")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap(),
        Request::get("/recipes?limit=0")
            .body(Body::empty())
            .unwrap(),
        Request::get(format!("/recipes/{id}?servings=0"))
            .body(Body::empty())
            .unwrap(),
        Request::get("/recipes/not-a-uuid")
            .body(Body::empty())
            .unwrap(),
        Request::delete(format!("/recipes/{id}"))
            .header(header::IF_MATCH, "\"1\"")
            .body(Body::empty())
            .unwrap(),
    ];
    for request in cases {
        let label = format!("{} {}", request.method(), request.uri());
        let reply = t.send(request).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{label}: {}",
            reply.body
        );
    }
}

#[tokio::test]
async fn missing_foreign_and_malformed_ids_are_404s() {
    let t = spawn_app();
    let created = t.create(&t.token("alice"), recipe("Alice's")).await;
    let bob = t.token("bob");
    for uri in [
        format!("/recipes/{}", RecipeId::new()),
        format!("/recipes/{}", created["id"].as_str().unwrap()),
        "/recipes/not-a-uuid".to_owned(),
    ] {
        assert_problem(
            &t.call("GET", &uri, Some(&bob), None).await,
            StatusCode::NOT_FOUND,
        );
    }
    assert_problem(
        &t.call("GET", "/nope", None, None).await,
        StatusCode::NOT_FOUND,
    );
}

#[tokio::test]
async fn a_wrong_method_is_a_405_with_allow() {
    let t = spawn_app();
    let token = t.token("alice");
    let reply = t.call("DELETE", "/recipes", Some(&token), None).await;
    assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED);
    let allow = reply.header("allow").unwrap_or_default().to_owned();
    for method in ["GET", "POST"] {
        assert!(allow.contains(method), "Allow: {allow}");
    }
    let reply = t
        .call(
            "POST",
            &format!("/recipes/{}", RecipeId::new()),
            Some(&token),
            None,
        )
        .await;
    assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED);
    let allow = reply.header("allow").unwrap_or_default().to_owned();
    for method in ["GET", "PUT", "PATCH", "DELETE"] {
        assert!(allow.contains(method), "Allow: {allow}");
    }
    let reply = t.call("POST", "/health", None, None).await;
    assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED);
    assert!(reply.header("allow").unwrap_or_default().contains("GET"));
    // Like every response the service produces: its request id and the CORS headers.
    assert!(
        reply
            .header("x-request-id")
            .is_some_and(|id| !id.is_empty())
    );
    let reply = t
        .call_with(
            "POST",
            "/health",
            None,
            None,
            &[("origin", "https://app.example.com")],
        )
        .await;
    assert_problem(&reply, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
}

#[tokio::test]
async fn a_stale_if_match_is_a_412_and_changes_nothing() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Original")).await;
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());
    let reply = t
        .call_with(
            "PUT",
            &uri,
            Some(&token),
            Some(recipe("Changed")),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_problem(&reply, StatusCode::PRECONDITION_FAILED);
    let now = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(now.body["title"], "Original");
    assert_eq!(now.body["version"], 1);
}

#[tokio::test]
async fn a_body_over_256_kib_is_a_413() {
    let t = spawn_app();
    let mut body = recipe("Huge");
    body["description"] = json!("x".repeat(256 * 1024));
    let reply = t
        .call("POST", "/recipes", Some(&t.token("alice")), Some(body))
        .await;
    assert_problem(&reply, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_415() {
    let t = spawn_app();
    let token = t.token("alice");
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut builder =
            Request::post("/recipes").header(header::AUTHORIZATION, format!("Bearer {token}"));
        if let Some(ct) = content_type {
            builder = builder.header(header::CONTENT_TYPE, ct);
        }
        let body = Body::from(serde_json::to_vec(&recipe("Typed")).unwrap());
        assert_problem(
            &t.send(builder.body(body).unwrap()).await,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        );
    }
    let reply = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(recipe("merge")),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_problem(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let reply = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(recipe("charset")),
            &[("content-type", "application/json; charset=utf-8")],
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "JSON with a charset parameter is JSON"
    );
}

#[tokio::test]
async fn invalid_values_are_422s_with_pointers() {
    let t = spawn_app();
    let token = t.token("alice");
    let mut negative = recipe("Negative");
    negative["servings"] = json!(-1);
    let reply = t
        .call("POST", "/recipes", Some(&token), Some(negative))
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), vec!["/servings"]);

    let mut missing = recipe("Missing");
    missing.as_object_mut().unwrap().remove("title");
    let reply = t
        .call("POST", "/recipes", Some(&token), Some(missing))
        .await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&reply), vec!["/title"]);

    let mut amount = recipe("Amount");
    amount["ingredients"][0]["quantity"]["amount"] = json!(0);
    amount["tags"] = json!(["a", "A"]);
    let reply = t.call("POST", "/recipes", Some(&token), Some(amount)).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    let found = pointers(&reply);
    assert!(
        found.contains(&"/ingredients/0/quantity/amount".to_owned()),
        "{found:?}"
    );
    assert!(found.contains(&"/tags/1".to_owned()), "{found:?}");
}

#[tokio::test]
async fn bad_list_parameters_are_422s() {
    let t = spawn_app();
    let token = t.token("alice");
    for query in [
        "limit=0",
        "limit=101",
        "limit=ten",
        "cursor=forged",
        "owner=bob",
        "tag=",
        "tag=no%20spaces",
        "tag=ok&tag=no%20spaces",
        "q=%20-%20",
        "limit=5&limit=6",
    ] {
        let reply = t
            .call("GET", &format!("/recipes?{query}"), Some(&token), None)
            .await;
        assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY);
    }
    for query in [
        "limit=1",
        "limit=100",
        "tag=Italian",
        "tag=italian&tag=quick",
        "ingredient=Garlic",
        "q=pasta",
        "unknown=ignored",
    ] {
        let reply = t
            .call("GET", &format!("/recipes?{query}"), Some(&token), None)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.body);
    }
    for servings in ["0", "1001", "two", "-1"] {
        let created = t.create(&token, recipe("Scaled")).await;
        let uri = format!(
            "/recipes/{}?servings={servings}",
            created["id"].as_str().unwrap()
        );
        assert_problem(
            &t.call("GET", &uri, Some(&token), None).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
}

/// A store whose every call fails as if DynamoDB were throttling or unreachable, or (`Hung`)
/// never answers at all, as a store behind a black-holed network does, or (`Wedged`) whose
/// in-process part reports it can no longer serve (as the embedded store's writer thread gone).
#[derive(Debug)]
enum DownStore {
    Refusing,
    Hung,
    Wedged,
}

impl DownStore {
    async fn down(&self) -> StoreError {
        if let DownStore::Hung = self {
            std::future::pending::<()>().await;
        }
        StoreError::Unavailable {
            retry_after: Duration::from_secs(2),
            source: anyhow::anyhow!("connection refused"),
        }
    }
}

#[async_trait]
impl RecipeStore for DownStore {
    fn health(&self) -> anyhow::Result<()> {
        match self {
            DownStore::Wedged => Err(anyhow::anyhow!("the store's writer thread has stopped")),
            DownStore::Refusing | DownStore::Hung => Ok(()),
        }
    }
    async fn get(&self, _: RecipeId, _: Scope<'_>) -> Result<Option<Recipe>, StoreError> {
        Err(self.down().await)
    }
    async fn list(&self, _: &ListQuery) -> Result<Page, StoreError> {
        Err(self.down().await)
    }
    async fn create(&self, _: &Recipe, _: Option<&IdempotencyRecord>) -> Result<(), StoreError> {
        Err(self.down().await)
    }
    async fn update(
        &self,
        _: RecipeId,
        _: Scope<'_>,
        _: &Change<'_>,
    ) -> Result<Result<Recipe, Refusal>, StoreError> {
        Err(self.down().await)
    }
    async fn delete(
        &self,
        _: RecipeId,
        _: Scope<'_>,
        _: &Check<'_>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        Err(self.down().await)
    }
    async fn update_photo(
        &self,
        _: RecipeId,
        _: Scope<'_>,
        _: &gota_core::store::PhotoChange<'_>,
    ) -> Result<Result<(Recipe, Option<gota_domain::photo::Photo>), Refusal>, StoreError> {
        Err(self.down().await)
    }
    async fn claim_idempotency_key(
        &self,
        _: &IdempotencyClaim,
    ) -> Result<ClaimOutcome, StoreError> {
        Err(self.down().await)
    }
    async fn release_idempotency_key(
        &self,
        _: &IdempotencyScope,
        _: time::OffsetDateTime,
    ) -> Result<(), StoreError> {
        Err(self.down().await)
    }
}

#[tokio::test]
async fn an_unavailable_store_is_a_503_with_retry_after_and_health_stays_up() {
    let t = spawn_app_with_store(std::sync::Arc::new(DownStore::Refusing));
    let token = t.token("alice");
    for (method, uri, body) in [
        ("GET", "/recipes".to_owned(), None),
        ("POST", "/recipes".to_owned(), Some(recipe("Down"))),
        ("GET", format!("/recipes/{}", RecipeId::new()), None),
    ] {
        let reply = t.call(method, &uri, Some(&token), body).await;
        assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(reply.header("retry-after"), Some("2"));
        assert!(
            !reply.body["detail"]
                .as_str()
                .unwrap()
                .contains("connection refused"),
            "no internals leak"
        );
    }
    let health = t.call("GET", "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
}

#[tokio::test]
async fn health_is_a_503_problem_when_the_store_cannot_serve_in_this_process() {
    let t = spawn_app_with_store(std::sync::Arc::new(DownStore::Wedged));
    let health = t.call("GET", "/health", None, None).await;
    assert_problem(&health, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(health.body["type"], "urn:gota:problem:unavailable");
    assert_eq!(health.header("retry-after"), Some("1"));
    assert!(
        !health.body["detail"]
            .as_str()
            .unwrap()
            .contains("writer thread"),
        "no internals leak"
    );
}

/// Every response producer the stack has, not only the handlers.
#[tokio::test]
async fn preflights_options_and_every_framework_response_carry_the_security_headers() {
    let t = spawn_app();
    let preflight = t
        .call_with(
            "OPTIONS",
            "/recipes",
            None,
            None,
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "POST"),
                (
                    "access-control-request-headers",
                    "authorization, content-type",
                ),
            ],
        )
        .await;
    assert_eq!(preflight.status, StatusCode::OK);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("*"),
        "production CORS stays any-origin"
    );
    assert_common_headers(&preflight);

    let plain_options = t.call("OPTIONS", "/recipes", None, None).await;
    assert_common_headers(&plain_options);

    let head = t.call("HEAD", "/health", None, None).await;
    assert_eq!(head.status, StatusCode::OK);
    assert_common_headers(&head);

    let token = t.token("alice");
    assert_problem(
        &t.call("DELETE", "/recipes", Some(&token), None).await,
        StatusCode::METHOD_NOT_ALLOWED,
    );
    assert_problem(
        &t.call("GET", "/nope", None, None).await,
        StatusCode::NOT_FOUND,
    );
    let mut body = recipe("Huge");
    body["description"] = json!("x".repeat(300 * 1024));
    assert_problem(
        &t.call("POST", "/recipes", Some(&token), Some(body)).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    );
}

#[tokio::test]
async fn the_request_id_in_the_response_is_the_servers_never_the_clients() {
    let t = spawn_app();
    let reply = t
        .call_with(
            "GET",
            "/health",
            None,
            None,
            &[("x-request-id", "chosen-by-client")],
        )
        .await;
    let id = reply.header("x-request-id").unwrap();
    assert_ne!(id, "chosen-by-client");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

/// Lambda stops the function at its timeout (10 s) and API Gateway then answers for it, without
/// `Retry-After` or a problem body; every request must be answered by the service before that.
#[tokio::test(start_paused = true)]
async fn a_store_that_never_answers_is_a_503_with_retry_after_before_the_lambda_timeout() {
    let t = spawn_app_with_store(std::sync::Arc::new(DownStore::Hung));
    let token = t.token("alice");
    let started = tokio::time::Instant::now();
    let id = RecipeId::new();
    for (method, uri, body) in [
        ("GET", "/recipes".to_owned(), None),
        ("POST", "/recipes".to_owned(), Some(recipe("Hung"))),
        ("GET", format!("/recipes/{id}"), None),
        ("PUT", format!("/recipes/{id}"), Some(recipe("Hung"))),
        ("DELETE", format!("/recipes/{id}"), None),
    ] {
        let sent = tokio::time::Instant::now();
        let reply = tokio::time::timeout(
            Duration::from_secs(30),
            t.call(method, &uri, Some(&token), body),
        )
        .await
        .unwrap_or_else(|_| panic!("{method} {uri} was still waiting after 30 s"));
        assert_problem(&reply, StatusCode::SERVICE_UNAVAILABLE);
        assert!(reply.header("retry-after").is_some(), "{method} {uri}");
        assert_eq!(
            sent.elapsed(),
            gota_core::http::REQUEST_DEADLINE,
            "{method} {uri}"
        );
    }
    assert!(gota_core::http::REQUEST_DEADLINE < Duration::from_secs(10));
    assert!(started.elapsed() >= 5 * gota_core::http::REQUEST_DEADLINE);
}

#[tokio::test]
async fn a_body_of_the_wrong_json_shape_is_a_400_that_names_no_rust_type() {
    let t = spawn_app();
    let token = t.token("alice");
    for body in [
        json!([]),
        json!({"title": "x", "ingredients": [[]], "steps": [{"text": "s"}]}),
    ] {
        let reply = t
            .call("POST", "/recipes", Some(&token), Some(body.clone()))
            .await;
        assert_problem(&reply, StatusCode::BAD_REQUEST);
        let text = reply.body.to_string();
        assert!(
            !text.contains("struct") && !text.contains("Input"),
            "{body}: {text}"
        );
        assert!(text.contains("expected a JSON object"), "{body}: {text}");
    }
}
