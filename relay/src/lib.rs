//! `gota-relay`: a Lambda function subscribed to the stack's alarm topic that turns each
//! CloudWatch alarm notification into a chat message — a Slack (or Slack-compatible) incoming
//! webhook, a Telegram bot, or both — with the alarm's state change, reason, region, and links
//! to the dashboard and the alarm's runbook. Credentials come from one Secrets Manager secret.

pub mod alarm;
pub mod chat;
pub mod config;
pub mod message;
pub mod relay;

pub use relay::{Outcome, Relay, RelayError};
