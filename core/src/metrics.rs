//! Business metrics as CloudWatch Embedded Metric Format (EMF) log lines.
//!
//! In Lambda, "CloudWatch Logs extracts metrics from any log events that follow the embedded
//! metric format specification" written to stdout
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Lambda.html>).
//! The encoder is written here, against the specification
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html>);
//! `doc/adr/0018-cursor-key-rotation-and-business-metrics.md` says why not a crate.
//!
//! Each event is one line with one metric of value 1 (`Count`), so a router that counts
//! events once emits each exactly once; CloudWatch sums them per minute.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::http::{Method, StatusCode};

/// The CloudWatch namespace of every business metric.
pub const NAMESPACE: &str = "Gota";
/// The one dimension: which deployment (`GOTA_STAGE`) emitted it.
pub const DIMENSION: &str = "Stage";

/// Something that happened to a recipe or a caller, worth a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    RecipeCreated,
    RecipeReplaced,
    RecipePatched,
    RecipeDeleted,
    /// A create answered from a completed `Idempotency-Key` (nothing new was stored).
    IdempotentReplay,
    /// A 412: `If-Match` / `If-None-Match` refused a write.
    PreconditionFailed,
    /// A 401 from the binary: no, or no valid, token (API Gateway's own 401s never get here).
    AuthFailed,
}

impl Event {
    pub const ALL: [Event; 7] = [
        Event::RecipeCreated,
        Event::RecipeReplaced,
        Event::RecipePatched,
        Event::RecipeDeleted,
        Event::IdempotentReplay,
        Event::PreconditionFailed,
        Event::AuthFailed,
    ];

    /// The CloudWatch metric name.
    pub fn metric_name(self) -> &'static str {
        match self {
            Event::RecipeCreated => "RecipesCreated",
            Event::RecipeReplaced => "RecipesReplaced",
            Event::RecipePatched => "RecipesPatched",
            Event::RecipeDeleted => "RecipesDeleted",
            Event::IdempotentReplay => "IdempotentReplays",
            Event::PreconditionFailed => "PreconditionFailures",
            Event::AuthFailed => "AuthFailures",
        }
    }

    /// The event a finished request stands for, read from what the router answered: every
    /// request ends here exactly once, so each event is counted exactly once. `route` is the
    /// matched route template (`/recipes/{id}`); `replayed` is the `Idempotent-Replayed` header.
    pub fn of_response(
        method: &Method,
        route: &str,
        status: StatusCode,
        replayed: bool,
    ) -> Option<Event> {
        match (status, route) {
            (StatusCode::UNAUTHORIZED, _) => Some(Event::AuthFailed),
            (StatusCode::PRECONDITION_FAILED, _) => Some(Event::PreconditionFailed),
            (StatusCode::CREATED, "/recipes" | "/recipes/import") if *method == Method::POST => {
                Some(if replayed {
                    Event::IdempotentReplay
                } else {
                    Event::RecipeCreated
                })
            }
            (StatusCode::OK, "/recipes/{id}") if *method == Method::PUT => {
                Some(Event::RecipeReplaced)
            }
            (StatusCode::OK, "/recipes/{id}") if *method == Method::PATCH => {
                Some(Event::RecipePatched)
            }
            (StatusCode::NO_CONTENT, "/recipes/{id}") if *method == Method::DELETE => {
                Some(Event::RecipeDeleted)
            }
            _ => None,
        }
    }
}

/// Lines recorded in memory (tests).
pub type Recorded = Arc<Mutex<Vec<String>>>;

#[derive(Debug, Clone)]
enum Sink {
    Off,
    Stdout,
    Memory(Recorded),
}

/// Where business metrics go.
#[derive(Debug, Clone)]
pub struct Metrics {
    sink: Sink,
    /// `GOTA_STAGE`, already a JSON string literal.
    stage: String,
}

impl Metrics {
    pub fn off() -> Self {
        Self {
            sink: Sink::Off,
            stage: String::new(),
        }
    }

    /// EMF lines on stdout, with `stage` as the dimension value.
    pub fn emf_stdout(stage: &str) -> Self {
        Self {
            sink: Sink::Stdout,
            stage: json_string(stage),
        }
    }

    /// EMF lines kept in memory, for tests to read.
    pub fn in_memory(stage: &str) -> (Self, Recorded) {
        let lines = Recorded::default();
        let metrics = Self {
            sink: Sink::Memory(Arc::clone(&lines)),
            stage: json_string(stage),
        };
        (metrics, lines)
    }

    pub fn record(&self, event: Event) {
        match &self.sink {
            Sink::Off => {}
            Sink::Stdout => {
                // One write of a whole line, so it cannot interleave with a log line. A closed
                // stdout loses the metric, never the request.
                let line = emf_line(&self.stage, event, now_millis());
                let _ = std::io::stdout().lock().write_all(line.as_bytes());
            }
            Sink::Memory(lines) => {
                let line = emf_line(&self.stage, event, now_millis());
                lines.lock().unwrap_or_else(|e| e.into_inner()).push(line);
            }
        }
    }
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

fn now_millis() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default()
}

/// One EMF document and its newline: the `_aws` metadata, the dimension and the metric value.
/// `stage` is a JSON string literal. Metric names and the namespace are fixed ASCII.
pub fn emf_line(stage: &str, event: Event, timestamp_millis: u128) -> String {
    let name = event.metric_name();
    format!(
        concat!(
            r#"{{"_aws":{{"Timestamp":{ts},"CloudWatchMetrics":[{{"Namespace":"{ns}","#,
            r#""Dimensions":[["{dim}"]],"Metrics":[{{"Name":"{name}","Unit":"Count"}}]}}]}},"#,
            r#""{dim}":{stage},"{name}":1}}"#,
            "\n"
        ),
        ts = timestamp_millis,
        ns = NAMESPACE,
        dim = DIMENSION,
        name = name,
        stage = stage,
    )
}

/// What `gota-api metrics` prints: what the dashboard must draw.
pub fn describe() -> serde_json::Value {
    serde_json::json!({
        "namespace": NAMESPACE,
        "dimension": DIMENSION,
        "unit": "Count",
        "metrics": Event::ALL.iter().map(|e| e.metric_name()).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::Value;

    /// The specification's rules, checked on a parsed document: the `_aws` member with an
    /// integer millisecond `Timestamp`; each directive's `Namespace`, `Dimensions` (arrays of
    /// at most 30 names, each a string member of the root) and `Metrics` (`Name` a member of
    /// the root holding a number, `Unit` one of CloudWatch's units).
    pub fn assert_valid_emf(line: &str) -> Value {
        assert!(
            line.ends_with('\n') && !line.trim_end().contains('\n'),
            "{line:?}"
        );
        let doc: Value = serde_json::from_str(line).unwrap();
        let aws = &doc["_aws"];
        assert!(aws["Timestamp"].as_u64().unwrap() > 1_600_000_000_000);
        let directives = aws["CloudWatchMetrics"].as_array().unwrap();
        assert!(!directives.is_empty());
        for directive in directives {
            let ns = directive["Namespace"].as_str().unwrap();
            assert!(!ns.is_empty() && ns.len() <= 1024 && !ns.starts_with("AWS/"));
            for set in directive["Dimensions"].as_array().unwrap() {
                let set = set.as_array().unwrap();
                assert!(set.len() <= 30);
                for name in set {
                    assert!(doc[name.as_str().unwrap()].is_string(), "dimension {name}");
                }
            }
            let metrics = directive["Metrics"].as_array().unwrap();
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for metric in metrics {
                let name = metric["Name"].as_str().unwrap();
                assert!(doc[name].is_number(), "value of {name}");
                assert_eq!(metric["Unit"], "Count");
            }
        }
        doc
    }

    #[test]
    fn every_event_encodes_as_valid_emf_with_its_name_stage_and_a_count_of_one() {
        for event in Event::ALL {
            let doc = assert_valid_emf(&emf_line(&json_string("prod"), event, 1_764_000_000_123));
            assert_eq!(doc["_aws"]["Timestamp"], 1_764_000_000_123_u64);
            let directive = &doc["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(directive["Namespace"], NAMESPACE);
            assert_eq!(directive["Dimensions"], serde_json::json!([[DIMENSION]]));
            assert_eq!(directive["Metrics"][0]["Name"], event.metric_name());
            assert_eq!(doc[DIMENSION], "prod");
            assert_eq!(doc[event.metric_name()], 1);
        }
    }

    #[test]
    fn a_stage_with_quotes_stays_one_valid_document() {
        let (metrics, lines) = Metrics::in_memory("we\"ird\\stage");
        metrics.record(Event::RecipeCreated);
        let lines = lines.lock().unwrap();
        let doc = assert_valid_emf(&lines[0]);
        assert_eq!(doc[DIMENSION], "we\"ird\\stage");
    }

    #[test]
    fn responses_map_to_events_by_route_method_and_status() {
        use Event::*;
        let cases = [
            (
                Method::POST,
                "/recipes",
                StatusCode::CREATED,
                false,
                Some(RecipeCreated),
            ),
            (
                Method::POST,
                "/recipes",
                StatusCode::CREATED,
                true,
                Some(IdempotentReplay),
            ),
            (
                Method::PUT,
                "/recipes/{id}",
                StatusCode::OK,
                false,
                Some(RecipeReplaced),
            ),
            (
                Method::PATCH,
                "/recipes/{id}",
                StatusCode::OK,
                false,
                Some(RecipePatched),
            ),
            (
                Method::DELETE,
                "/recipes/{id}",
                StatusCode::NO_CONTENT,
                false,
                Some(RecipeDeleted),
            ),
            (
                Method::PUT,
                "/recipes/{id}",
                StatusCode::PRECONDITION_FAILED,
                false,
                Some(PreconditionFailed),
            ),
            (
                Method::GET,
                "/recipes",
                StatusCode::UNAUTHORIZED,
                false,
                Some(AuthFailed),
            ),
            (Method::GET, "/recipes/{id}", StatusCode::OK, false, None),
            (
                Method::GET,
                "/recipes/{id}",
                StatusCode::NOT_MODIFIED,
                false,
                None,
            ),
            (
                Method::POST,
                "/recipes",
                StatusCode::UNPROCESSABLE_ENTITY,
                false,
                None,
            ),
            (
                Method::DELETE,
                "/recipes/{id}",
                StatusCode::NOT_FOUND,
                false,
                None,
            ),
        ];
        for (method, route, status, replayed, expected) in cases {
            assert_eq!(
                Event::of_response(&method, route, status, replayed),
                expected,
                "{method} {route} {status}"
            );
        }
    }

    #[test]
    fn off_records_nothing_and_describe_lists_every_metric() {
        Metrics::off().record(Event::RecipeCreated);
        let described = describe();
        assert_eq!(
            described["metrics"].as_array().unwrap().len(),
            Event::ALL.len()
        );
        assert_eq!(described["namespace"], "Gota");
    }
}
