//! What the in-process benches share: the REST v1 events, the invocation as the Lambda runtime
//! makes it, Gota and its constant-JSON baseline, seeding, and the request cases.

use std::sync::Arc;

use axum::Router;
use axum::http::header;
use axum::routing::get;
use gota_core::auth::{JwksSource, RsaSigner, TokenVerifier, VerifierConfig};
use gota_core::http::cursor::CursorCodec;
use gota_core::http::{Api, ApiState};
use gota_core::store::embedded::EmbeddedStore;
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Context, LambdaEvent, Service as _};
use serde_json::{Value, json};
use tokio::runtime::Runtime;

/// The caller of the shared REST v1 event fixtures (their authorizer claims).
pub const OWNER: &str = "6f1d0c9e-1b2a-4c3d-9e8f-0a1b2c3d4e5f";
pub const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test";
pub const CLIENT_ID: &str = "test-client";
/// Recipes the owner has before the request cases, so a list has a full page of 20.
pub const SEEDED: usize = 25;

pub type GotaAdapter = Adapter<'static, axum::response::Response, Api>;
pub type BaselineAdapter = Adapter<'static, axum::response::Response, Router>;

/// A realistic recipe (8 ingredients, 6 steps, 3 tags: what a POST validates in full), from
/// the shared fixtures.
pub fn recipe(title: &str) -> Value {
    gota_testkit::fixtures::large_recipe(title)
}

/// A REST v1 proxy event for stage `prod` (the shared fixture), with Cognito authorizer claims
/// (or, when `bearer` is given, no claims and that Authorization header), serialized as the
/// runtime receives it.
pub fn rest_v1_event(
    method: &str,
    path: &str,
    query: Option<&Value>,
    body: Option<&Value>,
    bearer: Option<&str>,
) -> Vec<u8> {
    let mut event = gota_testkit::fixtures::rest_v1_event(method, path, body);
    let mut set_header = |name: &str, value: String| {
        event["headers"][name] = json!(value);
        event["multiValueHeaders"][name] = json!([value]);
    };
    if body.is_some() && method == "PATCH" {
        set_header("Content-Type", "application/merge-patch+json".to_owned());
    }
    if let Some(token) = bearer {
        set_header("Authorization", format!("Bearer {token}"));
        event["requestContext"]["authorizer"] = json!({});
    }
    if let Some(query) = query {
        event["queryStringParameters"] = query.clone();
        event["multiValueQueryStringParameters"] = query
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    serde_json::to_vec(&event).unwrap()
}

/// What the Lambda runtime does with one invocation once the event bytes are in: parse the
/// event, call the service through lambda_http's adapter, serialize the response.
pub async fn invoke<S>(
    adapter: &mut Adapter<'static, axum::response::Response, S>,
    event: &[u8],
) -> Vec<u8>
where
    S: tower::Service<
            lambda_http::Request,
            Response = axum::response::Response,
            Error = std::convert::Infallible,
        >,
    S::Future: Send + 'static,
{
    let request: LambdaRequest = serde_json::from_slice(event).unwrap();
    let response = adapter
        .call(LambdaEvent::new(request, Context::default()))
        .await
        .unwrap();
    serde_json::to_vec(&response).unwrap()
}

pub fn status_of(response: &[u8]) -> u64 {
    serde_json::from_slice::<Value>(response).unwrap()["statusCode"]
        .as_u64()
        .unwrap()
}

pub fn body_of(response: &[u8]) -> Value {
    let outer: Value = serde_json::from_slice(response).unwrap();
    serde_json::from_str(outer["body"].as_str().unwrap()).unwrap()
}

/// Gota in Lambda mode (trusts authorizer claims), embedded store in memory.
pub fn gota_app(signer: &RsaSigner) -> GotaAdapter {
    let store = Arc::new(EmbeddedStore::in_memory().unwrap());
    Adapter::from(Api::new(
        ApiState {
            store,
            verifier: TokenVerifier::new(VerifierConfig::new(
                ISSUER,
                vec![CLIENT_ID.to_owned()],
                JwksSource::Static(signer.jwks()),
            )),
            trust_authorizer_context: true,
            admin_group: "admin".into(),
            cursors: CursorCodec::new(&[7; 32]),
            dev_issuer: None,
            metrics: gota_core::metrics::Metrics::off(),
            fetcher: gota_core::fetch::Fetcher::production(),
            photos: None,
            local_photos: None,
            photo_queue: None,
        },
        true,
    ))
}

/// The baseline: the same routes under lambda_http + axum, answering constant JSON.
pub fn baseline_app() -> BaselineAdapter {
    const BODY: &str = r#"{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","title":"constant"}"#;
    let constant = || async { ([(header::CONTENT_TYPE, "application/json")], BODY) };
    Adapter::from(
        Router::new()
            .route("/prod/recipes", get(constant).post(constant))
            .route("/prod/recipes/{id}", get(constant).patch(constant)),
    )
}

/// Creates `body` through the API itself (so stored items are exactly what POST writes) and
/// returns the new id.
pub fn create(rt: &Runtime, gota: &mut GotaAdapter, body: &Value) -> String {
    let created = rt.block_on(invoke(
        gota,
        &rest_v1_event("POST", "/recipes", None, Some(body), None),
    ));
    assert_eq!(
        status_of(&created),
        201,
        "seeding: {}",
        String::from_utf8_lossy(&created)
    );
    body_of(&created)["id"].as_str().unwrap().to_owned()
}

pub struct Case {
    pub name: &'static str,
    pub event: Vec<u8>,
    pub expect: u64,
    /// Items a successful answer lists, for the list cases.
    pub items: Option<usize>,
}

impl Case {
    /// Panics unless `gota` answers this case on its success path, and the baseline with 200:
    /// the benches measure the path the case names.
    pub fn check(&self, rt: &Runtime, gota: &mut GotaAdapter, baseline: &mut BaselineAdapter) {
        let first = rt.block_on(invoke(gota, &self.event));
        assert_eq!(
            status_of(&first),
            self.expect,
            "{}: {}",
            self.name,
            String::from_utf8_lossy(&first)
        );
        if let Some(items) = self.items {
            assert_eq!(
                body_of(&first)["items"].as_array().unwrap().len(),
                items,
                "{}",
                self.name
            );
        }
        assert_eq!(status_of(&rt.block_on(invoke(baseline, &self.event))), 200);
    }
}

/// Seeds [`SEEDED`] recipes and returns the request cases: GET by id (authorizer claims, and a
/// bearer `token` verified in-process), a list of 20, POST, PATCH.
pub fn request_cases(rt: &Runtime, gota: &mut GotaAdapter, token: &str) -> Vec<Case> {
    let ids: Vec<String> = (0..SEEDED)
        .map(|i| create(rt, gota, &recipe(&format!("Pizza {i}"))))
        .collect();
    let id = &ids[0];
    vec![
        Case {
            name: "get_by_id",
            event: rest_v1_event("GET", &format!("/recipes/{id}"), None, None, None),
            expect: 200,
            items: None,
        },
        Case {
            name: "get_by_id_bearer",
            event: rest_v1_event("GET", &format!("/recipes/{id}"), None, None, Some(token)),
            expect: 200,
            items: None,
        },
        Case {
            name: "list_20",
            event: rest_v1_event("GET", "/recipes", Some(&json!({"limit": "20"})), None, None),
            expect: 200,
            items: Some(20),
        },
        Case {
            name: "post",
            event: rest_v1_event("POST", "/recipes", None, Some(&recipe("Margherita")), None),
            expect: 201,
            items: None,
        },
        Case {
            name: "patch",
            event: rest_v1_event(
                "PATCH",
                &format!("/recipes/{}", ids[1]),
                None,
                Some(&json!({"title": "Marinara", "servings": 3, "tags": ["italian"]})),
                None,
            ),
            expect: 200,
            items: None,
        },
    ]
}

/// A token for [`OWNER`] that `gota_app(signer)` accepts.
pub fn owner_token(signer: &RsaSigner) -> String {
    signer
        .sign(&json!({
            "sub": OWNER, "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id",
            "iat": unix_now(), "exp": unix_now() + 24 * 3600, "cognito:username": "alice",
        }))
        .unwrap()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}
