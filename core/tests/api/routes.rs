//! The route table is the router: every operation it lists is served with the access it
//! states, and the OpenAPI document lists the same operations.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use gota_core::http::openapi::document;
use gota_core::http::routes::{Access, Operation};
use gota_core::http::{Surface, operations};

use crate::support::*;

fn openapi_operations(surface: Surface) -> BTreeSet<(String, String, bool)> {
    let doc = serde_json::to_value(document(surface)).unwrap();
    let mut found = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let bearer = op["security"].as_array().is_some_and(|s| !s.is_empty());
            found.insert((method.to_uppercase(), path.clone(), bearer));
        }
    }
    found
}

fn documented(ops: &[Operation]) -> BTreeSet<(String, String, bool)> {
    ops.iter()
        .filter(|op| op.documented)
        .map(|op| {
            (
                op.method.as_str().to_owned(),
                op.path.to_owned(),
                op.access == Access::Bearer,
            )
        })
        .collect()
}

#[test]
fn the_router_and_the_openapi_document_list_the_same_operations_with_the_same_security() {
    let surfaces = [false, true].into_iter().flat_map(|dev_auth| {
        [false, true].map(|local_photos| Surface {
            dev_auth,
            local_photos,
        })
    });
    for surface in surfaces {
        let ops = operations(surface);
        assert!(ops.len() >= 8, "{ops:?}");
        assert_eq!(documented(&ops), openapi_operations(surface), "{surface:?}");
        let unique: BTreeSet<_> = ops.iter().map(|op| (op.method, op.path)).collect();
        assert_eq!(unique.len(), ops.len(), "an operation listed twice");
    }
    let undocumented: Vec<_> = operations(Surface::ALL)
        .into_iter()
        .filter(|op| !op.documented)
        .map(|op| op.path)
        .collect();
    assert_eq!(
        undocumented,
        [
            "/openapi.json",
            "/docs",
            "/docs/init.js",
            "/docs/swagger-ui-bundle-5.35.0.js",
            "/docs/swagger-ui-5.35.0.css",
            "/dev/jwks.json"
        ]
    );
}

/// Drives each listed operation through the router without a token: a bearer operation is a
/// 401 (so it really runs the `Caller` extractor), a public one is served (never a 401, and
/// never the router's 404 or 405, which would mean the table lists what is not routed).
#[tokio::test]
async fn every_listed_operation_is_routed_with_the_access_it_states() {
    for (app, surface) in [
        (spawn_app(), Surface::LAMBDA),
        (spawn_dev_app(), Surface::ALL),
    ] {
        for op in operations(surface) {
            let path = op
                .path
                .replace("{id}", "0190b3c4-7e4f-7a00-8000-000000000001")
                .replace("{size}", "thumb")
                .replace("{token}", "not-a-token");
            let reply = app
                .call_with(
                    op.method.as_str(),
                    &path,
                    None,
                    None,
                    &[("Origin", "http://127.0.0.1")],
                )
                .await;
            let what = format!(
                "{} {} ({surface:?}): {}",
                op.method.as_str(),
                op.path,
                reply.status
            );
            match op.access {
                Access::Bearer => assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{what}"),
                Access::Public => assert!(
                    ![
                        StatusCode::UNAUTHORIZED,
                        StatusCode::NOT_FOUND,
                        StatusCode::METHOD_NOT_ALLOWED
                    ]
                    .contains(&reply.status),
                    "{what}"
                ),
            }
        }
    }
}

#[test]
fn lambda_serves_no_dev_route_and_dev_auth_adds_only_dev_routes() {
    let lambda: BTreeSet<_> = operations(Surface::LAMBDA).into_iter().collect();
    let dev: BTreeSet<_> = operations(Surface {
        dev_auth: true,
        local_photos: false,
    })
    .into_iter()
    .collect();
    assert!(lambda.iter().all(|op| !op.path.starts_with("/dev/")));
    assert!(lambda.is_subset(&dev));
    assert!(
        dev.difference(&lambda)
            .all(|op| op.path.starts_with("/dev/"))
    );
}

#[test]
fn lambda_serves_no_local_photo_url_and_local_photos_add_only_theirs() {
    let lambda: BTreeSet<_> = operations(Surface::LAMBDA).into_iter().collect();
    let local: BTreeSet<_> = operations(Surface {
        dev_auth: false,
        local_photos: true,
    })
    .into_iter()
    .collect();
    let added: Vec<_> = local
        .difference(&lambda)
        .map(|op| (op.method.as_str(), op.path, op.access))
        .collect();
    assert!(lambda.is_subset(&local));
    assert_eq!(
        added,
        [
            ("GET", "/files/{token}", Access::Public),
            ("PUT", "/uploads/{token}", Access::Public)
        ]
    );
}

#[tokio::test]
async fn the_local_photo_urls_are_unknown_paths_without_local_photos() {
    let t = spawn_app();
    for (method, path) in [("PUT", "/uploads/x"), ("GET", "/files/x")] {
        let reply = t.call(method, path, None, None).await;
        assert_problem(&reply, StatusCode::NOT_FOUND);
    }
}
