//! The Lambda start-up baseline for `make bench`: lambda_http running an axum router that
//! answers constant JSON, with no Gota code (no config, store, SDK or verifier).

use axum::Router;
use axum::routing::get;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    let health = get(|| async { axum::Json(serde_json::json!({"status": "ok"})) });
    // lambda_http leaves a REST API's stage in the path.
    let app = Router::new()
        .route("/health", health.clone())
        .route("/{stage}/health", health);
    lambda_http::run(app).await
}
