//! moto (DynamoDB, Secrets Manager, S3, SQS, Cognito) on loopback, and Cognito pools and users in
//! it.
//!
//! moto comes from `./.venv` (installed by `make deps`); `testkit/moto_serial.py` serves its
//! requests one at a time (moto's conditional writes are not atomic otherwise, ADR 0007).

use std::process::{Command, Stdio};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_cognitoidentityprovider as cognito;
use aws_sdk_dynamodb::config::Credentials;

use crate::api::gota_api;
use crate::process::{Process, free_port, wait_until_http_answers};
use crate::{repo_root, venv_bin};

pub const REGION: &str = "us-east-1";
/// The password of every user [`UserPool::add_user`] creates.
pub const PASSWORD: &str = "Correct-Horse-7-Battery";

/// moto's server (DynamoDB and Cognito) on a loopback port, requests served one at a time.
#[derive(Debug)]
pub struct Moto {
    process: Process,
    pub port: u16,
    pub endpoint: String,
}

impl Moto {
    pub async fn start() -> Self {
        Self::start_on(free_port()).await
    }

    pub async fn start_on(port: u16) -> Self {
        let mut process = Process::spawn(
            Command::new(venv_bin("python"))
                .arg(repo_root().join("testkit/moto_serial.py"))
                .arg(port.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_until_http_answers(&endpoint, "moto", &mut process).await;
        Self {
            process,
            port,
            endpoint,
        }
    }

    pub fn stop(&mut self) {
        self.process.stop();
    }

    /// The SDK configuration that reaches this emulator (never real AWS).
    pub fn sdk_config(&self) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
                Credentials::new("testing", "testing", None, None, "moto"),
            ))
            .build()
    }

    pub fn dynamodb(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk_config())
    }

    pub fn secrets_manager(&self) -> aws_sdk_secretsmanager::Client {
        aws_sdk_secretsmanager::Client::new(&self.sdk_config())
    }

    /// An S3 client for this emulator: path-style, since moto serves no per-bucket host names.
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Creates the S3 bucket `name` in this emulator (in [`REGION`], which needs no location
    /// constraint).
    pub async fn create_bucket(&self, name: &str) {
        self.s3()
            .create_bucket()
            .bucket(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("creating the bucket {name}: {e:?}"));
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config())
    }

    /// Creates the SQS queue `name` in this emulator.
    pub async fn create_queue(&self, name: &str) -> Queue {
        let sqs = self.sqs();
        let url = sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("creating the queue {name}: {e:?}"))
            .queue_url
            .expect("queue url");
        let arn = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("queue attributes")
            .attributes
            .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
            .expect("queue arn");
        Queue { sqs, url, arn }
    }

    /// Sends `bucket`'s `ObjectCreated` events under `prefix` to `queue`, as the stack
    /// configures the photo bucket (infra/lib/photos.ts: `OBJECT_CREATED`, prefix `uploads/`).
    pub async fn notify_queue(&self, bucket: &str, prefix: &str, queue: &Queue) {
        use aws_sdk_s3::types::{
            Event, FilterRule, FilterRuleName, NotificationConfiguration,
            NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter,
        };
        let filter = NotificationConfigurationFilter::builder()
            .key(
                S3KeyFilter::builder()
                    .filter_rules(
                        FilterRule::builder()
                            .name(FilterRuleName::Prefix)
                            .value(prefix)
                            .build(),
                    )
                    .build(),
            )
            .build();
        let to_queue = QueueConfiguration::builder()
            .queue_arn(&queue.arn)
            .events(Event::S3ObjectCreated)
            .filter(filter)
            .build()
            .expect("queue configuration");
        self.s3()
            .put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .queue_configurations(to_queue)
                    .build(),
            )
            .send()
            .await
            .unwrap_or_else(|e| panic!("bucket notification of {bucket}: {e:?}"));
    }

    /// Every key in `bucket`, in S3's (lexicographic) order.
    pub async fn list_keys(&self, bucket: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut pages = self
            .s3()
            .list_objects_v2()
            .bucket(bucket)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.unwrap_or_else(|e| panic!("listing {bucket}: {e:?}"));
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
        }
        keys
    }

    /// The environment that points `gota-api` (through the AWS SDK's own settings) here.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL_DYNAMODB", self.endpoint.as_str()),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", self.endpoint.as_str()),
            ("AWS_ENDPOINT_URL_S3", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    /// Runs `gota-api create-table` for `table` against this emulator.
    pub fn create_table(&self, table: &str) {
        let output = gota_api(&self.env())
            .env("GOTA_TABLE_NAME", table)
            .arg("create-table")
            .output()
            .expect("run gota-api create-table");
        assert!(
            output.status.success(),
            "create-table failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// An SQS queue in moto.
#[derive(Debug, Clone)]
pub struct Queue {
    pub sqs: aws_sdk_sqs::Client,
    pub url: String,
    pub arn: String,
}

impl Queue {
    /// Receives until the queue answers empty (messages stay in flight, as Lambda's poller
    /// leaves them while the function runs), at most `max` of them.
    pub async fn receive(&self, max: usize) -> Vec<aws_sdk_sqs::types::Message> {
        let mut received = Vec::new();
        while received.len() < max {
            let batch = self
                .sqs
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(10)
                .message_system_attribute_names(aws_sdk_sqs::types::MessageSystemAttributeName::All)
                .send()
                .await
                .expect("receive message")
                .messages
                .unwrap_or_default();
            if batch.is_empty() {
                break;
            }
            received.extend(batch);
        }
        received
    }

    /// Deletes `messages`, as Lambda does with those a function's answer does not name.
    pub async fn delete(&self, messages: &[aws_sdk_sqs::types::Message]) {
        for message in messages {
            self.sqs
                .delete_message()
                .queue_url(&self.url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete message");
        }
    }

    /// `messages` as the SQS event Lambda's event source mapping hands a function
    /// (<https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html>, "Example standard queue
    /// message event").
    pub fn lambda_event(&self, messages: &[aws_sdk_sqs::types::Message]) -> serde_json::Value {
        let records: Vec<serde_json::Value> = messages
            .iter()
            .map(|m| {
                let attributes: serde_json::Map<String, serde_json::Value> = m
                    .attributes()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| (k.as_str().to_owned(), v.clone().into()))
                            .collect()
                    })
                    .unwrap_or_default();
                serde_json::json!({
                    "messageId": m.message_id(),
                    "receiptHandle": m.receipt_handle(),
                    "body": m.body(),
                    "attributes": attributes,
                    "messageAttributes": {},
                    "md5OfBody": m.md5_of_body(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.arn,
                    "awsRegion": REGION,
                })
            })
            .collect();
        serde_json::json!({ "Records": records })
    }
}

/// A Cognito user pool in moto with an app client that allows USER_PASSWORD_AUTH.
#[derive(Debug, Clone)]
pub struct UserPool {
    pub client: cognito::Client,
    pub id: String,
    pub client_id: String,
    pub jwks_url: String,
}

#[derive(Debug, Clone)]
pub struct Tokens {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

impl UserPool {
    pub async fn create(moto: &Moto, name: &str) -> Self {
        let client = cognito::Client::new(&moto.sdk_config());
        let pool = client
            .create_user_pool()
            .pool_name(name)
            .send()
            .await
            .expect("create user pool");
        let id = pool.user_pool.and_then(|p| p.id).expect("pool id");
        let app = client
            .create_user_pool_client()
            .user_pool_id(&id)
            .client_name("gota-api")
            .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(cognito::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("create app client");
        let client_id = app
            .user_pool_client
            .and_then(|c| c.client_id)
            .expect("client id");
        client
            .create_group()
            .user_pool_id(&id)
            .group_name("admin")
            .send()
            .await
            .expect("create admin group");
        let jwks_url = format!("{}/{id}/.well-known/jwks.json", moto.endpoint);
        Self {
            client,
            id,
            client_id,
            jwks_url,
        }
    }

    /// A confirmed user with a permanent password, in `groups`.
    pub async fn add_user(&self, username: &str, groups: &[&str]) {
        self.client
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(username)
            .send()
            .await
            .expect("create user");
        self.client
            .admin_set_user_password()
            .user_pool_id(&self.id)
            .username(username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("set password");
        for group in groups {
            self.client
                .admin_add_user_to_group()
                .user_pool_id(&self.id)
                .username(username)
                .group_name(*group)
                .send()
                .await
                .expect("add to group");
        }
    }

    pub async fn login(&self, username: &str) -> Tokens {
        let auth = self
            .client
            .initiate_auth()
            .client_id(&self.client_id)
            .auth_flow(cognito::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("initiate auth");
        let result = auth.authentication_result.expect("tokens");
        Tokens {
            id: result.id_token.expect("id token"),
            access: result.access_token.expect("access token"),
            refresh: result.refresh_token.unwrap_or_default(),
        }
    }

    /// The environment that makes `gota-api` trust this pool.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("GOTA_USER_POOL_ID".into(), self.id.clone()),
            ("GOTA_USER_POOL_CLIENT_IDS".into(), self.client_id.clone()),
            ("GOTA_JWKS_URL".into(), self.jwks_url.clone()),
        ]
    }
}
