//! The handler: one SNS event in, one chat message per alarm out.
//!
//! SNS invokes the function asynchronously. When a chat endpoint fails the handler returns an
//! error, and Lambda runs it again twice (1 and 2 minutes later) before dropping the event
//! (doc/adr/0019-chat-relay.md cites the retry policies). Anything that is not an alarm is
//! logged and skipped with success: retrying it could never help.

use std::sync::Arc;

use aws_lambda_events::event::sns::SnsEvent;
use reqwest::Url;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::alarm::Alarm;
use crate::chat::{DeliveryError, Destinations, SecretError};
use crate::config::SecretSource;
use crate::message::Links;

/// What one invocation did; the function's response.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Alarms sent to every configured destination.
    pub relayed: usize,
    /// Records that were not alarms, or alarms with no destination configured.
    pub skipped: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    #[error("reading the chat secret: {0:#}")]
    Secret(anyhow::Error),
    #[error("the chat secret is unusable: {0}")]
    SecretShape(#[from] SecretError),
    #[error("alarm {alarm:?} was not delivered: {}", join(.failures))]
    Delivery {
        alarm: String,
        failures: Vec<DeliveryError>,
    },
}

fn join(failures: &[DeliveryError]) -> String {
    failures
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl From<RelayError> for lambda_runtime::Diagnostic {
    fn from(error: RelayError) -> Self {
        let error_type = match error {
            RelayError::Secret(_) | RelayError::SecretShape(_) => "ChatSecretUnavailable",
            RelayError::Delivery { .. } => "ChatDeliveryFailed",
        };
        Self {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// The relay: HTTP client, links, and the destinations read from the secret.
///
/// The secret is read at init. It is read again before the next alarm when it configured no
/// destination (so enabling chat alerts needs no deploy) and after a failed delivery (so a
/// replaced webhook or token is picked up by Lambda's retry of that same alarm).
#[derive(Debug)]
pub struct Relay {
    http: reqwest::Client,
    links: Links,
    telegram_api: Url,
    source: Arc<dyn SecretSource>,
    destinations: Mutex<Option<Destinations>>,
}

impl Relay {
    /// Reads the secret once; an unreadable or malformed secret fails the init.
    pub async fn init(
        source: Arc<dyn SecretSource>,
        links: Links,
        telegram_api: Url,
    ) -> Result<Self, RelayError> {
        let relay = Self {
            http: reqwest::Client::new(),
            links,
            telegram_api,
            source,
            destinations: Mutex::new(None),
        };
        let destinations = relay.read_secret().await?;
        if destinations.is_empty() {
            tracing::warn!(
                "the chat secret configures no destination: alarms will be skipped until it does (doc/operations.md#chat-alerts)"
            );
        } else {
            tracing::info!(destinations = ?destinations.names(), "chat relay ready");
        }
        *relay.destinations.lock().await = Some(destinations);
        Ok(relay)
    }

    async fn read_secret(&self) -> Result<Destinations, RelayError> {
        let secret = self
            .source
            .secret_string()
            .await
            .map_err(RelayError::Secret)?;
        Ok(Destinations::from_secret(&secret, &self.telegram_api)?)
    }

    async fn current(&self) -> Result<Destinations, RelayError> {
        let mut cached = self.destinations.lock().await;
        match cached.as_ref() {
            Some(d) if !d.is_empty() => Ok(d.clone()),
            _ => {
                let fresh = self.read_secret().await?;
                *cached = Some(fresh.clone());
                Ok(fresh)
            }
        }
    }

    /// Handles one Lambda event: the SNS envelope, each record's `Message` an alarm.
    pub async fn handle(&self, event: serde_json::Value) -> Result<Outcome, RelayError> {
        let event: SnsEvent = match serde_json::from_value(event) {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, "the event is not an SNS notification; skipped");
                return Ok(Outcome {
                    relayed: 0,
                    skipped: 1,
                });
            }
        };
        let mut outcome = Outcome::default();
        for record in &event.records {
            let sns = &record.sns;
            let Some(alarm) = Alarm::parse(&sns.message) else {
                tracing::warn!(
                    message_id = %sns.message_id,
                    topic = %sns.topic_arn,
                    "the SNS message is not a CloudWatch alarm state change; skipped"
                );
                outcome.skipped += 1;
                continue;
            };
            let destinations = self.current().await.inspect_err(|error| {
                tracing::error!(error = %error, "chat secret unreadable; Lambda retries the event");
            })?;
            if destinations.is_empty() {
                tracing::warn!(
                    alarm = %alarm.alarm_name,
                    "no chat destination configured; alarm not relayed (doc/operations.md#chat-alerts)"
                );
                outcome.skipped += 1;
                continue;
            }
            let failures = destinations.send(&self.http, &alarm, &self.links).await;
            if !failures.is_empty() {
                // Read the secret again on the retry: the endpoint may have been replaced.
                *self.destinations.lock().await = None;
                let error = RelayError::Delivery {
                    alarm: alarm.alarm_name,
                    failures,
                };
                tracing::error!(error = %error, "alarm not relayed; Lambda retries the event");
                return Err(error);
            }
            tracing::info!(
                alarm = %alarm.alarm_name,
                state = alarm.new_state_value.as_str(),
                destinations = ?destinations.names(),
                "alarm relayed"
            );
            outcome.relayed += 1;
        }
        Ok(outcome)
    }
}
