//! The cursor key in AWS Secrets Manager: AWSCURRENT signs, AWSPREVIOUS is still accepted, so
//! a rotation (`PutSecretValue`, which moves the labels) never breaks a page in flight.
//!
//! Secrets Manager labels: `PutSecretValue` "automatically moves the staging label AWSCURRENT
//! to this version" and AWSPREVIOUS to the version that had it
//! (<https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html>);
//! `GetSecretValue` with a `VersionStage` reads the version that carries it
//! (<https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html>).

use std::time::Duration;

use anyhow::Context as _;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;

use crate::config::parse_cursor_key;
use crate::http::cursor::{KeySource, Keyring};

/// The longest one read of both labels may take, retries included. Lambda gives the whole
/// init phase 10 s; a read at start must fail loudly well inside it.
pub const READ_TIMEOUT: Duration = Duration::from_secs(4);

/// The IAM actions [`SecretsManagerKeys`] calls (its one `get_secret_value` below), printed by
/// `gota-api iam-actions` for the stack's grant on the cursor secret.
pub const IAM_ACTIONS: &[&str] = &["secretsmanager:GetSecretValue"];

/// Reads the cursor keys from one secret (GetSecretValue on that ARN is all it needs).
#[derive(Debug, Clone)]
pub struct SecretsManagerKeys {
    client: Client,
    arn: String,
}

impl SecretsManagerKeys {
    /// With the SDK's own configuration chain (region, credentials,
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`) and bounded timeouts. Does no I/O.
    pub fn connect(aws: &aws_config::SdkConfig, arn: &str) -> Self {
        let config = aws_sdk_secretsmanager::config::Builder::from(aws)
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_max_backoff(Duration::from_millis(500)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(1))
                    .operation_attempt_timeout(Duration::from_millis(1500))
                    .operation_timeout(READ_TIMEOUT)
                    .build(),
            )
            .build();
        Self::with_client(Client::from_conf(config), arn)
    }

    pub fn with_client(client: Client, arn: &str) -> Self {
        Self {
            client,
            arn: arn.to_owned(),
        }
    }

    /// The key under `stage`; `None` when no version carries it (AWSPREVIOUS before the first
    /// rotation). Errors name the secret and the stage, never the value.
    async fn read(&self, stage: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let reply = self
            .client
            .get_secret_value()
            .secret_id(&self.arn)
            .version_stage(stage)
            .send()
            .await;
        let output = match reply {
            Ok(output) => output,
            Err(error)
                if stage != "AWSCURRENT"
                    && matches!(
                        error.as_service_error(),
                        Some(GetSecretValueError::ResourceNotFoundException(_))
                    ) =>
            {
                return Ok(None);
            }
            Err(error) => {
                return Err(anyhow::Error::new(error))
                    .with_context(|| format!("GetSecretValue {} ({stage})", self.arn));
            }
        };
        let text = output
            .secret_string()
            .with_context(|| format!("{} ({stage}) has no SecretString", self.arn))?;
        parse_cursor_key(text)
            .map(Some)
            .map_err(|problem| anyhow::anyhow!("{} ({stage}) {problem}", self.arn))
    }
}

#[async_trait::async_trait]
impl KeySource for SecretsManagerKeys {
    #[tracing::instrument(skip(self), fields(secret = %self.arn))]
    async fn fetch(&self) -> anyhow::Result<Keyring> {
        let (current, previous) = tokio::join!(self.read("AWSCURRENT"), self.read("AWSPREVIOUS"));
        let current = current?.with_context(|| format!("{} has no AWSCURRENT", self.arn))?;
        // Only the signing key is needed to serve. A bad AWSPREVIOUS must not stop every cold
        // start: moving AWSCURRENT back to an older version (the runbook's undo) makes
        // Secrets Manager move AWSPREVIOUS onto the version it came from — the bad one
        // ("UpdateSecretVersionStage", Secrets Manager API reference). Without it, cursors
        // signed before the last rotation are refused (422) until the next one.
        let previous = previous.unwrap_or_else(|error| {
            tracing::warn!(
                error = format!("{error:#}"),
                "cursor keys: AWSPREVIOUS is unusable; verifying with AWSCURRENT only"
            );
            None
        });
        Ok(Keyring::new(&current, previous.as_deref()))
    }
}
