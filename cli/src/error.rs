//! The errors a command ends with, and the exit code each one maps to.

use std::fmt;

/// Exit codes, distinct per kind of failure so scripts can branch on them.
pub mod exit {
    pub const OK: u8 = 0;
    pub const OTHER: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const AUTH: u8 = 3;
    pub const NOT_FOUND: u8 = 4;
    pub const CONFLICT: u8 = 5;
    pub const SERVER: u8 = 6;
    pub const NETWORK: u8 = 7;
}

/// One field the server refused, from a problem's `errors`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct FieldProblem {
    pub pointer: String,
    pub message: String,
}

/// An RFC 9457 problem as the API sends it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct Problem {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub errors: Vec<FieldProblem>,
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Auth(String),
    #[error("network error: {0}")]
    Network(String),
    #[error("{}", ApiMessage(.status, .problem))]
    Api { status: u16, problem: Problem },
    #[error("someone else changed recipe {id} since you read it (412 Precondition Failed){hint}")]
    Changed { id: String, hint: String },
}

struct ApiMessage<'a>(&'a u16, &'a Problem);

impl fmt::Display for ApiMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ApiMessage(status, problem) = self;
        let title = if problem.title.is_empty() {
            "request failed"
        } else {
            &problem.title
        };
        write!(f, "{title} ({status})")?;
        // For one invalid field the server's `detail` is that field's "pointer: message",
        // which the list below prints anyway.
        let repeats_a_field = |detail: &str| {
            problem
                .errors
                .iter()
                .any(|e| detail == format!("{}: {}", e.pointer, e.message))
        };
        if let Some(detail) = problem
            .detail
            .as_deref()
            .filter(|d| !d.is_empty() && !repeats_a_field(d))
        {
            write!(f, ": {detail}")?;
        }
        if **status == 401 {
            write!(f, " — run `gota login` to sign in again")?;
        }
        for e in &problem.errors {
            write!(f, "\n  {}: {}", e.pointer, e.message)?;
        }
        Ok(())
    }
}

impl CliError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => exit::USAGE,
            CliError::Auth(_) => exit::AUTH,
            CliError::Network(_) => exit::NETWORK,
            CliError::Changed { .. } => exit::CONFLICT,
            CliError::Api { status, .. } => match status {
                401 | 403 => exit::AUTH,
                404 => exit::NOT_FOUND,
                409 | 412 => exit::CONFLICT,
                400 | 413 | 415 | 422 => exit::USAGE,
                500.. => exit::SERVER,
                _ => exit::OTHER,
            },
        }
    }
}

/// The exit code for any error a command returns: typed errors keep theirs, anything else is 1.
pub fn exit_code_of(error: &anyhow::Error) -> u8 {
    error
        .chain()
        .find_map(|e| e.downcast_ref::<CliError>())
        .map_or(exit::OTHER, CliError::exit_code)
}

/// A transport failure (connection, TLS, timeout, a body cut short) as the CLI reports it: the
/// error with its whole chain of causes.
pub fn network(e: &reqwest::Error) -> CliError {
    CliError::Network(chain(e))
}

/// The error and its causes, `: `-joined.
pub fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_as_one_line_plus_its_field_pointers() {
        let e = CliError::Api {
            status: 422,
            problem: Problem {
                title: "Invalid recipe".into(),
                detail: Some("2 fields are invalid".into()),
                errors: vec![FieldProblem {
                    pointer: "/servings".into(),
                    message: "must be 1–1000".into(),
                }],
            },
        };
        assert_eq!(
            e.to_string(),
            "Invalid recipe (422): 2 fields are invalid\n  /servings: must be 1–1000"
        );
        assert_eq!(e.exit_code(), exit::USAGE);
    }

    #[test]
    fn one_invalid_field_is_printed_once() {
        let e = CliError::Api {
            status: 422,
            problem: Problem {
                title: "Unprocessable Content".into(),
                detail: Some("/servings: must be 1–1000".into()),
                errors: vec![FieldProblem {
                    pointer: "/servings".into(),
                    message: "must be 1–1000".into(),
                }],
            },
        };
        assert_eq!(
            e.to_string(),
            "Unprocessable Content (422)\n  /servings: must be 1–1000"
        );
    }

    #[test]
    fn each_kind_of_failure_has_its_own_exit_code() {
        let api = |status| {
            CliError::Api {
                status,
                problem: Problem::default(),
            }
            .exit_code()
        };
        assert_eq!(api(401), exit::AUTH);
        assert_eq!(api(404), exit::NOT_FOUND);
        assert_eq!(api(412), exit::CONFLICT);
        assert_eq!(api(503), exit::SERVER);
        assert_eq!(CliError::Network("x".into()).exit_code(), exit::NETWORK);
    }
}
