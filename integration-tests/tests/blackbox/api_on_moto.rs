//! The real binary on DynamoDB with Cognito tokens, both from moto, over real HTTP.

use reqwest::StatusCode;
use serde_json::{Value, json};

use gota_testkit::fixtures::recipe;
use gota_testkit::{Api, Moto, UserPool};

pub(crate) struct World {
    _moto: Moto,
    pub(crate) pool: UserPool,
    api: Api,
    http: reqwest::Client,
}

pub(crate) async fn world() -> World {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let pool = UserPool::create(&moto, "gota").await;
    pool.add_user("alice", &[]).await;
    pool.add_user("bob", &[]).await;
    pool.add_user("root", &["admin"]).await;
    let mut env = moto.env();
    env.extend(pool.env());
    env.push(("GOTA_TABLE_NAME".into(), "recipes".into()));
    let api = Api::start(&env).await;
    World {
        _moto: moto,
        pool,
        api,
        http: reqwest::Client::new(),
    }
}

impl World {
    pub(crate) async fn send(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        crate::support::send(&self.http, method, self.api.url(path), token, body, headers).await
    }
}

#[tokio::test]
async fn crud_ownership_admin_and_preconditions_work_on_dynamodb_with_cognito_tokens() {
    let w = world().await;
    let alice = w.pool.login("alice").await;
    let bob = w.pool.login("bob").await;
    let root = w.pool.login("root").await;

    let (status, headers, created) = w
        .send(
            "POST",
            "/recipes",
            &alice.id,
            Some(recipe("Cognito pasta")),
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(headers["etag"], "\"1\"");
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());

    // Access tokens work too, and name the same subject.
    let (status, _, read) = w.send("GET", &uri, &alice.access, None, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, created);

    for (method, body) in [
        ("GET", None),
        ("PUT", Some(recipe("x"))),
        ("PATCH", Some(json!({"title": "x"}))),
        ("DELETE", None),
    ] {
        let (status, _, _) = w
            .send(method, &uri, &bob.id, body, &[("if-match", "\"1\"")])
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "bob {method}");
    }

    let (status, _, patched) = w
        .send(
            "PATCH",
            &uri,
            &root.id,
            Some(json!({"title": "Moderated"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(
        patched["owner"], created["owner"],
        "an admin's write keeps the owner"
    );
    let owner = created["owner"].as_str().unwrap();
    let (status, _, listed) = w
        .send(
            "GET",
            &format!("/recipes?owner={owner}"),
            &root.id,
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"][0]["title"], "Moderated");

    let (status, _, problem) = w
        .send(
            "PUT",
            &uri,
            &alice.id,
            Some(recipe("Stale")),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{problem}");
    let (status, _, _) = w
        .send("DELETE", &uri, &alice.id, None, &[("if-match", "\"2\"")])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = w.send("GET", &uri, &alice.id, None, &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pagination_filters_and_idempotency_work_on_dynamodb() {
    let w = world().await;
    let alice = w.pool.login("alice").await;
    let mut created = Vec::new();
    for n in 0..23 {
        let mut body = recipe(&format!("Dish {n}"));
        if n % 4 == 0 {
            body["tags"] = json!(["vegan"]);
        }
        let (status, _, body) = w.send("POST", "/recipes", &alice.id, Some(body), &[]).await;
        assert_eq!(status, StatusCode::CREATED);
        created.push(body["id"].clone());
    }
    let mut seen = Vec::new();
    let mut path = "/recipes?limit=10".to_owned();
    loop {
        let (status, _, page) = w.send("GET", &path, &alice.id, None, &[]).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/recipes?limit=10&cursor={cursor}"),
            None => break,
        }
    }
    created.reverse();
    assert_eq!(seen, created, "all 23 once, newest first");

    let (status, _, vegan) = w
        .send("GET", "/recipes?tag=vegan&limit=3", &alice.id, None, &[])
        .await;
    assert_eq!(status, StatusCode::OK, "{vegan}");
    assert_eq!(
        vegan["items"].as_array().unwrap().len(),
        3,
        "a filtered page is full"
    );
    let cursor = vegan["next_cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("a cursor on {vegan}"));
    let (_, _, rest) = w
        .send(
            "GET",
            &format!("/recipes?tag=vegan&limit=3&cursor={cursor}"),
            &alice.id,
            None,
            &[],
        )
        .await;
    assert_eq!(
        rest["items"].as_array().unwrap().len(),
        3,
        "6 vegan recipes in all"
    );
    assert_eq!(rest["next_cursor"], Value::Null);

    let bob = { w.pool.login("bob").await };
    let (status, _, _) = w
        .send(
            "GET",
            &format!("/recipes?cursor={cursor}&tag=vegan"),
            &bob.id,
            None,
            &[],
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a foreign cursor");

    let key = [("idempotency-key", "moto-1")];
    let (s1, _, first) = w
        .send("POST", "/recipes", &alice.id, Some(recipe("Once")), &key)
        .await;
    let (s2, h2, second) = w
        .send("POST", "/recipes", &alice.id, Some(recipe("Once")), &key)
        .await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::CREATED));
    assert_eq!(first, second);
    assert_eq!(h2["idempotent-replayed"], "true");
    let (s3, _, _) = w
        .send("POST", "/recipes", &alice.id, Some(recipe("Twice")), &key)
        .await;
    assert_eq!(s3, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn tokens_from_another_pool_or_no_token_are_401s() {
    let w = world().await;
    // moto signs every pool's tokens with one shared key, so only the issuer check can
    // reject this one — which is exactly what it proves.
    let other = UserPool::create(&w._moto, "other").await;
    other.add_user("alice", &[]).await;
    let foreign = other.login("alice").await;
    let (status, headers, _) = w.send("GET", "/recipes", &foreign.id, None, &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let response = w.http.get(w.api.url("/recipes")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

/// Racing writers through the real binary on DynamoDB: unconditional writes all land, each
/// one version; the count stays modest because moto serves one request at a time.
#[tokio::test]
async fn racing_unconditional_writes_all_land_and_admins_see_deletes_at_once_on_dynamodb() {
    const RACERS: u64 = 10;
    let w = std::sync::Arc::new(world().await);
    let alice = w.pool.login("alice").await;
    let root = w.pool.login("root").await;
    let (status, _, created) = w
        .send("POST", "/recipes", &alice.id, Some(recipe("Raced")), &[])
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let uri = format!("/recipes/{}", created["id"].as_str().unwrap());

    let mut tasks = Vec::new();
    for n in 0..RACERS {
        let (w, uri) = (std::sync::Arc::clone(&w), uri.clone());
        // Alice's PUTs and an admin's PATCHes, none with If-Match.
        let (method, token, body) = if n % 2 == 0 {
            ("PUT", alice.id.clone(), recipe(&format!("Put {n}")))
        } else {
            (
                "PATCH",
                root.id.clone(),
                json!({"title": format!("Patch {n}")}),
            )
        };
        tasks.push(tokio::spawn(async move {
            let (status, _, body) = w.send(method, &uri, &token, Some(body), &[]).await;
            (method, status, body["version"].as_u64())
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        let (method, status, version) = task.await.unwrap();
        assert_eq!(
            status,
            StatusCode::OK,
            "an unconditional {method} always lands"
        );
        versions.push(version.unwrap());
    }
    versions.sort_unstable();
    assert_eq!(versions, (2..=RACERS + 1).collect::<Vec<_>>());
    let (_, headers, now) = w.send("GET", &uri, &root.id, None, &[]).await;
    assert_eq!(now["version"], 1 + RACERS);
    assert_eq!(
        now["owner"], created["owner"],
        "admin patches keep the owner"
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();

    let (status, _, _) = w
        .send("DELETE", &uri, &alice.id, None, &[("if-none-match", "*")])
        .await;
    assert_eq!(
        status,
        StatusCode::PRECONDITION_FAILED,
        "If-None-Match: * on a delete"
    );
    let (status, _, _) = w
        .send("DELETE", &uri, &alice.id, None, &[("if-match", &etag)])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (method, body) in [
        ("GET", None),
        ("PATCH", Some(json!({"title": "Zombie"}))),
        ("DELETE", None),
    ] {
        let (status, _, _) = w.send(method, &uri, &root.id, body, &[]).await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "an admin's {method} right after the delete"
        );
    }
}
