//! The relay's configuration: plain settings from the environment the stack sets, and the
//! chat credentials from one Secrets Manager secret (never from the environment, where anyone
//! allowed `lambda:GetFunctionConfiguration` could read them).

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use reqwest::Url;

use crate::chat::parse_endpoint;
use crate::message::Links;

pub const SECRET_ARN: &str = "GOTA_RELAY_SECRET_ARN";
pub const DASHBOARD_URL: &str = "GOTA_RELAY_DASHBOARD_URL";
pub const RUNBOOK_URL: &str = "GOTA_RELAY_RUNBOOK_URL";
pub const TELEGRAM_API_URL: &str = "GOTA_RELAY_TELEGRAM_API_URL";

const TELEGRAM_API: &str = "https://api.telegram.org";

#[derive(Debug, Clone)]
pub struct Settings {
    pub secret_arn: String,
    pub links: Links,
    pub telegram_api: Url,
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct SettingsError {
    variable: &'static str,
    problem: String,
}

impl Settings {
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let url = |variable: &'static str| -> Result<Option<Url>, SettingsError> {
            get(variable)
                .map(|value| {
                    parse_endpoint(&value, variable).map_err(|e| SettingsError {
                        variable,
                        problem: e.to_string(),
                    })
                })
                .transpose()
        };
        let secret_arn = get(SECRET_ARN).ok_or(SettingsError {
            variable: SECRET_ARN,
            problem: "not set (the ARN of the secret holding the chat webhook URL or bot token)"
                .into(),
        })?;
        let telegram_api = match url(TELEGRAM_API_URL)? {
            Some(url) => url,
            None => Url::parse(TELEGRAM_API).map_err(|e| SettingsError {
                variable: TELEGRAM_API_URL,
                problem: e.to_string(),
            })?,
        };
        Ok(Self {
            secret_arn,
            links: Links {
                dashboard: url(DASHBOARD_URL)?.map(String::from),
                runbooks: url(RUNBOOK_URL)?.map(String::from),
            },
            telegram_api,
        })
    }
}

/// Where the secret string comes from: Secrets Manager in Lambda, a constant in some tests.
#[async_trait::async_trait]
pub trait SecretSource: Send + Sync + std::fmt::Debug {
    async fn secret_string(&self) -> anyhow::Result<String>;
}

/// `secretsmanager:GetSecretValue` on one ARN: the only call the relay's role allows.
#[derive(Debug)]
pub struct SecretsManager {
    client: aws_sdk_secretsmanager::Client,
    arn: String,
}

impl SecretsManager {
    /// Init must finish inside Lambda's 10-second init phase: every call is bounded.
    pub async fn from_env(arn: String) -> Self {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(2))
                    .operation_timeout(Duration::from_secs(5))
                    .build(),
            )
            .load()
            .await;
        Self {
            client: aws_sdk_secretsmanager::Client::new(&sdk),
            arn,
        }
    }
}

#[async_trait::async_trait]
impl SecretSource for SecretsManager {
    async fn secret_string(&self) -> anyhow::Result<String> {
        use anyhow::Context as _;
        let output = self
            .client
            .get_secret_value()
            .secret_id(&self.arn)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(aws_sdk_secretsmanager::error::DisplayErrorContext(e)))
            .with_context(|| format!("GetSecretValue on {}", self.arn))?;
        output
            .secret_string
            .with_context(|| format!("secret {} has no string value", self.arn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_secret_arn_is_required_and_the_rest_is_optional() {
        let error = Settings::from_lookup(lookup(&[])).unwrap_err().to_string();
        assert!(
            error.starts_with("GOTA_RELAY_SECRET_ARN: not set"),
            "{error}"
        );
        let settings = Settings::from_lookup(lookup(&[(SECRET_ARN, "arn:x")])).unwrap();
        assert_eq!(settings.telegram_api.as_str(), "https://api.telegram.org/");
        assert_eq!(settings.links, Links::default());
    }

    #[test]
    fn links_must_be_https() {
        let error = Settings::from_lookup(lookup(&[
            (SECRET_ARN, "arn:x"),
            (RUNBOOK_URL, "http://example.com/doc"),
        ]))
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("GOTA_RELAY_RUNBOOK_URL: "), "{error}");
    }
}
