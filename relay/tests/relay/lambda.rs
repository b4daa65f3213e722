//! The real `gota-relay` binary as Lambda runs it: its secret read at init from Secrets
//! Manager (moto, through the real AWS SDK), events from the Runtime API, answers to it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gota_testkit::{Moto, Process, REGION};
use serde_json::{Value, json};

use crate::support::{ChatServer, Report, RuntimeApi, fixture};

fn relay_command(
    runtime: &RuntimeApi,
    moto: &Moto,
    secret_arn: &str,
    chat: &ChatServer,
) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gota-relay"));
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "gota-relay")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", &moto.endpoint)
        .env("AWS_REGION", REGION)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .env("GOTA_RELAY_SECRET_ARN", secret_arn)
        .env("GOTA_RELAY_TELEGRAM_API_URL", chat.url("/telegram"))
        .env(
            "GOTA_RELAY_DASHBOARD_URL",
            "https://console.aws.amazon.com/cloudwatch/home#dashboards:name=D",
        )
        .env(
            "GOTA_RELAY_RUNBOOK_URL",
            "https://github.com/acme/gota/blob/main/doc/operations.md",
        )
        .env("RUST_LOG", "info")
        .stdout(Stdio::null());
    command
}

async fn create_secret(moto: &Moto, name: &str, value: &Value) -> String {
    let client = aws_sdk_secretsmanager::Client::new(&moto.sdk_config());
    client
        .create_secret()
        .name(name)
        .secret_string(value.to_string())
        .send()
        .await
        .unwrap()
        .arn
        .unwrap()
}

#[tokio::test]
async fn the_binary_reads_its_secret_at_init_relays_an_alarm_and_reports_failures_to_lambda() {
    let moto = Moto::start().await;
    let chat = ChatServer::start().await;
    let mut runtime = RuntimeApi::start().await;
    let arn = create_secret(
        &moto,
        "gota-relay-chat",
        &json!({
            "slackWebhookUrl": chat.url("/services/T/B/hooksecret"),
            "telegramBotToken": "42:bot_Secret",
            "telegramChatId": "@gota_alerts",
        }),
    )
    .await;
    let mut process =
        Process::spawn(relay_command(&runtime, &moto, &arn, &chat).stderr(Stdio::null()));

    let report = runtime.invoke(fixture("alarm-lambda-errors-ok.json")).await;
    assert_eq!(
        report,
        Report::Response {
            request_id: "request-0".into(),
            body: json!({"relayed": 1, "skipped": 0})
        }
    );
    let received = chat.take();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].path, "/services/T/B/hooksecret");
    assert!(
        received[0].body["text"]
            .as_str()
            .unwrap()
            .starts_with(":white_check_mark: *OK*")
    );
    assert_eq!(received[1].path, "/telegram/bot42:bot_Secret/sendMessage");
    assert_eq!(received[1].body["chat_id"], "@gota_alerts");

    let report = runtime.invoke(fixture("sns-not-an-alarm.json")).await;
    assert_eq!(
        report,
        Report::Response {
            request_id: "request-1".into(),
            body: json!({"relayed": 0, "skipped": 1})
        }
    );

    // A failing endpoint is an invocation error: Lambda retries it (asynchronous invocation).
    chat.answer(503);
    let report = runtime.invoke(fixture("alarm-api-5xx-rate.json")).await;
    let Report::Error { request_id, body } = report else {
        panic!("expected an error, got {report:?}")
    };
    assert_eq!(request_id, "request-2");
    assert_eq!(body["errorType"], "ChatDeliveryFailed");
    let message = body["errorMessage"].as_str().unwrap();
    assert!(message.contains("slack answered HTTP 503"), "{message}");
    assert!(
        !message.contains("hooksecret") && !message.contains("bot_Secret"),
        "{message}"
    );
    assert!(
        !process.exited(),
        "the function keeps serving after a failed invocation"
    );
}

#[tokio::test]
async fn the_binary_fails_its_init_loudly_when_the_secret_cannot_be_read() {
    let moto = Moto::start().await;
    let chat = ChatServer::start().await;
    let runtime = RuntimeApi::start().await;
    let missing = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gota-relay-missing-AbCdEf";
    let output = relay_command(&runtime, &moto, missing, &chat)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || output.wait_with_output().unwrap())
        .await
        .unwrap();
    assert!(!output.status.success());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "init must end inside Lambda's 10 s init phase"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("reading the chat secret"), "{stderr}");
    assert!(stderr.contains(missing), "{stderr}");
    assert!(chat.take().is_empty());
}
