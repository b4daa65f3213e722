//! The worker's configuration, read once from the environment the stack sets. Every problem is
//! one line naming the variable. [`VARIABLES`] is what `gota-worker env` prints, in the shape
//! of `gota-api env`, so the CDK parity test reads both alike.

use std::collections::HashMap;
use std::path::PathBuf;

use gota_core::config::{ConfigError, LogFormat, Use, Variable};

/// Every variable [`WorkerConfig::from_vars`] reads (a unit test holds the two equal). The
/// AWS SDK's own (`AWS_REGION`, `AWS_ENDPOINT_URL*`, credentials) are read by the SDK.
#[rustfmt::skip] // one row per variable reads as the table it is
pub const VARIABLES: &[Variable] = {
    use Use::{Optional, Required, Selects, Unread};
    const fn var(name: &'static str, lambda: Use, meaning: &'static str) -> Variable {
        Variable { name, lambda, standalone: Unread, meaning }
    }
    &[
        var("AWS_LAMBDA_RUNTIME_API", Selects,
            "set by the Lambda runtime; the worker runs in Lambda only"),
        var("GOTA_TABLE_NAME", Required,
            "DynamoDB table of the recipes whose photos the worker develops"),
        var("GOTA_PHOTO_BUCKET", Required,
            "S3 bucket of the uploads (read, then deleted) and the renditions (written)"),
        var("GOTA_LOG_FORMAT", Optional,
            "json (default) or text"),
        var("RUST_LOG", Optional,
            "log filter directives (default info)"),
        var("GOTA_ROOT_CERTIFICATES", Optional,
            "PEM file of the root certificates the AWS SDK trusts (on AWS: AL2023's bundle); unset, unreadable or without a certificate: the platform's, probed"),
    ]
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerConfig {
    pub table_name: String,
    pub bucket: String,
    pub log_format: LogFormat,
    /// `RUST_LOG`.
    pub log_filter: String,
    pub root_certificates: Option<PathBuf>,
}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

impl WorkerConfig {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        // An empty value is treated as unset, as gota-api does.
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let table_name = get("GOTA_TABLE_NAME")
            .ok_or_else(|| err("GOTA_TABLE_NAME", "is required"))?
            .to_owned();
        let bucket = get("GOTA_PHOTO_BUCKET")
            .ok_or_else(|| err("GOTA_PHOTO_BUCKET", "is required"))?
            .to_owned();
        if !gota_core::config::is_bucket_name(&bucket) {
            return Err(err(
                "GOTA_PHOTO_BUCKET",
                "must be a bucket name: 3-63 characters of a-z, 0-9, '.', '-', beginning and \
                 ending with a letter or digit",
            ));
        }
        let log_format = match get("GOTA_LOG_FORMAT") {
            None | Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => {
                return Err(err(
                    "GOTA_LOG_FORMAT",
                    format!("{other:?} is not one of json, text"),
                ));
            }
        };
        // Checked where it is installed (`telemetry::init_with`), with the same one-line error.
        let log_filter = get("RUST_LOG").unwrap_or("info").to_owned();
        Ok(Self {
            table_name,
            bucket,
            log_format,
            log_filter,
            root_certificates: get("GOTA_ROOT_CERTIFICATES").map(PathBuf::from),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_table_and_the_bucket_are_required_and_named_when_missing() {
        let missing = WorkerConfig::from_vars(&vars(&[("GOTA_PHOTO_BUCKET", "photos")]));
        assert_eq!(missing.unwrap_err().variable, "GOTA_TABLE_NAME");
        let missing = WorkerConfig::from_vars(&vars(&[("GOTA_TABLE_NAME", "gota")]));
        assert_eq!(missing.unwrap_err().variable, "GOTA_PHOTO_BUCKET");
        let bad = WorkerConfig::from_vars(&vars(&[
            ("GOTA_TABLE_NAME", "gota"),
            ("GOTA_PHOTO_BUCKET", "Not_A_Bucket"),
        ]));
        assert_eq!(bad.unwrap_err().variable, "GOTA_PHOTO_BUCKET");
    }

    #[test]
    fn logs_are_json_unless_text_is_asked_for() {
        let base = [
            ("GOTA_TABLE_NAME", "gota"),
            ("GOTA_PHOTO_BUCKET", "gota-photos"),
        ];
        let config = WorkerConfig::from_vars(&vars(&base)).unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.log_filter, "info");
        let mut text = base.to_vec();
        text.push(("GOTA_LOG_FORMAT", "text"));
        let config = WorkerConfig::from_vars(&vars(&text)).unwrap();
        assert_eq!(config.log_format, LogFormat::Text);
        let mut bad = base.to_vec();
        bad.push(("GOTA_LOG_FORMAT", "xml"));
        assert_eq!(
            WorkerConfig::from_vars(&vars(&bad)).unwrap_err().variable,
            "GOTA_LOG_FORMAT"
        );
    }

    #[test]
    fn every_required_variable_is_listed() {
        for name in ["GOTA_TABLE_NAME", "GOTA_PHOTO_BUCKET"] {
            let listed = VARIABLES.iter().find(|v| v.name == name).unwrap();
            assert_eq!(listed.lambda, Use::Required);
        }
    }
}
