//! `gota-worker`: S3 `ObjectCreated` notifications for `uploads/…`, delivered through an SQS
//! queue, each developed by [`gota_core::photos::develop`] (renditions, then the photo's status
//! by a conditional write). [`handle`] is the whole Lambda handler, testable without the
//! runtime; `main.rs` only wires configuration, the store and the bucket to it.
//!
//! Partial batch responses: the handler answers `{"batchItemFailures": [{"itemIdentifier":
//! <message id>}]}` naming exactly the messages a retry may fix, and Lambda makes only those
//! visible again (the event source mapping must have `FunctionResponseTypes:
//! [ReportBatchItemFailures]`; AWS Lambda Developer Guide, "Handling errors for an SQS event
//! source in Lambda",
//! <https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html>). A message
//! that no retry can fix — an unreadable body, a record of another bucket, a key that is not an
//! upload's, a bad image — is acknowledged (logged), never retried until it reaches the
//! dead-letter queue.

pub mod config;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures_util::StreamExt as _;
use gota_core::photos::{DevelopError, PhotoObjects, develop};
use gota_core::store::RecipeStore;
use gota_domain::photo::PhotoKeys;

/// Messages developed at once (see [`gota_core::photos::WORKER_CONCURRENCY`]).
pub const CONCURRENCY: usize = gota_core::photos::WORKER_CONCURRENCY;

/// Develops every upload the batch names in `bucket` (the one `objects` reads); the failures a
/// retry may fix are named in the answer, everything else is acknowledged.
pub async fn handle(
    objects: &dyn PhotoObjects,
    store: &dyn RecipeStore,
    bucket: &str,
    event: SqsEvent,
) -> SqsBatchResponse {
    let failed: Vec<BatchItemFailure> = futures_util::stream::iter(event.records)
        .map(|message| async move {
            let outcome = handle_message(objects, store, bucket, &message).await;
            (message.message_id, outcome)
        })
        .buffer_unordered(CONCURRENCY)
        .filter_map(|(id, outcome)| async move {
            let error = outcome.err()?;
            tracing::warn!(
                message_id = id.as_deref().unwrap_or_default(),
                error = format!("{error:#}"),
                "message left for a retry"
            );
            // A message without an id cannot be named; an empty identifier makes Lambda treat
            // the whole batch as failed (the same page, "Success and failure conditions"),
            // which retries it too: nothing is acknowledged that was not done.
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = id.unwrap_or_default();
            Some(failure)
        })
        .collect()
        .await;
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed;
    response
}

/// What an SQS message body from the bucket's notification holds.
#[derive(Debug, PartialEq, Eq)]
enum Notification {
    /// `s3:TestEvent`, which S3 sends when the notification is configured.
    Test,
    /// The object keys of the `ObjectCreated:*` records, decoded.
    Created(Vec<String>),
}

/// The part of an S3 event message the worker reads: each record's event name and object
/// key, nothing else. The message carries more (`userIdentity`, `requestParameters`, …; AWS S3
/// User Guide, "Event message structure",
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>),
/// but a body read as the whole structure would be refused for a field the worker never uses
/// (moto's events have no `userIdentity`), and a refused body is acknowledged: the photo would
/// stay `pending` for good.
#[derive(Debug, serde::Deserialize)]
struct S3Message {
    #[serde(rename = "Records")]
    records: Vec<S3Record>,
}

#[derive(Debug, serde::Deserialize)]
struct S3Record {
    #[serde(rename = "eventName", default)]
    event_name: Option<String>,
    s3: S3Entity,
}

#[derive(Debug, serde::Deserialize)]
struct S3Entity {
    #[serde(default)]
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Debug, Default, serde::Deserialize)]
struct S3Bucket {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct S3Object {
    #[serde(default)]
    key: Option<String>,
}

/// Reads a body as S3 sends it (the structure: [`S3Message`]). Only the records of `bucket`
/// count: a key means nothing in another bucket, and the worker reads, writes and deletes in
/// its own whatever the record names.
fn read_body(body: &str, bucket: &str) -> Result<Notification, String> {
    let value: serde_json::Value =
        serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    if value.get("Event").and_then(serde_json::Value::as_str) == Some("s3:TestEvent") {
        return Ok(Notification::Test);
    }
    let event: S3Message =
        serde_json::from_value(value).map_err(|e| format!("not an S3 event: {e}"))?;
    Ok(Notification::Created(
        event
            .records
            .into_iter()
            .filter(|record| {
                record
                    .event_name
                    .as_deref()
                    .is_some_and(|name| name.starts_with("ObjectCreated:"))
            })
            .filter(|record| {
                let named = record.s3.bucket.name.as_deref();
                if named != Some(bucket) {
                    tracing::warn!(bucket = named, "a record of another bucket; acknowledged");
                }
                named == Some(bucket)
            })
            .filter_map(|record| record.s3.object.key)
            .map(|key| decode_key(&key))
            .collect(),
    ))
}

/// The object key as stored: S3 writes it URL-encoded in form encoding ("The s3 key provides
/// information about the bucket and object… The object key name value is URL encoded", the
/// page of [`read_body`]; a space is `+`, so `+` itself arrives as `%2B`).
fn decode_key(key: &str) -> String {
    percent_encoding::percent_decode_str(&key.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

async fn handle_message(
    objects: &dyn PhotoObjects,
    store: &dyn RecipeStore,
    bucket: &str,
    message: &SqsMessage,
) -> Result<(), DevelopError> {
    let id = message.message_id.as_deref().unwrap_or_default();
    let keys = match read_body(message.body.as_deref().unwrap_or_default(), bucket) {
        Ok(Notification::Test) => {
            tracing::info!(message_id = id, "s3:TestEvent acknowledged");
            return Ok(());
        }
        Ok(Notification::Created(keys)) => keys,
        Err(why) => {
            tracing::warn!(message_id = id, why, "unreadable message acknowledged");
            return Ok(());
        }
    };
    // Records of one message one after the other: S3 sends one per message in practice, and a
    // retry of the message re-runs them all, which develop() makes harmless.
    let mut first_error = None;
    for key in keys {
        let Some(upload) = PhotoKeys::parse_upload(&key) else {
            tracing::warn!(message_id = id, key, "not an upload key; acknowledged");
            continue;
        };
        if let Err(error) = develop(objects, store, &upload).await {
            first_error.get_or_insert(error);
        }
    }
    first_error.map_or(Ok(()), Err)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_are_form_decoded() {
        assert_eq!(decode_key("uploads/a+b/c%2Bd/%C3%BC"), "uploads/a b/c+d/ü");
        assert_eq!(decode_key("a%26b%3Dc"), "a&b=c");
        assert_eq!(decode_key("plain/key"), "plain/key");
    }

    #[test]
    fn a_record_is_read_for_its_event_name_and_key_only() {
        // As moto sends it: no userIdentity, requestParameters or responseElements.
        let body = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1","eventTime":"2026-12-03T14:32:48.768Z","eventName":"ObjectCreated:Post","s3":{"s3SchemaVersion":"1.0","configurationId":"n","bucket":{"name":"b","arn":"arn:aws:s3:::b"},"object":{"key":"uploads%2Fa%2Fb%2Fc","size":3,"eTag":"e"}}},{"eventName":"ObjectRemoved:Delete","s3":{"object":{"key":"uploads/x"}}}]}"#;
        assert_eq!(
            read_body(body, "b"),
            Ok(Notification::Created(vec!["uploads/a/b/c".to_owned()]))
        );
    }

    #[test]
    fn a_test_event_and_unreadable_bodies_are_told_apart() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-01T00:00:00.000Z","Bucket":"b","RequestId":"r","HostId":"h"}"#;
        assert_eq!(read_body(test, "b"), Ok(Notification::Test));
        assert!(read_body("not json", "b").is_err());
        assert!(read_body(r#"{"Records": 3}"#, "b").is_err());
    }
}
