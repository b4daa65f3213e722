//! The IAM actions `gota-api iam-actions` declares are the ones the adapters' SDK clients
//! send: a recording interceptor sits on the client the whole store conformance suite
//! (`store_on_moto.rs`) and a cursor-key read use, and recorded == declared.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use gota_core::http::cursor::KeySource as _;
use gota_core::secrets::SecretsManagerKeys;
use gota_testkit::Moto;

/// Records the IAM action of every request an SDK client sends, once serialized. The
/// operation name is the SDK's own (`Metadata` in the config bag); a TransactWriteItems
/// records the action of each of its parts instead, since IAM authorizes those
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html>).
#[derive(Debug, Clone)]
pub struct Recorder {
    prefix: &'static str,
    actions: Arc<Mutex<BTreeSet<String>>>,
}

impl Recorder {
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            actions: Arc::default(),
        }
    }

    /// Asserts that the recorded actions are exactly `declared`.
    pub fn assert_exactly(&self, declared: &[&str]) {
        let recorded = self.actions.lock().unwrap().clone();
        let declared: BTreeSet<String> = declared.iter().map(|a| (*a).to_owned()).collect();
        assert_eq!(
            recorded, declared,
            "recorded (left) must equal declared (right): nothing undeclared, nothing unused"
        );
    }
}

impl Intercept for Recorder {
    fn name(&self) -> &'static str {
        "RecordIamActions"
    }

    fn read_after_serialization(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .ok_or("no operation Metadata in the config bag")?
            .name()
            .to_owned();
        let mut actions = self.actions.lock().unwrap();
        if operation == "TransactWriteItems" {
            let body = context.request().body().bytes().ok_or("streaming body")?;
            let body: serde_json::Value = serde_json::from_slice(body)?;
            for part in body["TransactItems"].as_array().ok_or("no TransactItems")? {
                for kind in part.as_object().ok_or("a part is not an object")?.keys() {
                    let action = match kind.as_str() {
                        "ConditionCheck" => "ConditionCheckItem".to_owned(),
                        other => format!("{other}Item"),
                    };
                    actions.insert(format!("{}:{action}", self.prefix));
                }
            }
        } else {
            actions.insert(format!("{}:{operation}", self.prefix));
        }
        Ok(())
    }
}

/// A DynamoDB client on `moto` whose every request is recorded.
pub fn recorded_dynamodb(moto: &Moto) -> (aws_sdk_dynamodb::Client, Recorder) {
    let recorder = Recorder::new("dynamodb");
    let config = aws_sdk_dynamodb::config::Builder::from(&moto.sdk_config())
        .interceptor(recorder.clone())
        .build();
    (aws_sdk_dynamodb::Client::from_conf(config), recorder)
}

#[tokio::test]
async fn the_cursor_key_reader_calls_exactly_the_declared_secrets_manager_actions() {
    let moto = Moto::start().await;
    let arn = moto
        .secrets_manager()
        .create_secret()
        .name("gota-cursor-key")
        .secret_string("rOtAtIoN0bEfOrE0rOtAtIoN0bEfOrE0rOtAtIoN0bEfOrE0rOtAtIoN0bEfOrE0")
        .send()
        .await
        .unwrap()
        .arn
        .unwrap();
    let recorder = Recorder::new("secretsmanager");
    let config = aws_sdk_secretsmanager::config::Builder::from(&moto.sdk_config())
        .interceptor(recorder.clone())
        .build();
    let keys =
        SecretsManagerKeys::with_client(aws_sdk_secretsmanager::Client::from_conf(config), &arn);
    keys.fetch().await.unwrap();
    recorder.assert_exactly(gota_core::secrets::IAM_ACTIONS);
}

#[test]
fn gota_api_prints_the_declared_actions_under_their_services() {
    // What the stack grants (infra/test/parity.test.ts) is what these tests prove.
    let printed = std::process::Command::new(gota_testkit::gota_api_bin())
        .arg("iam-actions")
        .output()
        .unwrap();
    let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(
        printed["dynamodb"],
        serde_json::json!(gota_core::store::dynamodb::IAM_ACTIONS)
    );
    assert_eq!(
        printed["secretsmanager"],
        serde_json::json!(gota_core::secrets::IAM_ACTIONS)
    );
}
