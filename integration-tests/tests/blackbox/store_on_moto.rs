//! The DynamoDB adapter passes the same conformance suite as the embedded store.

use std::sync::Arc;

use gota_core::store::dynamodb::DynamoStore;
use gota_core::store::{RecipeStore, Scope, StoreError, conformance};
use gota_testkit::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_store_passes_the_conformance_suite_on_moto() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let (client, recorder) = crate::iam_actions::recorded_dynamodb(&moto);
    let store = DynamoStore::with_client(client.clone(), "recipes");
    conformance::run_all(&store).await;
    // Racing conditional writes; moto is serialised by the harness (see moto_serial.py). On a
    // table of their own: moto copies a table whole for every action of a transaction (its
    // rollback copy), so a transaction's cost there grows with the table, which DynamoDB's
    // does not, and the racers would spend their write budget on the copies.
    moto.create_table("racing");
    conformance::run_concurrency(Arc::new(DynamoStore::with_client(client, "racing"))).await;
    recorder.assert_exactly(gota_core::store::dynamodb::IAM_ACTIONS);
}

#[tokio::test]
async fn create_table_is_idempotent_and_matches_the_published_schema() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    moto.create_table("recipes");
    let table = moto
        .dynamodb()
        .describe_table()
        .table_name("recipes")
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let schema = gota_core::store::dynamodb::schema::describe();
    let keys: Vec<(String, String)> = table
        .key_schema()
        .iter()
        .map(|k| {
            (
                k.attribute_name().to_owned(),
                k.key_type().as_str().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = schema["KeySchema"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().unwrap().to_owned(),
                k["KeyType"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(keys, expected);
    let index = &table.global_secondary_indexes()[0];
    assert_eq!(
        index.index_name(),
        schema["GlobalSecondaryIndexes"][0]["IndexName"].as_str()
    );
    let ttl = moto
        .dynamodb()
        .describe_time_to_live()
        .table_name("recipes")
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        schema["TimeToLiveSpecification"]["AttributeName"].as_str()
    );
}

/// A DynamoDB endpoint in front of moto whose `by_id` index is frozen: each index query is
/// answered, forever, as it was the first time. moto's indexes are always current, but on
/// AWS a global secondary index is only eventually consistent, so this is the index a reader
/// may meet right after a write. Returns the endpoint URL.
async fn frozen_index_proxy(moto: &Moto) -> String {
    index_proxy(moto, false).await
}

/// Like [`frozen_index_proxy`], but the index never learns of any recipe: every `by_id` query
/// answers empty, as a GSI does for a moment after a write.
async fn empty_index_proxy(moto: &Moto) -> String {
    index_proxy(moto, true).await
}

async fn index_proxy(moto: &Moto, always_empty: bool) -> String {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use axum::body::Bytes;
    use axum::http::HeaderMap;

    let upstream = moto.env()[0].1.clone();
    let answers: Arc<Mutex<HashMap<Bytes, (u16, Bytes)>>> = Arc::default();
    let http = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (upstream, answers, http) = (upstream.clone(), Arc::clone(&answers), http.clone());
        async move {
            let target = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let index_query = target == "DynamoDB_20120810.Query"
                && String::from_utf8_lossy(&body).contains("\"IndexName\":\"by_id\"");
            if index_query && always_empty {
                return answer_of((
                    200,
                    Bytes::from_static(br#"{"Count":0,"Items":[],"ScannedCount":0}"#),
                ));
            }
            if index_query && let Some(answer) = answers.lock().unwrap().get(&body).cloned() {
                return answer_of(answer);
            }
            let mut request = http.post(&upstream).body(body.clone());
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name.as_str(), value.as_bytes());
                }
            }
            let response = request.send().await.unwrap();
            let answer = (response.status().as_u16(), response.bytes().await.unwrap());
            if index_query {
                answers.lock().unwrap().insert(body, answer.clone());
            }
            answer_of(answer)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    endpoint
}

fn answer_of((status, body): (u16, axum::body::Bytes)) -> axum::response::Response {
    axum::response::Response::builder()
        .status(status)
        .header("content-type", "application/x-amz-json-1.0")
        .body(axum::body::Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn admin_reads_and_writes_ignore_a_stale_index_on_dynamodb() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let endpoint = frozen_index_proxy(&moto).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config())
        .endpoint_url(endpoint)
        .build();
    let store = DynamoStore::with_client(aws_sdk_dynamodb::Client::from_conf(config), "recipes");

    let recipe = conformance::sample_recipe("owner-stale", "Fresh");
    let owner = recipe.owner.clone();
    store.create(&recipe, None).await.unwrap();
    // The index learns of the recipe at version 1, and then stops.
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(recipe.clone())
    );
    let retitled = conformance::sample_recipe("owner-stale", "Retitled").content;
    let v2 = store
        .update(recipe.id, Scope::Owner(&owner), &|_| Ok(retitled.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        Some(v2.clone()),
        "an admin reads the current version, not the index's copy"
    );
    let moderated = conformance::sample_recipe("owner-stale", "Moderated").content;
    let v3 = store
        .update(recipe.id, Scope::Any, &|current| {
            assert_eq!(current, &v2, "an admin's change sees the current version");
            Ok(moderated.clone())
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v3.version, &v3.owner), (3, &owner));

    store
        .delete(recipe.id, Scope::Owner(&owner), &|_| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        None,
        "a deleted recipe the index still lists is gone for admins too"
    );
    let update = store
        .update(recipe.id, Scope::Any, &|_| Ok(moderated.clone()))
        .await;
    assert!(matches!(update, Err(StoreError::NotFound)), "{update:?}");
    let delete = store.delete(recipe.id, Scope::Any, &|_| Ok(())).await;
    assert!(matches!(delete, Err(StoreError::NotFound)), "{delete:?}");
}

#[tokio::test]
async fn an_admins_own_fresh_recipe_is_found_before_the_index_has_it_on_dynamodb() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let endpoint = empty_index_proxy(&moto).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config())
        .endpoint_url(endpoint)
        .build();
    let store = DynamoStore::with_client(aws_sdk_dynamodb::Client::from_conf(config), "recipes");

    let recipe = conformance::sample_recipe("admin-fresh", "Just made");
    let admin = recipe.owner.clone();
    store.create(&recipe, None).await.unwrap();
    assert_eq!(
        store.get(recipe.id, Scope::Any).await.unwrap(),
        None,
        "the frozen index does not know the recipe yet"
    );

    assert_eq!(
        store.get(recipe.id, Scope::Admin(&admin)).await.unwrap(),
        Some(recipe.clone()),
        "an admin finds their own recipe where its owner would"
    );
    let retitled = conformance::sample_recipe("admin-fresh", "Retitled").content;
    let v2 = store
        .update(recipe.id, Scope::Admin(&admin), &|_| Ok(retitled.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v2.version, 2);
    store
        .delete(recipe.id, Scope::Admin(&admin), &|_| Ok(()))
        .await
        .unwrap()
        .unwrap();
}

/// Every search posting in `table` (the `SEARCH#` partitions).
async fn postings(client: &aws_sdk_dynamodb::Client, table: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        for item in page.items() {
            let text = |k: &str| {
                item.get(k)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .unwrap_or_default()
            };
            if text("pk").starts_with("SEARCH#") {
                found.push((text("pk"), text("sk")));
            }
        }
        match page.last_evaluated_key {
            Some(key) => start = Some(key),
            None => return found,
        }
    }
}

#[tokio::test]
async fn recipes_of_a_release_without_the_index_are_found_and_then_indexed_on_dynamodb() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let store = DynamoStore::with_client(client.clone(), "recipes");
    let mut ids = Vec::new();
    let mut owner = None;
    for n in 0..30 {
        let recipe =
            conformance::searchable_recipe("old-timer", &format!("Gratin {n}"), "x", &[], &[]);
        owner = Some(recipe.owner.clone());
        ids.push(recipe.id);
        store.create(&recipe, None).await.unwrap();
    }
    ids.reverse();
    let owner = owner.unwrap();
    let items = client.scan().table_name("recipes").send().await.unwrap();
    let marked = items
        .items()
        .iter()
        .filter(|item| item.contains_key("search_index"))
        .count();
    assert_eq!(
        marked, 30,
        "every recipe this release writes carries the search_index mark"
    );
    for id in &ids {
        as_written_before_the_index(&client, owner.as_str(), &id.to_string()).await;
    }
    let search = conformance::search("gratin");
    // A fresh process each time (no memory of a finished backfill): 25 recipes a request.
    for round in 0..4 {
        let store = DynamoStore::with_client(client.clone(), "recipes");
        let mut found = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .list(&gota_core::store::ListQuery {
                    owner: owner.clone(),
                    filter: search.clone(),
                    limit: 100,
                    after,
                })
                .await
                .unwrap();
            found.extend(page.items.iter().map(|r| r.id));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        assert_eq!(
            found, ids,
            "round {round}: every recipe, newest first, indexed or not"
        );
    }
    let filed = postings(&client, "recipes").await;
    let gratin = filed
        .iter()
        .filter(|(_, sk)| sk.starts_with("gratin#"))
        .count();
    assert_eq!(
        gratin, 30,
        "every recipe is filed under its words once the backfill is done"
    );
    assert!(
        filed
            .iter()
            .any(|(pk, sk)| pk == "SEARCH#!#old-timer" && sk == "BACKFILL"),
        "the owner's backfill is recorded"
    );
}

#[tokio::test]
async fn postings_follow_writes_exactly_even_past_the_transaction_limit_on_dynamodb() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let store = DynamoStore::with_client(client.clone(), "recipes");
    let big = conformance::recipe_with_most_terms("big-owner", "alpha");
    let owner = big.owner.clone();
    let id = big.id.to_string();
    let filed = |postings: Vec<(String, String)>| {
        let mut terms: Vec<String> = postings
            .into_iter()
            .filter_map(|(_, sk)| sk.strip_suffix(&format!("#{id}")).map(str::to_owned))
            .collect();
        terms.sort();
        terms
    };
    // 1 recipe + 98 postings: one transaction (moto refuses more than 100 actions).
    store.create(&big, None).await.unwrap();
    let created = filed(postings(&client, "recipes").await);
    assert_eq!(created.len(), 98, "every term of the largest index");
    // To a disjoint set: 98 puts and 98 deletes, more than one transaction holds.
    let other = conformance::recipe_with_most_terms("big-owner", "beta");
    let replaced = store
        .update(big.id, Scope::Owner(&owner), &|_| Ok(other.content.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replaced.version, 2);
    let after = filed(postings(&client, "recipes").await);
    assert_eq!(after.len(), 98, "no stale posting is left: {after:?}");
    assert!(after.iter().all(|t| !t.starts_with("alpha")), "{after:?}");
    assert!(after.iter().any(|t| t.starts_with("beta")));
    store
        .delete(big.id, Scope::Owner(&owner), &|_| Ok(()))
        .await
        .unwrap()
        .unwrap();
    assert!(
        filed(postings(&client, "recipes").await).is_empty(),
        "a deleted recipe leaves no posting"
    );
}

/// What [`removal_proxy`] does with the calls it sees.
#[derive(Clone, Copy)]
enum Removals {
    /// Holds back the first removal until released.
    HoldFirst,
    /// Answers every removal with an error that is not retried.
    Fail,
    /// Cancels every backfill transaction as conflicting with another, as DynamoDB does
    /// when a writer touches one of its items at the same time.
    CancelBackfill,
    /// Holds back the first backfill transaction until released.
    HoldBackfill,
}

/// A DynamoDB endpoint in front of moto that holds back the first `TransactWriteItems` or
/// `DeleteItem` call carrying no `Put` (the stale postings an update removes after its
/// commit): `held` is notified when it arrives, and it goes on to moto once `release` is.
async fn holding_proxy(
    moto: &Moto,
) -> (String, Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
    removal_proxy(moto, Removals::HoldFirst).await
}

/// Like [`holding_proxy`], with `removals` deciding what happens to those calls.
async fn removal_proxy(
    moto: &Moto,
    removals: Removals,
) -> (String, Arc<tokio::sync::Notify>, Arc<tokio::sync::Notify>) {
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::body::Bytes;
    use axum::http::HeaderMap;

    let upstream = moto.env()[0].1.clone();
    let held = Arc::new(tokio::sync::Notify::new());
    let release = Arc::new(tokio::sync::Notify::new());
    let holding = Arc::new(AtomicBool::new(true));
    let http = reqwest::Client::new();
    let (held_in, release_in) = (Arc::clone(&held), Arc::clone(&release));
    let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
        let (upstream, http) = (upstream.clone(), http.clone());
        let (held, release, holding) = (
            Arc::clone(&held_in),
            Arc::clone(&release_in),
            Arc::clone(&holding),
        );
        async move {
            let target = headers
                .get("x-amz-target")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let removal = matches!(
                target,
                "DynamoDB_20120810.TransactWriteItems" | "DynamoDB_20120810.DeleteItem"
            ) && !String::from_utf8_lossy(&body).contains("\"Put\"");
            // A backfill files postings and no recipe, or (since it marks what it files) puts
            // the recipe only over an unmarked item.
            let backfill = target == "DynamoDB_20120810.TransactWriteItems" && {
                let text = String::from_utf8_lossy(&body);
                text.contains("SEARCH#")
                    && (!text.contains("RECIPE#") || text.contains("attribute_not_exists(#indexed)"))
            };
            match removals {
                Removals::CancelBackfill if backfill => {
                    return axum::response::Response::builder()
                        .status(400)
                        .header("content-type", "application/x-amz-json-1.0")
                        .body(axum::body::Body::from(
                            r#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","message":"Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]","CancellationReasons":[{"Code":"TransactionConflict","Message":"Transaction is ongoing for the item"}]}"#,
                        ))
                        .unwrap();
                }
                Removals::Fail if removal => {
                    return axum::response::Response::builder()
                        .status(400)
                        .header("content-type", "application/x-amz-json-1.0")
                        .body(axum::body::Body::from(
                            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"refused by the test proxy"}"#,
                        ))
                        .unwrap();
                }
                Removals::HoldBackfill if backfill && holding.swap(false, Ordering::SeqCst) => {
                    held.notify_one();
                    release.notified().await;
                }
                Removals::HoldFirst if removal && holding.swap(false, Ordering::SeqCst) => {
                    held.notify_one();
                    release.notified().await;
                }
                _ => {}
            }
            let mut request = http.post(&upstream).body(body.clone());
            for (name, value) in &headers {
                if name != "host" && name != "content-length" {
                    request = request.header(name.as_str(), value.as_bytes());
                }
            }
            let response = request.send().await.unwrap();
            answer_of((response.status().as_u16(), response.bytes().await.unwrap()))
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (endpoint, held, release)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_stale_posting_removal_never_removes_a_term_a_later_version_brought_back_on_dynamodb()
 {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let direct = DynamoStore::with_client(client.clone(), "recipes");
    let (endpoint, held, release) = holding_proxy(&moto).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config())
        .endpoint_url(endpoint)
        .build();
    let slow = DynamoStore::with_client(aws_sdk_dynamodb::Client::from_conf(config), "recipes");

    let alpha = conformance::recipe_with_most_terms("racer", "alpha");
    let beta = conformance::recipe_with_most_terms("racer", "beta").content;
    let owner = alpha.owner.clone();
    direct.create(&alpha, None).await.unwrap();
    let id = alpha.id.to_string();
    let filed = || async {
        let mut terms: Vec<String> = postings(&client, "recipes")
            .await
            .into_iter()
            .filter_map(|(_, sk)| sk.strip_suffix(&format!("#{id}")).map(str::to_owned))
            .collect();
        terms.sort();
        terms
    };
    let alpha_terms = filed().await;
    // Writer A replaces every word: most alpha postings are removed after its commit, and
    // that removal is held back...
    let writer_a = {
        let owner = owner.clone();
        let beta = beta.clone();
        tokio::spawn(async move {
            slow.update(alpha.id, Scope::Owner(&owner), &|_| Ok(beta.clone()))
                .await
        })
    };
    held.notified().await;
    // ...while writer B puts the alpha words back.
    let v3 = direct
        .update(alpha.id, Scope::Owner(&owner), &|current| {
            assert_eq!(current.version, 2, "writer A has committed");
            Ok(alpha.content.clone())
        })
        .await
        .unwrap()
        .unwrap();
    release.notify_one();
    writer_a.await.unwrap().unwrap().unwrap();

    assert_eq!(
        filed().await,
        alpha_terms,
        "every term of the current version keeps its posting"
    );
    let found = direct
        .list(&gota_core::store::ListQuery {
            owner: owner.clone(),
            filter: conformance::search("alpha50"),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(
        found.items,
        vec![v3],
        "the current version is found by its words"
    );
}

#[tokio::test]
async fn an_update_that_committed_succeeds_even_when_removing_its_stale_postings_fails_on_dynamodb()
{
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let direct = DynamoStore::with_client(client.clone(), "recipes");
    let (endpoint, _, _) = removal_proxy(&moto, Removals::Fail).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config())
        .endpoint_url(endpoint)
        .build();
    let failing = DynamoStore::with_client(aws_sdk_dynamodb::Client::from_conf(config), "recipes");
    let alpha = conformance::recipe_with_most_terms("tidy", "alpha");
    let beta = conformance::recipe_with_most_terms("tidy", "beta").content;
    let owner = alpha.owner.clone();
    direct.create(&alpha, None).await.unwrap();

    let updated = failing
        .update(alpha.id, Scope::Owner(&owner), &|_| Ok(beta.clone()))
        .await;
    let updated = updated.expect("the commit is the write; the clean-up after it is not");
    assert_eq!(updated.unwrap().version, 2);
    let found = direct
        .list(&gota_core::store::ListQuery {
            owner: owner.clone(),
            filter: conformance::search("beta50"),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1, "the new words are filed");
    let stale = direct
        .list(&gota_core::store::ListQuery {
            owner,
            filter: conformance::search("alpha50"),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert!(stale.items.is_empty(), "a stale posting finds nothing");
}

#[tokio::test]
async fn a_search_whose_backfill_meets_a_conflict_is_answered_by_the_plain_list_on_dynamodb() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let direct = DynamoStore::with_client(client.clone(), "recipes");
    let recipe = conformance::searchable_recipe("conflicted", "Old gratin", "x", &[], &[]);
    direct.create(&recipe, None).await.unwrap();
    let (endpoint, _, _) = removal_proxy(&moto, Removals::CancelBackfill).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config())
        .endpoint_url(endpoint)
        .build();
    let fresh = DynamoStore::with_client(aws_sdk_dynamodb::Client::from_conf(config), "recipes");

    let page = fresh
        .list(&gota_core::store::ListQuery {
            owner: recipe.owner.clone(),
            filter: conformance::search("gratin"),
            limit: 10,
            after: None,
        })
        .await
        .expect("a backfill batch is best effort; the search is still answered");
    assert_eq!(page.items, vec![recipe]);
}

#[tokio::test]
async fn a_recipe_of_a_release_without_the_index_keeps_every_word_findable_after_an_edit_on_dynamodb()
 {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let store = DynamoStore::with_client(client.clone(), "recipes");
    let recipe = conformance::searchable_recipe("editor", "Old gratin", "creamy", &["leek"], &[]);
    let owner = recipe.owner.clone();
    store.create(&recipe, None).await.unwrap();
    as_written_before_the_index(&client, owner.as_str(), &recipe.id.to_string()).await;
    // This release edits the title only, before the owner's first search.
    let retitled =
        conformance::searchable_recipe("editor", "New gratin", "creamy", &["leek"], &[]).content;
    let edited = store
        .update(recipe.id, Scope::Owner(&owner), &|_| Ok(retitled.clone()))
        .await
        .unwrap()
        .unwrap();
    // Searches run the backfill to its end, then answer from the index.
    let fresh = DynamoStore::with_client(client.clone(), "recipes");
    for round in 0..3 {
        let page = fresh
            .list(&gota_core::store::ListQuery {
                owner: owner.clone(),
                filter: conformance::search("leek"),
                limit: 10,
                after: None,
            })
            .await
            .unwrap();
        assert_eq!(
            page.items,
            vec![edited.clone()],
            "round {round}: a word the edit did not change is still found"
        );
    }
}

#[tokio::test]
async fn a_photo_change_to_a_recipe_of_a_release_without_the_index_leaves_it_to_the_backfill() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let store = DynamoStore::with_client(client.clone(), "recipes");
    let recipe = conformance::searchable_recipe("snapper", "Old gratin", "creamy", &["leek"], &[]);
    let owner = recipe.owner.clone();
    store.create(&recipe, None).await.unwrap();
    as_written_before_the_index(&client, owner.as_str(), &recipe.id.to_string()).await;
    let photo = Some(conformance::pending_photo());
    let (shot, _) = store
        .update_photo(recipe.id, Scope::Owner(&owner), &|_| Ok(photo.clone()))
        .await
        .unwrap()
        .unwrap();
    let item = client
        .get_item()
        .table_name("recipes")
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("OWNER#{}", owner.as_str())),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("RECIPE#{}", recipe.id)),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert!(
        !item.contains_key("search_index"),
        "a photo change does not mark a recipe whose postings it did not write"
    );
    assert!(
        item.contains_key("photo"),
        "the photo is an attribute of the item"
    );
    // The owner's first search runs the backfill, which files it.
    let fresh = DynamoStore::with_client(client.clone(), "recipes");
    let page = fresh
        .list(&gota_core::store::ListQuery {
            owner: owner.clone(),
            filter: conformance::search("leek"),
            limit: 10,
            after: None,
        })
        .await
        .unwrap();
    assert_eq!(page.items, vec![shot], "the recipe is found, photo and all");
}

/// Leaves `recipe` as a release before the index wrote it: no postings, no `search_index`.
async fn as_written_before_the_index(client: &aws_sdk_dynamodb::Client, owner: &str, id: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    for (pk, sk) in postings(client, "recipes").await {
        if sk.ends_with(&format!("#{id}")) {
            client
                .delete_item()
                .table_name("recipes")
                .key("pk", AttributeValue::S(pk))
                .key("sk", AttributeValue::S(sk))
                .send()
                .await
                .unwrap();
        }
    }
    client
        .update_item()
        .table_name("recipes")
        .key("pk", AttributeValue::S(format!("OWNER#{owner}")))
        .key("sk", AttributeValue::S(format!("RECIPE#{id}")))
        .update_expression("REMOVE search_index")
        .send()
        .await
        .unwrap();
}

/// The `version` each posting of recipe `id` was filed by, by term.
async fn filing_versions(client: &aws_sdk_dynamodb::Client, id: &str) -> Vec<(String, String)> {
    let items = client.scan().table_name("recipes").send().await.unwrap();
    let mut found: Vec<(String, String)> = items
        .items()
        .iter()
        .filter_map(|item| {
            let pk = item.get("pk")?.as_s().ok()?;
            let sk = item.get("sk")?.as_s().ok()?;
            let term = sk.strip_suffix(&format!("#{id}"))?;
            let version = item.get("version")?.as_n().ok()?;
            pk.starts_with("SEARCH#")
                .then(|| (term.to_owned(), version.clone()))
        })
        .collect();
    found.sort();
    found
}

/// A backfill batch reads a recipe of an earlier release, then files its postings. A write
/// that lands in between has already filed (or removed) the recipe's postings itself; the
/// batch must not file the content it read over them: a posting stamped with an older
/// version is removed by a late stale-posting removal even when a later version filed the
/// term again, and a deleted recipe's postings would stay for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backfill_batch_never_files_a_recipe_a_write_changed_since_it_was_read_on_dynamodb() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let client = moto.dynamodb();
    let direct = DynamoStore::with_client(client.clone(), "recipes");
    let edited =
        conformance::searchable_recipe("backfilled", "Old gratin", "creamy", &["leek"], &[]);
    let deleted = conformance::searchable_recipe("backfilled", "Old gratin", "rich", &["ham"], &[]);
    let owner = edited.owner.clone();
    for recipe in [&edited, &deleted] {
        direct.create(recipe, None).await.unwrap();
        as_written_before_the_index(&client, recipe.owner.as_str(), &recipe.id.to_string()).await;
    }
    let (endpoint, held, release) = removal_proxy(&moto, Removals::HoldBackfill).await;
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config())
        .endpoint_url(endpoint)
        .build();
    let slow = DynamoStore::with_client(aws_sdk_dynamodb::Client::from_conf(config), "recipes");
    let query = gota_core::store::ListQuery {
        owner: owner.clone(),
        filter: conformance::search("gratin"),
        limit: 10,
        after: None,
    };
    let search = tokio::spawn(async move { slow.list(&query).await });
    held.notified().await;
    // While the batch is held: one recipe is edited (this release files all its words, at
    // version 2), the other deleted (its postings go with it).
    let retitled =
        conformance::searchable_recipe("backfilled", "New gratin", "creamy", &["leek"], &[])
            .content;
    let edited = direct
        .update(edited.id, Scope::Owner(&owner), &|_| Ok(retitled.clone()))
        .await
        .unwrap()
        .unwrap();
    direct
        .delete(deleted.id, Scope::Owner(&owner), &|_| Ok(()))
        .await
        .unwrap()
        .unwrap();
    let before_release = filing_versions(&client, &edited.id.to_string()).await;
    assert!(!before_release.is_empty());
    release.notify_one();
    let page = search.await.unwrap().expect("the search is answered");
    assert_eq!(page.items, vec![edited.clone()]);
    assert_eq!(
        filing_versions(&client, &edited.id.to_string()).await,
        before_release,
        "the edited recipe's postings are the edit's, each filed by version 2"
    );
    assert_eq!(
        filing_versions(&client, &deleted.id.to_string()).await,
        Vec::<(String, String)>::new(),
        "the deleted recipe has no postings"
    );
}
