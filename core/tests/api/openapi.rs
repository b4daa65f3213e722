//! The served OpenAPI document describes what the server really does.

use axum::http::StatusCode;
use gota_domain::RecipeId;
use serde_json::{Value, json};

use crate::support::*;

fn documented(doc: &Value, path: &str, method: &str) -> Vec<u16> {
    doc["paths"][path][method]["responses"]
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} is not documented"))
        .keys()
        .map(|k| k.parse().unwrap())
        .collect()
}

#[tokio::test]
async fn the_document_is_openapi_3_1_with_bearer_security_and_the_problem_schema() {
    let t = spawn_app();
    let doc = t.call("GET", "/openapi.json", None, None).await.body;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for schema in ["Problem", "RecipeInput", "FieldError"] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    for (path, methods) in [
        ("/recipes", vec!["get", "post"]),
        ("/recipes/{id}", vec!["get", "put", "patch", "delete"]),
    ] {
        for method in methods {
            assert_eq!(
                doc["paths"][path][method]["security"],
                json!([{"bearer": []}]),
                "{method} {path}"
            );
        }
    }
    assert!(
        doc["paths"]["/health"]["get"]["security"].is_null(),
        "health is public"
    );
    assert!(
        doc["paths"].get("/dev/token").is_none(),
        "dev routes only appear in dev mode"
    );
}

#[tokio::test]
async fn documented_statuses_match_real_responses() {
    let t = spawn_app();
    let doc = t.call("GET", "/openapi.json", None, None).await.body;
    let token = t.token("alice");
    let mut observed: Vec<(&str, &str, StatusCode)> = Vec::new();

    let created = t
        .call("POST", "/recipes", Some(&token), Some(recipe("Doc")))
        .await;
    observed.push(("/recipes", "post", created.status));
    observed.push((
        "/recipes",
        "post",
        t.call("POST", "/recipes", None, Some(recipe("x")))
            .await
            .status,
    ));
    observed.push((
        "/recipes",
        "post",
        t.call("POST", "/recipes", Some(&token), Some(json!({})))
            .await
            .status,
    ));
    observed.push((
        "/recipes",
        "get",
        t.call("GET", "/recipes", Some(&token), None).await.status,
    ));
    observed.push((
        "/recipes",
        "get",
        t.call("GET", "/recipes?limit=0", Some(&token), None)
            .await
            .status,
    ));
    let uri = format!("/recipes/{}", created.body["id"].as_str().unwrap());
    observed.push((
        "/recipes/{id}",
        "get",
        t.call("GET", &uri, Some(&token), None).await.status,
    ));
    observed.push((
        "/recipes/{id}",
        "get",
        t.call_with(
            "GET",
            &uri,
            Some(&token),
            None,
            &[("if-none-match", "\"1\"")],
        )
        .await
        .status,
    ));
    observed.push((
        "/recipes/{id}",
        "get",
        t.call(
            "GET",
            &format!("/recipes/{}", RecipeId::new()),
            Some(&token),
            None,
        )
        .await
        .status,
    ));
    observed.push((
        "/recipes/{id}",
        "put",
        t.call_with(
            "PUT",
            &uri,
            Some(&token),
            Some(recipe("y")),
            &[("if-match", "\"9\"")],
        )
        .await
        .status,
    ));
    observed.push((
        "/recipes/{id}",
        "patch",
        t.call("PATCH", &uri, Some(&token), Some(json!({"title": "z"})))
            .await
            .status,
    ));
    observed.push((
        "/recipes/{id}",
        "delete",
        t.call("DELETE", &uri, Some(&token), None).await.status,
    ));
    observed.push((
        "/health",
        "get",
        t.call("GET", "/health", None, None).await.status,
    ));

    for (path, method, status) in observed {
        assert!(
            documented(&doc, path, method).contains(&status.as_u16()),
            "{method} {path} answered {status}, which the document does not list"
        );
    }
}
