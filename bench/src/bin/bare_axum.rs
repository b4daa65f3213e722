//! The ceiling for `make bench`: axum on tokio answering small constant JSON on the paths the
//! benchmark drives, with no Gota code at all. Serves on `GOTA_LISTEN` (default 127.0.0.1:3001).

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

const HEALTH: &str = r#"{"status":"ok","version":"0.1.0"}"#;
const RECIPE: &str =
    r#"{"id":"0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","title":"constant","servings":2}"#;

fn json(status: StatusCode, body: &'static str) -> impl IntoResponse {
    (status, [(header::CONTENT_TYPE, "application/json")], body)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = Router::new()
        .route("/health", get(|| async { json(StatusCode::OK, HEALTH) }))
        .route(
            "/recipes/{id}",
            get(|| async { json(StatusCode::OK, RECIPE) }),
        )
        .route(
            "/recipes",
            post(|_body: axum::body::Bytes| async { json(StatusCode::CREATED, RECIPE) }),
        );
    let listen = std::env::var("GOTA_LISTEN").unwrap_or_else(|_| "127.0.0.1:3001".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
