//! Where messages go, read from the relay's secret, and how they are sent.
//!
//! The secret is a JSON object with any of
//! `{"slackWebhookUrl": "https://hooks.slack.com/services/…"}` and
//! `{"telegramBotToken": "123456:ABC…", "telegramChatId": "-100123…"}`; `{}` relays nothing.
//! Both the webhook URL and the bot token are credentials: no error, log line or `Debug` output
//! of this module contains them.

use std::fmt;
use std::time::Duration;

use reqwest::Url;
use serde::Deserialize;

use crate::alarm::Alarm;
use crate::message::{self, Links};

/// Each chat request is bounded, so that two destinations and a secret read fit in the
/// function's timeout.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// The destinations configured in the secret.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Destinations {
    slack: Option<Url>,
    telegram: Option<TelegramBot>,
}

#[derive(Clone, PartialEq, Eq)]
struct TelegramBot {
    /// `<api>/bot<token>/sendMessage`: holds the token.
    send_message: Url,
    chat_id: String,
}

impl fmt::Debug for Destinations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Destinations")
            .field("slack", &self.slack.as_ref().map(|_| "<redacted>"))
            .field(
                "telegram_chat_id",
                &self.telegram.as_ref().map(|t| &t.chat_id),
            )
            .finish()
    }
}

/// The secret does not describe destinations. Names the field, never its value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the secret is not a JSON object of slackWebhookUrl, telegramBotToken, telegramChatId (problem at `{0}`)"
    )]
    Shape(String),
    #[error("{0} must be an https:// URL (http:// only for 127.0.0.1 or localhost)")]
    NotHttps(&'static str),
    #[error("telegramBotToken and telegramChatId go together; the secret has only one of them")]
    HalfTelegram,
    #[error("telegramBotToken is not a bot token (digits, a colon, then letters, digits, - or _)")]
    BadToken,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SecretJson {
    slack_webhook_url: Option<String>,
    telegram_bot_token: Option<String>,
    telegram_chat_id: Option<ChatId>,
}

/// Telegram chat ids are numbers (`-100…` for channels) or `@channelusername`.
#[derive(Deserialize)]
#[serde(untagged)]
enum ChatId {
    Number(i64),
    Text(String),
}

/// `https://…`, or `http://` to a loopback host (the tests' local servers).
pub fn parse_endpoint(value: &str, what: &'static str) -> Result<Url, SecretError> {
    let url = Url::parse(value).map_err(|_| SecretError::NotHttps(what))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(SecretError::NotHttps(what)),
    }
}

impl Destinations {
    /// Parses the secret string; `telegram_api` is Telegram's Bot API base
    /// (`https://api.telegram.org`).
    pub fn from_secret(secret: &str, telegram_api: &Url) -> Result<Self, SecretError> {
        let mut de = serde_json::Deserializer::from_str(secret);
        let parsed: SecretJson = serde_path_to_error::deserialize(&mut de)
            .map_err(|e| SecretError::Shape(e.path().to_string()))?;
        let slack = parsed
            .slack_webhook_url
            .map(|url| parse_endpoint(&url, "slackWebhookUrl"))
            .transpose()?;
        let telegram = match (parsed.telegram_bot_token, parsed.telegram_chat_id) {
            (None, None) => None,
            (Some(token), Some(chat)) => {
                let valid = token.split_once(':').is_some_and(|(bot, key)| {
                    !bot.is_empty()
                        && bot.chars().all(|c| c.is_ascii_digit())
                        && !key.is_empty()
                        && key
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
                if !valid {
                    return Err(SecretError::BadToken);
                }
                let base = telegram_api.as_str().trim_end_matches('/');
                let send_message = Url::parse(&format!("{base}/bot{token}/sendMessage"))
                    .map_err(|_| SecretError::BadToken)?;
                let chat_id = match chat {
                    ChatId::Number(n) => n.to_string(),
                    ChatId::Text(s) => s,
                };
                Some(TelegramBot {
                    send_message,
                    chat_id,
                })
            }
            _ => return Err(SecretError::HalfTelegram),
        };
        Ok(Self { slack, telegram })
    }

    pub fn is_empty(&self) -> bool {
        self.slack.is_none() && self.telegram.is_none()
    }

    /// Names of the configured destinations, for logs.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        if self.slack.is_some() {
            names.push("slack");
        }
        if self.telegram.is_some() {
            names.push("telegram");
        }
        names
    }

    /// Sends `alarm` to every destination; the failures, if any.
    pub async fn send(
        &self,
        http: &reqwest::Client,
        alarm: &Alarm,
        links: &Links,
    ) -> Vec<DeliveryError> {
        let mut failures = Vec::new();
        if let Some(webhook) = &self.slack {
            let body = message::slack(alarm, links);
            if let Err(e) = post(http, "slack", webhook, &body).await {
                failures.push(e);
            }
        }
        if let Some(bot) = &self.telegram {
            let body = serde_json::json!({
                "chat_id": bot.chat_id,
                "text": message::telegram_html(alarm, links),
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": true},
            });
            if let Err(e) = post(http, "telegram", &bot.send_message, &body).await {
                failures.push(e);
            }
        }
        failures
    }
}

/// A chat endpoint did not take the message. Carries no URL (it is a credential).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("{destination} answered HTTP {status}")]
    Status {
        destination: &'static str,
        status: u16,
    },
    #[error("{destination} could not be reached: {cause}")]
    Transport {
        destination: &'static str,
        cause: String,
    },
}

async fn post(
    http: &reqwest::Client,
    destination: &'static str,
    url: &Url,
    body: &serde_json::Value,
) -> Result<(), DeliveryError> {
    let transport = |e: reqwest::Error| DeliveryError::Transport {
        destination,
        cause: format!("{:#}", anyhow::Error::new(e.without_url())),
    };
    let response = http
        .post(url.clone())
        .timeout(REQUEST_TIMEOUT)
        .json(body)
        .send()
        .await
        .map_err(transport)?;
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(DeliveryError::Status {
            destination,
            status: status.as_u16(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api() -> Url {
        Url::parse("https://api.telegram.org").unwrap()
    }

    #[test]
    fn an_empty_object_configures_nothing() {
        let d = Destinations::from_secret("{}", &api()).unwrap();
        assert!(d.is_empty());
    }

    #[test]
    fn both_destinations_parse_and_the_token_never_shows_in_debug_output() {
        let d = Destinations::from_secret(
            r#"{"slackWebhookUrl":"https://hooks.slack.com/services/T/B/SECRETPART","telegramBotToken":"123456:AAH-secret_Token","telegramChatId":-1001234}"#,
            &api(),
        )
        .unwrap();
        assert_eq!(d.names(), ["slack", "telegram"]);
        let bot = d.telegram.as_ref().unwrap();
        assert_eq!(
            bot.send_message.as_str(),
            "https://api.telegram.org/bot123456:AAH-secret_Token/sendMessage"
        );
        assert_eq!(bot.chat_id, "-1001234");
        let debug = format!("{d:?}");
        assert!(
            !debug.contains("SECRETPART") && !debug.contains("secret_Token"),
            "{debug}"
        );
    }

    #[test]
    fn a_bad_secret_is_refused_with_the_field_named_and_the_value_withheld() {
        let cases = [
            (
                r#"{"slackWebhookUrl":"http://hooks.example.com/x-secret"}"#,
                "slackWebhookUrl must be an https://",
            ),
            (
                r#"{"slackWebhook":"https://x/x-secret"}"#,
                "problem at `slackWebhook`",
            ),
            (r#"{"telegramBotToken":"1:x-secret"}"#, "go together"),
            (
                r#"{"telegramBotToken":"x-secret/../","telegramChatId":"1"}"#,
                "not a bot token",
            ),
            (
                r#"{"telegramChatId":["x-secret"],"telegramBotToken":"1:a"}"#,
                "problem at `telegramChatId`",
            ),
            ("x-secret", "not a JSON object"),
        ];
        for (secret, expected) in cases {
            let error = Destinations::from_secret(secret, &api())
                .unwrap_err()
                .to_string();
            assert!(error.contains(expected), "{secret}: {error}");
            assert!(!error.contains("x-secret"), "{secret}: {error}");
        }
    }

    #[test]
    fn plain_http_is_accepted_for_loopback_only() {
        assert!(parse_endpoint("http://127.0.0.1:9/hook", "u").is_ok());
        assert!(parse_endpoint("http://localhost/hook", "u").is_ok());
        assert!(parse_endpoint("http://10.0.0.1/hook", "u").is_err());
        assert!(parse_endpoint("ftp://127.0.0.1/hook", "u").is_err());
        assert!(parse_endpoint("not a url", "u").is_err());
    }
}
