//! What several black-box modules share.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;

/// `method url` with the bearer `token`, `body` as JSON and `headers`; the answer's status,
/// headers and JSON body (`null` when it has none).
pub(crate) async fn send(
    http: &reqwest::Client,
    method: &str,
    url: String,
    token: &str,
    body: Option<Value>,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Value) {
    let mut request = http
        .request(method.parse().unwrap(), url)
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}
