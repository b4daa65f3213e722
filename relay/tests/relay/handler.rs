//! The handler in process, fed the fixtures, sending to a recording chat server.

use std::sync::{Arc, Mutex};

use gota_relay::config::SecretSource;
use gota_relay::message::Links;
use gota_relay::{Outcome, Relay};
use reqwest::Url;

use crate::support::{ChatServer, fixture};

const TOKEN: &str = "123456:AAH-token_Secret";

/// The secret as a test sets it; [`Secret::set`] stands for `put-secret-value`.
#[derive(Debug, Clone)]
struct Secret(Arc<Mutex<String>>);

impl Secret {
    fn new(value: String) -> Self {
        Self(Arc::new(Mutex::new(value)))
    }
    fn set(&self, value: String) {
        *self.0.lock().unwrap() = value;
    }
}

#[async_trait::async_trait]
impl SecretSource for Secret {
    async fn secret_string(&self) -> anyhow::Result<String> {
        Ok(self.0.lock().unwrap().clone())
    }
}

fn both(chat: &ChatServer, hook: &str) -> String {
    serde_json::json!({
        "slackWebhookUrl": chat.url(hook),
        "telegramBotToken": TOKEN,
        "telegramChatId": -1001234567890_i64,
    })
    .to_string()
}

fn links() -> Links {
    Links {
        dashboard: Some("https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=Gota-prod-Dashboard".into()),
        runbooks: Some("https://github.com/acme/gota/blob/main/doc/operations.md".into()),
    }
}

async fn relay(chat: &ChatServer, secret: &Secret) -> Relay {
    let telegram_api = Url::parse(&chat.url("/telegram")).unwrap();
    Relay::init(Arc::new(secret.clone()), links(), telegram_api)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_alarm_reaches_slack_and_telegram_with_state_reason_region_and_links() {
    let chat = ChatServer::start().await;
    let secret = Secret::new(both(&chat, "/services/T0/B0/hooksecret"));
    let relay = relay(&chat, &secret).await;

    let outcome = relay
        .handle(fixture("alarm-api-5xx-rate.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome {
            relayed: 1,
            skipped: 0
        }
    );

    let received = chat.take();
    assert_eq!(received.len(), 2, "{received:#?}");
    let slack = &received[0];
    assert_eq!(slack.path, "/services/T0/B0/hooksecret");
    assert_eq!(slack.content_type, "application/json");
    let text = slack.body["text"].as_str().unwrap();
    let expected = [
        ":rotating_light: *ALARM* `Gota-prod-MonitoringApi5xxRate6F2E1A3B-1Q2W3E4R5T6Y`",
        "*State:* OK → ALARM",
        "*Reason:* `Threshold Crossed: 2 out of the last 3 datapoints [4.3478260869565215 (14/03/26 09:20:00), 2.1 (14/03/26 09:15:00)] were greater than the threshold (1.0) (minimum 2 datapoints for OK -&gt; ALARM transition).`",
        "*Description:* `More than 1% of API requests answered 5xx. Runbook: doc/operations.md#api-5xx-rate`",
        "*Region:* `EU (Ireland) (eu-west-1)` · *Since:* `2026-03-14T09:26:53.537+0000`",
        "<https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#dashboards:name=Gota-prod-Dashboard|Dashboard> · <https://github.com/acme/gota/blob/main/doc/operations.md#api-5xx-rate|Runbook>",
    ];
    assert_eq!(text.lines().collect::<Vec<_>>(), expected);

    let telegram = &received[1];
    assert_eq!(telegram.path, format!("/telegram/bot{TOKEN}/sendMessage"));
    assert_eq!(telegram.body["chat_id"], "-1001234567890");
    assert_eq!(telegram.body["parse_mode"], "HTML");
    assert_eq!(telegram.body["link_preview_options"]["is_disabled"], true);
    let html = telegram.body["text"].as_str().unwrap();
    assert!(html.starts_with("\u{1F6A8} <b>ALARM</b> <code>Gota-prod-MonitoringApi5xxRate6F2E1A3B-1Q2W3E4R5T6Y</code>\n<b>State:</b> OK → ALARM\n"), "{html}");
    assert!(
        html.contains("(minimum 2 datapoints for OK -&gt; ALARM transition)"),
        "{html}"
    );
    assert!(html.ends_with("<a href=\"https://github.com/acme/gota/blob/main/doc/operations.md#api-5xx-rate\">Runbook</a>"), "{html}");
}

#[tokio::test]
async fn every_alarm_fixture_is_relayed_with_its_states() {
    let chat = ChatServer::start().await;
    let secret = Secret::new(both(&chat, "/hook"));
    let relay = relay(&chat, &secret).await;
    let cases = [
        (
            "alarm-lambda-errors-ok.json",
            1,
            ":white_check_mark: *OK*",
            "*State:* ALARM → OK",
            Some("#lambda-errors|Runbook>"),
        ),
        (
            "alarm-insufficient-data-no-description.json",
            1,
            ":grey_question: *INSUFFICIENT_DATA*",
            "*State:* OK → INSUFFICIENT_DATA",
            None,
        ),
        // AWS's sample: two records in one event, placeholder values.
        (
            "aws-sample-multiple-metrics.json",
            2,
            ":rotating_light: *ALARM* `EXAMPLE`",
            "*State:* INSUFFICIENT_DATA → ALARM",
            None,
        ),
    ];
    for (name, records, headline, state, runbook) in cases {
        let outcome = relay.handle(fixture(name)).await.unwrap();
        assert_eq!(
            outcome,
            Outcome {
                relayed: records,
                skipped: 0
            },
            "{name}"
        );
        let received = chat.take();
        assert_eq!(received.len(), 2 * records, "{name}");
        let text = received[0].body["text"].as_str().unwrap();
        assert!(text.starts_with(headline), "{name}: {text}");
        assert!(text.contains(state), "{name}: {text}");
        match runbook {
            Some(anchor) => assert!(text.contains(anchor), "{name}: {text}"),
            // No anchor in the description: the link is the runbook page itself.
            None => assert!(
                text.contains("doc/operations.md|Runbook>"),
                "{name}: {text}"
            ),
        }
    }
}

#[tokio::test]
async fn markup_in_an_alarm_name_is_shown_as_text_in_both_chats() {
    let chat = ChatServer::start().await;
    let secret = Secret::new(both(&chat, "/hook"));
    let relay = relay(&chat, &secret).await;
    relay
        .handle(fixture("alarm-markup-in-name.json"))
        .await
        .unwrap();
    let received = chat.take();
    let slack = received[0].body["text"].as_str().unwrap();
    assert_eq!(
        slack.lines().next().unwrap(),
        ":rotating_light: *ALARM* `&lt;!channel&gt; R&amp;D *p99* _latency_ &lt;/code&gt;`"
    );
    assert!(
        !slack.contains("<!channel>"),
        "a raw Slack mention would ping the channel: {slack}"
    );
    let html = received[1].body["text"].as_str().unwrap();
    assert_eq!(
        html.lines().next().unwrap(),
        "\u{1F6A8} <b>ALARM</b> <code>&lt;!channel&gt; R&amp;D *p99* _latency_ &lt;/code&gt;</code>"
    );
    assert!(
        html.contains("<b>Description:</b> Names may hold &lt;, &amp;, * and _."),
        "{html}"
    );
}

#[tokio::test]
async fn what_is_not_an_alarm_is_skipped_without_error_or_message() {
    let chat = ChatServer::start().await;
    let secret = Secret::new(both(&chat, "/hook"));
    let relay = relay(&chat, &secret).await;
    for name in ["sns-not-an-alarm.json", "not-sns.json"] {
        let outcome = relay.handle(fixture(name)).await.unwrap();
        assert_eq!(
            outcome,
            Outcome {
                relayed: 0,
                skipped: 1
            },
            "{name}"
        );
    }
    let outcome = relay
        .handle(serde_json::json!("just a string"))
        .await
        .unwrap();
    assert_eq!(outcome.skipped, 1);
    assert!(chat.take().is_empty());
}

#[tokio::test]
async fn a_failing_chat_endpoint_fails_the_invocation_without_revealing_credentials() {
    let chat = ChatServer::start().await;
    let secret = Secret::new(both(&chat, "/services/T0/B0/hooksecret"));
    let relay = relay(&chat, &secret).await;
    chat.answer(500);
    let error = relay
        .handle(fixture("alarm-api-5xx-rate.json"))
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(message.contains("slack answered HTTP 500"), "{message}");
    assert!(message.contains("telegram answered HTTP 500"), "{message}");
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "ChatDeliveryFailed");
    for secret_part in ["hooksecret", "token_Secret"] {
        assert!(
            !diagnostic.error_message.contains(secret_part),
            "{}",
            diagnostic.error_message
        );
    }
}

#[tokio::test]
async fn an_unreachable_chat_endpoint_fails_the_invocation_without_revealing_its_url() {
    let chat = ChatServer::start().await;
    // A port nothing listens on: bound, then released.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let secret = Secret::new(
        serde_json::json!({"slackWebhookUrl": format!("http://{closed}/services/hooksecret")})
            .to_string(),
    );
    let relay = relay(&chat, &secret).await;
    let message = relay
        .handle(fixture("alarm-api-5xx-rate.json"))
        .await
        .unwrap_err()
        .to_string();
    assert!(message.contains("slack could not be reached"), "{message}");
    assert!(!message.contains("hooksecret"), "{message}");
}

#[tokio::test]
async fn after_a_failed_delivery_the_retry_reads_the_replaced_secret() {
    let chat = ChatServer::start().await;
    let secret =
        Secret::new(serde_json::json!({"slackWebhookUrl": chat.url("/revoked")}).to_string());
    let relay = relay(&chat, &secret).await;
    chat.answer(404);
    relay
        .handle(fixture("alarm-api-5xx-rate.json"))
        .await
        .unwrap_err();
    assert_eq!(chat.take()[0].path, "/revoked");

    // The operator replaces the webhook; Lambda's retry of the same event gets through.
    secret.set(serde_json::json!({"slackWebhookUrl": chat.url("/replacement")}).to_string());
    chat.answer(200);
    relay
        .handle(fixture("alarm-api-5xx-rate.json"))
        .await
        .unwrap();
    assert_eq!(chat.take()[0].path, "/replacement");
}

#[tokio::test]
async fn an_unconfigured_relay_skips_alarms_until_the_secret_names_a_destination() {
    let chat = ChatServer::start().await;
    let secret = Secret::new("{}".into());
    let relay = relay(&chat, &secret).await;
    let outcome = relay
        .handle(fixture("alarm-api-5xx-rate.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome {
            relayed: 0,
            skipped: 1
        }
    );
    assert!(chat.take().is_empty());

    secret.set(serde_json::json!({"slackWebhookUrl": chat.url("/hook")}).to_string());
    let outcome = relay
        .handle(fixture("alarm-api-5xx-rate.json"))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Outcome {
            relayed: 1,
            skipped: 0
        }
    );
    assert_eq!(chat.take().len(), 1);
}

#[tokio::test]
async fn a_malformed_secret_fails_the_init() {
    let chat = ChatServer::start().await;
    let secret = Secret::new(r#"{"slackWebhookUrl":"http://hooks.example.com/hooksecret"}"#.into());
    let telegram_api = Url::parse(&chat.url("/telegram")).unwrap();
    let error = Relay::init(Arc::new(secret), links(), telegram_api)
        .await
        .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("slackWebhookUrl must be an https:// URL"),
        "{message}"
    );
    assert!(!message.contains("hooksecret"), "{message}");
}
