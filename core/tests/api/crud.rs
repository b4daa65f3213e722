//! Create, read, replace, patch and delete; ownership (BOLA), admins, preconditions, scaling.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::*;

fn id_of(body: &Value) -> String {
    body["id"].as_str().expect("id").to_owned()
}

#[tokio::test]
async fn create_returns_201_with_location_etag_and_server_fields() {
    let t = spawn_app();
    let reply = t
        .call(
            "POST",
            "/recipes",
            Some(&t.token("alice")),
            Some(recipe("Aglio e olio")),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_common_headers(&reply);
    let id = id_of(&reply.body);
    assert_eq!(
        reply.header("location"),
        Some(format!("/recipes/{id}").as_str())
    );
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let body = &reply.body;
    assert_eq!(body["owner"], "alice");
    assert_eq!(body["version"], 1);
    assert_eq!(body["created_at"], body["updated_at"]);
    assert!(body["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        uuid::Uuid::parse_str(&id).unwrap().get_version_num(),
        7,
        "ids are UUIDv7"
    );
    // Normalised on the way in: unit spelling, tag case.
    assert_eq!(
        body["ingredients"][1]["quantity"],
        json!({"amount": 50, "unit": "g"})
    );
    assert_eq!(body["tags"], json!(["italian", "quick"]));
    assert_eq!(body["ingredients"][3], json!({"name": "salt"}));
}

#[tokio::test]
async fn get_returns_the_recipe_with_its_etag_and_304_when_current() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Readable")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    let reply = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, created);
    assert_eq!(reply.header("etag"), Some("\"1\""));
    for tag in ["\"1\"", "W/\"1\"", "\"0\", \"1\"", "*"] {
        let cached = t
            .call_with("GET", &uri, Some(&token), None, &[("if-none-match", tag)])
            .await;
        assert_eq!(
            cached.status,
            StatusCode::NOT_MODIFIED,
            "If-None-Match: {tag}"
        );
        assert!(cached.raw.is_empty());
        assert_eq!(cached.header("etag"), Some("\"1\""));
        assert_common_headers(&cached);
    }
    let stale = t
        .call_with(
            "GET",
            &uri,
            Some(&token),
            None,
            &[("if-none-match", "\"2\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::OK);
}

#[tokio::test]
async fn servings_scale_amounts_without_changing_what_is_stored() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Scalable")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    let scaled = t
        .call("GET", &format!("{uri}?servings=3"), Some(&token), None)
        .await;
    assert_eq!(scaled.status, StatusCode::OK);
    assert_eq!(scaled.body["servings"], 3);
    assert_eq!(scaled.body["ingredients"][0]["quantity"]["amount"], 300);
    assert_eq!(scaled.body["ingredients"][1]["quantity"]["amount"], 75);
    assert_eq!(scaled.body["ingredients"][3], json!({"name": "salt"}));
    let stored = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(stored.body["servings"], 2);
    assert_eq!(stored.body["ingredients"][0]["quantity"]["amount"], 200);
}

#[tokio::test]
async fn put_replaces_bumps_the_version_and_honours_if_match() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("First")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    let mut next = recipe("Second");
    next.as_object_mut().unwrap().remove("author");
    let reply = t
        .call_with(
            "PUT",
            &uri,
            Some(&token),
            Some(next),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.header("etag"), Some("\"2\""));
    assert_eq!(reply.body["title"], "Second");
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.body["created_at"], created["created_at"]);
    assert_eq!(reply.body["owner"], "alice");
    assert!(
        reply.body.get("author").is_none(),
        "a full replace drops omitted fields"
    );

    let weak = t
        .call_with(
            "PUT",
            &uri,
            Some(&token),
            Some(recipe("Third")),
            &[("if-match", "W/\"2\"")],
        )
        .await;
    assert_eq!(
        weak.status,
        StatusCode::PRECONDITION_FAILED,
        "W/ never matches If-Match"
    );
    let any = t
        .call_with(
            "PUT",
            &uri,
            Some(&token),
            Some(recipe("Third")),
            &[("if-match", "*")],
        )
        .await;
    assert_eq!(any.body["version"], 3);
    let unconditional = t
        .call("PUT", &uri, Some(&token), Some(recipe("Fourth")))
        .await;
    assert_eq!(unconditional.body["version"], 4);
}

#[tokio::test]
async fn merge_patch_changes_only_what_it_names() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Patchable")).await;
    let uri = format!("/recipes/{}", id_of(&created));

    let reply = t
        .call_with(
            "PATCH",
            &uri,
            Some(&token),
            Some(json!({"title": "Patched", "author": null, "tags": ["new"]})),
            &[
                ("content-type", "application/merge-patch+json"),
                ("if-match", "\"1\""),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["title"], "Patched");
    assert!(
        reply.body.get("author").is_none(),
        "null removes an optional field"
    );
    assert_eq!(reply.body["tags"], json!(["new"]));
    assert_eq!(
        reply.body["steps"], created["steps"],
        "untouched fields stay"
    );
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.header("etag"), Some("\"2\""));

    let empty = t.call("PATCH", &uri, Some(&token), Some(json!({}))).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert_eq!(empty.body["version"], 2, "an empty patch keeps the version");
    assert_eq!(empty.body["updated_at"], reply.body["updated_at"]);

    let invalid = t
        .call("PATCH", &uri, Some(&token), Some(json!({"servings": 0})))
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(pointers(&invalid), vec!["/servings"]);
    let required = t
        .call("PATCH", &uri, Some(&token), Some(json!({"title": null})))
        .await;
    assert_eq!(
        required.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "removing a required field"
    );
    let owner = t
        .call(
            "PATCH",
            &uri,
            Some(&token),
            Some(json!({"owner": "mallory"})),
        )
        .await;
    assert_eq!(owner.status, StatusCode::BAD_REQUEST);
    let null_id = t
        .call("PATCH", &uri, Some(&token), Some(json!({"id": null})))
        .await;
    assert_eq!(null_id.status, StatusCode::BAD_REQUEST);
    let array = t
        .call("PATCH", &uri, Some(&token), Some(json!(["x"])))
        .await;
    assert_eq!(array.status, StatusCode::BAD_REQUEST);
    let stale = t
        .call_with(
            "PATCH",
            &uri,
            Some(&token),
            Some(json!({"title": "x"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let after = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(after.body["version"], 2, "failed patches change nothing");
}

#[tokio::test]
async fn delete_honours_if_match_and_then_the_recipe_is_gone() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Deletable")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    let stale = t
        .call_with("DELETE", &uri, Some(&token), None, &[("if-match", "\"2\"")])
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let reply = t
        .call_with("DELETE", &uri, Some(&token), None, &[("if-match", "\"1\"")])
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.raw.is_empty());
    assert_common_headers(&reply);
    assert_eq!(
        t.call("GET", &uri, Some(&token), None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        t.call("DELETE", &uri, Some(&token), None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_failed_if_match_on_a_read_is_a_412_and_a_matching_one_answers_the_recipe() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Pinned read")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    for tag in ["\"2\"", "W/\"1\"", "junk"] {
        let reply = t
            .call_with("GET", &uri, Some(&token), None, &[("if-match", tag)])
            .await;
        assert_problem(&reply, StatusCode::PRECONDITION_FAILED);
    }
    for tag in ["\"1\"", "*", "\"7\", \"1\""] {
        let reply = t
            .call_with("GET", &uri, Some(&token), None, &[("if-match", tag)])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "If-Match: {tag}");
    }
}

#[tokio::test]
async fn if_none_match_on_a_write_is_a_412_when_it_matches_and_changes_nothing() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Guarded")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    for (method, body) in [
        ("PUT", Some(recipe("Overwritten"))),
        ("PATCH", Some(json!({"title": "Overwritten"}))),
        ("DELETE", None),
    ] {
        // `*` matches any current representation; a listed tag by weak comparison.
        for tag in ["*", "\"1\"", "W/\"1\"", "\"7\", \"1\""] {
            let reply = t
                .call_with(
                    method,
                    &uri,
                    Some(&token),
                    body.clone(),
                    &[("if-none-match", tag)],
                )
                .await;
            assert_problem(&reply, StatusCode::PRECONDITION_FAILED);
            assert_eq!(
                reply.body["type"], "urn:gota:problem:precondition-failed",
                "{method} If-None-Match: {tag}"
            );
        }
        // Both headers: If-Match passes (step 1), If-None-Match still fails (step 3).
        let reply = t
            .call_with(
                method,
                &uri,
                Some(&token),
                body.clone(),
                &[("if-match", "\"1\""), ("if-none-match", "*")],
            )
            .await;
        assert_problem(&reply, StatusCode::PRECONDITION_FAILED);
    }
    let untouched = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(
        untouched.body, created,
        "no failed precondition changed anything"
    );

    let proceeds = t
        .call_with(
            "PUT",
            &uri,
            Some(&token),
            Some(recipe("Newer")),
            &[("if-none-match", "\"7\"")],
        )
        .await;
    assert_eq!(
        proceeds.status,
        StatusCode::OK,
        "a tag that does not match lets the write go on"
    );
    assert_eq!(proceeds.body["version"], 2);

    let bob = t.token("bob");
    let foreign = t
        .call_with("DELETE", &uri, Some(&bob), None, &[("if-none-match", "*")])
        .await;
    assert_problem(&foreign, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_invalid_patch_is_a_422_whatever_the_preconditions_say_as_for_put() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Checked")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    for header in [("if-match", "\"9\""), ("if-none-match", "*")] {
        let patch = t
            .call_with(
                "PATCH",
                &uri,
                Some(&token),
                Some(json!({"servings": -1})),
                &[header],
            )
            .await;
        assert_problem(&patch, StatusCode::UNPROCESSABLE_ENTITY);
        let mut body = recipe("Checked");
        body["servings"] = json!(-1);
        let put = t
            .call_with("PUT", &uri, Some(&token), Some(body), &[header])
            .await;
        assert_problem(&put, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn date_preconditions_are_ignored_because_the_etag_is_the_only_validator() {
    let t = spawn_app();
    let token = t.token("alice");
    let created = t.create(&token, recipe("Dated")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    let epoch = "Thu, 01 Jan 1970 00:00:00 GMT";
    let put = t
        .call_with(
            "PUT",
            &uri,
            Some(&token),
            Some(recipe("Still written")),
            &[("if-unmodified-since", epoch)],
        )
        .await;
    assert_eq!(put.status, StatusCode::OK);
    let get = t
        .call_with(
            "GET",
            &uri,
            Some(&token),
            None,
            &[("if-modified-since", "Fri, 01 Jan 9999 00:00:00 GMT")],
        )
        .await;
    assert_eq!(get.status, StatusCode::OK);
}

#[tokio::test]
async fn another_users_recipe_is_a_404_on_every_verb_even_with_a_valid_if_match() {
    let t = spawn_app();
    let alice = t.token("alice");
    let bob = t.token("bob");
    let created = t.create(&alice, recipe("Private")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    for (method, body) in [
        ("GET", None),
        ("PUT", Some(recipe("Stolen"))),
        ("PATCH", Some(json!({"title": "Stolen"}))),
        ("DELETE", None),
    ] {
        for if_match in [None, Some("\"1\""), Some("\"9\""), Some("*")] {
            let headers: Vec<(&str, &str)> =
                if_match.map(|v| vec![("if-match", v)]).unwrap_or_default();
            let reply = t
                .call_with(method, &uri, Some(&bob), body.clone(), &headers)
                .await;
            assert_problem(&reply, StatusCode::NOT_FOUND);
        }
    }
    let list = t.call("GET", "/recipes", Some(&bob), None).await;
    assert_eq!(
        list.body["items"],
        json!([]),
        "bob's list does not show alice's recipe"
    );
    let untouched = t.call("GET", &uri, Some(&alice), None).await;
    assert_eq!(untouched.body, created, "nothing bob did changed it");
}

#[tokio::test]
async fn admins_reach_every_recipe_and_keep_the_original_owner() {
    let t = spawn_app();
    let alice = t.token("alice");
    let admin = t.admin_token("root");
    let created = t.create(&alice, recipe("Moderated")).await;
    let uri = format!("/recipes/{}", id_of(&created));
    assert_eq!(
        t.call("GET", &uri, Some(&admin), None).await.status,
        StatusCode::OK
    );
    let patched = t
        .call(
            "PATCH",
            &uri,
            Some(&admin),
            Some(json!({"title": "Moderated!"})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK);
    assert_eq!(
        patched.body["owner"], "alice",
        "an admin's write keeps the owner"
    );
    let replaced = t
        .call("PUT", &uri, Some(&admin), Some(recipe("Replaced by admin")))
        .await;
    assert_eq!(replaced.body["owner"], "alice");
    let listed = t
        .call("GET", "/recipes?owner=alice", Some(&admin), None)
        .await;
    assert_eq!(listed.body["items"][0]["id"], created["id"]);
    let own = t.call("GET", "/recipes", Some(&admin), None).await;
    assert_eq!(
        own.body["items"],
        json!([]),
        "without owner an admin lists their own"
    );
    assert_eq!(
        t.call("DELETE", &uri, Some(&admin), None).await.status,
        StatusCode::NO_CONTENT
    );

    let lookalike = t
        .signer
        .sign(&id_claims("eve", &["Admin", "admins"]))
        .unwrap();
    let other = t.create(&alice, recipe("Not for eve")).await;
    let reply = t
        .call(
            "GET",
            &format!("/recipes/{}", id_of(&other)),
            Some(&lookalike),
            None,
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::NOT_FOUND,
        "group names match exactly"
    );
}

#[tokio::test]
async fn health_and_openapi_need_no_token() {
    let t = spawn_app();
    let health = t.call("GET", "/health", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(
        health.body,
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_common_headers(&health);
    let doc = t.call("GET", "/openapi.json", None, None).await;
    assert_eq!(doc.status, StatusCode::OK);
    assert_eq!(doc.body["openapi"], "3.1.0");
}

#[tokio::test]
async fn browsers_may_call_from_any_origin_and_read_the_validators() {
    let t = spawn_app();
    let token = t.token("alice");
    let reply = t
        .call_with(
            "POST",
            "/recipes",
            Some(&token),
            Some(recipe("Cors")),
            &[("origin", "https://app.example")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    assert_eq!(reply.header("access-control-allow-origin"), Some("*"));
    let exposed = reply
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for name in ["etag", "location", "retry-after"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    let preflight = t
        .call_with(
            "OPTIONS",
            "/recipes",
            None,
            None,
            &[
                ("origin", "https://app.example"),
                ("access-control-request-method", "PATCH"),
                ("access-control-request-headers", "authorization,if-match"),
            ],
        )
        .await;
    assert!(preflight.status.is_success(), "{}", preflight.status);
    assert!(
        preflight
            .header("access-control-allow-methods")
            .unwrap_or_default()
            .contains("PATCH")
    );
}

#[tokio::test]
async fn put_and_patch_keep_the_photo_and_every_answer_shows_it() {
    use gota_core::store::embedded::EmbeddedStore;
    use gota_core::store::{RecipeStore, Scope};
    let store = std::sync::Arc::new(EmbeddedStore::in_memory().expect("store"));
    let t = spawn_app_with_store(store.clone());
    let token = t.token("alice");
    let created = t.create(&token, recipe("Pictured")).await;
    let id: gota_domain::RecipeId = id_of(&created).parse().unwrap();
    let owner = gota_domain::Owner::parse("alice").unwrap();
    let (shot, _) = store
        .update_photo(id, Scope::Owner(&owner), &|_| {
            Ok(Some(gota_domain::photo::Photo {
                id: gota_domain::photo::PhotoId::new(),
                status: gota_domain::photo::PhotoStatus::Ready {
                    width: 640,
                    height: 480,
                },
                updated_at: gota_domain::now_utc(),
            }))
        })
        .await
        .unwrap()
        .unwrap();
    let photo = serde_json::to_value(&shot).unwrap()["photo"].clone();
    assert_eq!(
        photo["links"]["thumb"],
        format!("/recipes/{id}/photo/thumb"),
        "{photo}"
    );
    let uri = format!("/recipes/{id}");
    let got = t.call("GET", &uri, Some(&token), None).await;
    assert_eq!(got.body["photo"], photo, "GET shows the photo");
    assert_eq!(got.body["version"], 2);

    let put = t
        .call("PUT", &uri, Some(&token), Some(recipe("Pictured, again")))
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["photo"], photo, "PUT keeps the photo");
    let patched = t
        .call_with(
            "PATCH",
            &uri,
            Some(&token),
            Some(json!({"title": "Pictured, patched"})),
            &[("content-type", "application/merge-patch+json")],
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["photo"], photo, "PATCH keeps the photo");
    assert_eq!(patched.body["version"], 4);
    let listed = t.call("GET", "/recipes", Some(&token), None).await;
    assert_eq!(listed.body["items"][0]["photo"], photo, "lists show it too");
}
