//! The Lambda handler on an SQS event as Lambda delivers it (a JSON fixture; the 1.x event
//! types are `#[non_exhaustive]`), called directly, without the runtime.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_lambda_events::event::sqs::SqsEvent;
use common::{MemoryObjects, jpeg, pending_photo, store, stored};
use gota_domain::photo::PhotoStatus;

const BATCH: &str = include_str!("fixtures/sqs-s3-batch.json");
/// The bucket the fixture's records name, the one the worker is configured with.
const BUCKET: &str = "gota-photos";

/// S3's own spelling of a key in a notification: URL-encoded (form encoding). Our keys hold
/// nothing S3 must encode, so every `-` is encoded too, as a decoder must accept.
fn as_s3_writes_it(key: &str) -> String {
    key.replace('-', "%2D")
}

#[tokio::test]
async fn a_batch_reports_exactly_the_message_a_retry_may_fix() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let good = pending_photo(store.as_ref(), "ivan").await;
    let failing = pending_photo(store.as_ref(), "judy").await;
    objects.insert(&good.upload(), jpeg(120, 90));
    objects.insert(&failing.upload(), jpeg(120, 90));
    objects.fail_key(&failing.upload());
    let event: SqsEvent = serde_json::from_str(
        &BATCH
            .replace("{{GOOD_KEY}}", &as_s3_writes_it(&good.upload()))
            .replace("{{FAILING_KEY}}", &as_s3_writes_it(&failing.upload())),
    )
    .unwrap();

    let response = gota_worker::handle(&objects, store.as_ref(), BUCKET, event).await;

    assert_eq!(
        serde_json::to_value(&response).unwrap(),
        serde_json::json!({"batchItemFailures": [
            {"itemIdentifier": "2f0c5a8e-0000-4000-8000-000000000002"}
        ]})
    );
    let status = async |keys| {
        stored(store.as_ref(), keys)
            .await
            .unwrap()
            .photo
            .unwrap()
            .status
    };
    assert_eq!(
        status(&good).await,
        PhotoStatus::Ready {
            width: 120,
            height: 90
        }
    );
    assert_eq!(status(&failing).await, PhotoStatus::Pending);
}

#[tokio::test]
async fn bodies_no_retry_can_fix_are_acknowledged() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let mut event: serde_json::Value = serde_json::from_str(BATCH).unwrap();
    let records = event["Records"].as_array_mut().unwrap();
    records[0]["body"] = "not json".into();
    // A key under the prefix that is no upload's (a rendition's shape, another owner's junk).
    records[1]["body"] = records[1]["body"]
        .as_str()
        .unwrap()
        .replace("{{FAILING_KEY}}", "uploads/not-base64!/x/y")
        .into();
    let event: SqsEvent = serde_json::from_value(event).unwrap();

    let response = gota_worker::handle(&objects, store.as_ref(), BUCKET, event).await;

    assert!(response.batch_item_failures.is_empty());
}

#[tokio::test]
async fn a_record_of_another_bucket_is_acknowledged_and_never_developed() {
    let (store, _dir) = store();
    let objects = MemoryObjects::default();
    let keys = pending_photo(store.as_ref(), "mallory").await;
    objects.insert(&keys.upload(), jpeg(120, 90));
    // The same key, said to be in a bucket the worker was not given: whatever it names there,
    // it is not this bucket's object (a foreign or misrouted notification).
    let event: SqsEvent = serde_json::from_str(
        &BATCH
            .replace("{{GOOD_KEY}}", &keys.upload())
            .replace("{{FAILING_KEY}}", &keys.upload())
            .replace("gota-photos", "someone-elses-bucket"),
    )
    .unwrap();

    let response = gota_worker::handle(&objects, store.as_ref(), BUCKET, event).await;

    assert!(response.batch_item_failures.is_empty());
    let photo = stored(store.as_ref(), &keys).await.unwrap().photo.unwrap();
    assert_eq!(photo.status, PhotoStatus::Pending);
    assert!(objects.keys().contains(&keys.upload()));
}
