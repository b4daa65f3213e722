//! `gota-api healthcheck`, the real binary: what a container engine sees (the exit code, one
//! line on standard error, and how long it took).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Output;
use std::time::{Duration, Instant};

use gota_testkit::{Api, free_port, gota_api};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

/// The healthcheck's own budget is 2 s; process start and exit get the rest.
const WITHIN: Duration = Duration::from_secs(3);

/// Runs `gota-api healthcheck` with `GOTA_LISTEN=listen` (and nothing else configured); the
/// output and how long it ran.
async fn healthcheck(listen: &str) -> (Output, Duration) {
    let mut command = tokio::process::Command::from(gota_api(&[("GOTA_LISTEN", listen)]));
    let started = Instant::now();
    let output = command
        .arg("healthcheck")
        .kill_on_drop(true)
        .output()
        .await
        .expect("run gota-api healthcheck");
    (output, started.elapsed())
}

fn stderr_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A loopback listener that answers every connection with `reply` (or, with `None`, reads
/// and never answers), for as long as the test runs.
async fn fake_server(reply: Option<&'static str>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = [0_u8; 1024];
                let _ = stream.read(&mut buffer).await;
                match reply {
                    Some(reply) => {
                        let _ = stream.write_all(reply.as_bytes()).await;
                    }
                    None => tokio::time::sleep(Duration::from_secs(30)).await,
                }
            });
        }
    });
    port
}

#[tokio::test]
async fn a_running_server_is_healthy_also_when_it_listens_on_all_interfaces() {
    let dir = tempfile::tempdir().unwrap();
    let server = Api::standalone(dir.path()).await;
    let port = server.base.rsplit(':').next().unwrap().to_owned();
    // The server binds 127.0.0.1 (dev auth); 0.0.0.0 in GOTA_LISTEN is probed on 127.0.0.1, as
    // in the image, where the server binds 0.0.0.0:3000.
    for listen in [format!("127.0.0.1:{port}"), format!("0.0.0.0:{port}")] {
        let (output, took) = healthcheck(&listen).await;
        assert_eq!(output.status.code(), Some(0), "{listen}: {output:?}");
        assert!(output.stderr.is_empty(), "{listen}: {output:?}");
        assert!(took < WITHIN, "{listen}: took {took:?}");
    }
}

#[tokio::test]
async fn a_closed_port_is_unhealthy_with_one_line_saying_where_it_looked() {
    let port = free_port();
    let (output, took) = healthcheck(&format!("0.0.0.0:{port}")).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(&format!("127.0.0.1:{port}")), "{lines:?}");
    assert!(took < WITHIN, "took {took:?}");
}

#[tokio::test]
async fn an_answer_other_than_200_is_unhealthy() {
    let port = fake_server(Some(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
    ))
    .await;
    let (output, took) = healthcheck(&format!("127.0.0.1:{port}")).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("answered 503"), "{lines:?}");
    assert!(took < WITHIN, "took {took:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_is_unhealthy_once_the_budget_is_spent() {
    let port = fake_server(None).await;
    let (output, took) = healthcheck(&format!("127.0.0.1:{port}")).await;
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let lines = stderr_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("within 2s"), "{lines:?}");
    assert!(
        (Duration::from_secs(2)..WITHIN).contains(&took),
        "took {took:?}"
    );
}

#[tokio::test]
async fn the_healthcheck_reads_no_other_configuration() {
    // A value the server itself refuses (dev auth on a public address) does not matter here.
    let port = fake_server(Some("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")).await;
    let mut command = tokio::process::Command::from(gota_api(&[
        ("GOTA_LISTEN", format!("127.0.0.1:{port}")),
        ("GOTA_TABLE_NAME", String::new()),
        ("GOTA_USER_POOL_ID", "half-configured".to_owned()),
    ]));
    let output = command.arg("healthcheck").output().await.unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
}
