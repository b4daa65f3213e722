//! The DynamoDB adapter passes the same conformance suite as the embedded store.

use std::sync::Arc;

use gota_core::store::conformance;
use gota_core::store::dynamodb::DynamoStore;
use gota_integration_tests::Moto;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dynamodb_store_passes_the_conformance_suite_on_moto() {
    let moto = Moto::start().await;
    moto.create_table("recipes");
    let store = DynamoStore::with_client(moto.dynamodb(), "recipes");
    conformance::run_all(&store).await;
    // Racing conditional writes; moto is serialised by the harness (see moto_serial.py).
    conformance::run_concurrency(Arc::new(store)).await;
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
