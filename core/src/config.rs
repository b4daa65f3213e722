//! Typed configuration, read once from the environment at start.
//!
//! Every problem is reported as one line naming the variable, and the binary exits.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine as _;

/// Minimum size of a cursor key once decoded.
pub const CURSOR_KEY_MIN_BYTES: usize = 32;

/// Where the key that signs list cursors comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum CursorKeyConfig {
    /// Standalone without a key: a random per-process key.
    Random,
    /// `GOTA_CURSOR_KEY`: one fixed key.
    Fixed(Vec<u8>),
    /// `GOTA_CURSOR_SECRET_ARN`: AWSCURRENT and AWSPREVIOUS of this Secrets Manager secret,
    /// read at start and again while running (`doc/adr/0018-…`).
    Secret { arn: String },
}

// Hand-written so the cursor secret never reaches a log line.
impl std::fmt::Debug for CursorKeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Random => f.write_str("Random"),
            Self::Fixed(_) => f.write_str("Fixed(<key>)"),
            Self::Secret { arn } => f.debug_struct("Secret").field("arn", arn).finish(),
        }
    }
}

/// A cursor key as configured or stored: standard or URL-safe base64 of at least
/// [`CURSOR_KEY_MIN_BYTES`]. The message never quotes the value.
pub fn parse_cursor_key(raw: &str) -> Result<Vec<u8>, String> {
    let raw = raw.trim();
    let key = base64::engine::general_purpose::STANDARD
        .decode(raw)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw))
        .map_err(|_| "is not valid base64".to_owned())?;
    if key.len() < CURSOR_KEY_MIN_BYTES {
        return Err(format!(
            "decodes to {} bytes; at least {CURSOR_KEY_MIN_BYTES} are required",
            key.len()
        ));
    }
    Ok(key)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// `AWS_LAMBDA_RUNTIME_API` is set: serve Lambda invocations.
    Lambda,
    /// Serve HTTP on `listen`.
    Standalone { listen: SocketAddr },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreConfig {
    DynamoDb { table_name: String },
    Embedded { data_dir: PathBuf },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// Tokens from a Cognito user pool (or an emulator of one).
    UserPool {
        issuer: String,
        jwks_url: String,
        client_ids: Vec<String>,
    },
    /// Standalone only: a per-process key and `POST /dev/token`.
    Dev,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub mode: Mode,
    pub store: StoreConfig,
    pub auth: AuthConfig,
    pub admin_group: String,
    pub cursor_key: CursorKeyConfig,
    pub log_format: LogFormat,
    /// Business metrics as CloudWatch EMF lines on stdout (`GOTA_METRICS=emf`).
    pub emf_metrics: bool,
    /// The `Stage` dimension of every business metric (`GOTA_STAGE`).
    pub stage: String,
}

// Hand-written so the cursor secret never reaches a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("store", &self.store)
            .field("auth", &self.auth)
            .field("admin_group", &self.admin_group)
            .field("cursor_key", &self.cursor_key)
            .field("log_format", &self.log_format)
            .field("emf_metrics", &self.emf_metrics)
            .field("stage", &self.stage)
            .finish()
    }
}

/// A configuration problem: the variable and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

fn err(variable: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        variable,
        problem: problem.into(),
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(&std::env::vars().collect())
    }

    /// Parses a variable map (the environment, or a test's).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        // An empty value is treated as unset: that is what `VAR= cmd` usually means.
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let lambda = get("AWS_LAMBDA_RUNTIME_API").is_some();
        let mode = if lambda {
            Mode::Lambda
        } else {
            let raw = get("GOTA_LISTEN").unwrap_or("127.0.0.1:3000");
            let listen = raw.parse::<SocketAddr>().map_err(|_| {
                err(
                    "GOTA_LISTEN",
                    format!("{raw:?} is not an address like 127.0.0.1:3000"),
                )
            })?;
            Mode::Standalone { listen }
        };

        let store = match get("GOTA_TABLE_NAME") {
            Some(table) => {
                let valid = (3..=255).contains(&table.len())
                    && table
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c));
                if !valid {
                    return Err(err(
                        "GOTA_TABLE_NAME",
                        "must be 3-255 characters of a-z, A-Z, 0-9, '_', '-', '.'",
                    ));
                }
                StoreConfig::DynamoDb {
                    table_name: table.to_owned(),
                }
            }
            None if lambda => {
                return Err(err(
                    "GOTA_TABLE_NAME",
                    "is required in Lambda (the embedded store is for standalone use only)",
                ));
            }
            None => StoreConfig::Embedded {
                data_dir: PathBuf::from(get("GOTA_DATA_DIR").unwrap_or("./.gota")),
            },
        };

        let auth = match get("GOTA_USER_POOL_ID") {
            Some(pool_id) => {
                let region = pool_id
                    .split_once('_')
                    .map(|(region, _)| region)
                    .filter(|r| {
                        !r.is_empty()
                            && r.chars()
                                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    })
                    .ok_or_else(|| {
                        err(
                            "GOTA_USER_POOL_ID",
                            format!("{pool_id:?} is not a pool id like eu-west-1_AbC123"),
                        )
                    })?;
                let client_ids: Vec<String> = get("GOTA_USER_POOL_CLIENT_IDS")
                    .map(|ids| {
                        ids.split(',')
                            .map(str::trim)
                            .filter(|id| !id.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                if client_ids.is_empty() {
                    return Err(err(
                        "GOTA_USER_POOL_CLIENT_IDS",
                        "is required with GOTA_USER_POOL_ID (comma-separated app client ids)",
                    ));
                }
                let issuer = match get("GOTA_JWT_ISSUER") {
                    Some(issuer) => issuer.to_owned(),
                    None => format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}"),
                };
                let jwks_url = match get("GOTA_JWKS_URL") {
                    Some(url) => url.to_owned(),
                    None => format!("{issuer}/.well-known/jwks.json"),
                };
                if !(jwks_url.starts_with("https://") || jwks_url.starts_with("http://")) {
                    return Err(err("GOTA_JWKS_URL", "must be an http(s) URL"));
                }
                AuthConfig::UserPool {
                    issuer,
                    jwks_url,
                    client_ids,
                }
            }
            None => {
                // Fail closed: a half-configured pool must never fall back to dev auth.
                for variable in [
                    "GOTA_USER_POOL_CLIENT_IDS",
                    "GOTA_JWT_ISSUER",
                    "GOTA_JWKS_URL",
                ] {
                    if get(variable).is_some() {
                        return Err(err(
                            "GOTA_USER_POOL_ID",
                            format!("is required when {variable} is set"),
                        ));
                    }
                }
                match &mode {
                    Mode::Lambda => {
                        return Err(err(
                            "GOTA_USER_POOL_ID",
                            "is required in Lambda (dev auth is for standalone use only)",
                        ));
                    }
                    Mode::Standalone { listen } if !listen.ip().is_loopback() => {
                        return Err(err(
                            "GOTA_LISTEN",
                            format!(
                                "{listen} is not a loopback address; dev auth (no GOTA_USER_POOL_ID) only listens on loopback"
                            ),
                        ));
                    }
                    Mode::Standalone { .. } => AuthConfig::Dev,
                }
            }
        };

        let admin_group = get("GOTA_ADMIN_GROUP").unwrap_or("admin").to_owned();

        let cursor_key = match (get("GOTA_CURSOR_KEY"), get("GOTA_CURSOR_SECRET_ARN")) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "GOTA_CURSOR_KEY",
                    "set together with GOTA_CURSOR_SECRET_ARN; set one of them",
                ));
            }
            (Some(raw), None) => CursorKeyConfig::Fixed(
                parse_cursor_key(raw).map_err(|p| err("GOTA_CURSOR_KEY", p))?,
            ),
            (None, Some(arn)) => {
                let parts: Vec<&str> = arn.splitn(7, ':').collect();
                let valid = parts.len() == 7
                    && parts.first() == Some(&"arn")
                    && parts.get(2) == Some(&"secretsmanager")
                    && parts.get(5) == Some(&"secret");
                if !valid {
                    return Err(err(
                        "GOTA_CURSOR_SECRET_ARN",
                        "is not a secret ARN like arn:aws:secretsmanager:<region>:<account>:secret:<name>",
                    ));
                }
                CursorKeyConfig::Secret {
                    arn: arn.to_owned(),
                }
            }
            (None, None) if lambda => {
                return Err(err(
                    "GOTA_CURSOR_SECRET_ARN",
                    "is required in Lambda (or GOTA_CURSOR_KEY), so that every instance accepts every other's cursors",
                ));
            }
            (None, None) => CursorKeyConfig::Random,
        };

        let log_format = match get("GOTA_LOG_FORMAT") {
            Some("json") => LogFormat::Json,
            Some("text") => LogFormat::Text,
            Some(other) => {
                return Err(err(
                    "GOTA_LOG_FORMAT",
                    format!("{other:?} is not one of json, text"),
                ));
            }
            None if lambda => LogFormat::Json,
            None => LogFormat::Text,
        };

        let emf_metrics = match get("GOTA_METRICS") {
            Some("emf") => true,
            Some("off") => false,
            Some(other) => {
                return Err(err(
                    "GOTA_METRICS",
                    format!("{other:?} is not one of emf, off"),
                ));
            }
            // Lambda's stdout is the function's log group, where CloudWatch picks EMF out.
            None => lambda,
        };
        let stage = get("GOTA_STAGE").unwrap_or("local").to_owned();
        if stage.len() > 255 || stage.chars().any(char::is_control) {
            return Err(err(
                "GOTA_STAGE",
                "must be at most 255 characters without control characters",
            ));
        }

        Ok(Config {
            mode,
            store,
            auth,
            admin_group,
            cursor_key,
            log_format,
            emf_metrics,
            stage,
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

    fn failing(pairs: &[(&str, &str)]) -> ConfigError {
        Config::from_vars(&vars(pairs)).expect_err("configuration should be refused")
    }

    #[test]
    fn no_variables_mean_standalone_embedded_dev_auth_on_loopback() {
        let config = Config::from_vars(&vars(&[])).unwrap();
        assert_eq!(
            config.mode,
            Mode::Standalone {
                listen: "127.0.0.1:3000".parse().unwrap()
            }
        );
        assert_eq!(
            config.store,
            StoreConfig::Embedded {
                data_dir: "./.gota".into()
            }
        );
        assert_eq!(config.auth, AuthConfig::Dev);
        assert_eq!(config.admin_group, "admin");
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn dev_auth_refuses_a_non_loopback_listen_address() {
        assert_eq!(
            failing(&[("GOTA_LISTEN", "0.0.0.0:3000")]).variable,
            "GOTA_LISTEN"
        );
    }

    #[test]
    fn a_user_pool_may_listen_anywhere_and_derives_issuer_and_jwks() {
        let config = Config::from_vars(&vars(&[
            ("GOTA_LISTEN", "0.0.0.0:8080"),
            ("GOTA_USER_POOL_ID", "eu-west-1_AbC123"),
            ("GOTA_USER_POOL_CLIENT_IDS", "one, two"),
        ]))
        .unwrap();
        assert_eq!(
            config.auth,
            AuthConfig::UserPool {
                issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123".into(),
                jwks_url:
                    "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
                        .into(),
                client_ids: vec!["one".into(), "two".into()],
            }
        );
    }

    #[test]
    fn lambda_mode_requires_a_pool_a_table_and_a_cursor_key() {
        let base = [("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001")];
        assert_eq!(failing(&base).variable, "GOTA_TABLE_NAME");
        let with_table = [base[0], ("GOTA_TABLE_NAME", "recipes")];
        assert_eq!(failing(&with_table).variable, "GOTA_USER_POOL_ID");
        let with_pool = [
            with_table[0],
            with_table[1],
            ("GOTA_USER_POOL_ID", "us-east-1_x"),
            ("GOTA_USER_POOL_CLIENT_IDS", "c"),
        ];
        assert_eq!(failing(&with_pool).variable, "GOTA_CURSOR_SECRET_ARN");
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let complete = [
            with_pool[0],
            with_pool[1],
            with_pool[2],
            with_pool[3],
            ("GOTA_CURSOR_KEY", key.as_str()),
        ];
        let config = Config::from_vars(&vars(&complete)).unwrap();
        assert_eq!(config.mode, Mode::Lambda);
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.cursor_key, CursorKeyConfig::Fixed(vec![7; 32]));
        assert!(config.emf_metrics, "EMF on by default in Lambda");

        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor-AbCdEf";
        let with_secret = [
            with_pool[0],
            with_pool[1],
            with_pool[2],
            with_pool[3],
            ("GOTA_CURSOR_SECRET_ARN", arn),
        ];
        let config = Config::from_vars(&vars(&with_secret)).unwrap();
        assert_eq!(
            config.cursor_key,
            CursorKeyConfig::Secret { arn: arn.into() }
        );
        assert!(!format!("{config:?}").contains("[7, 7"));
    }

    #[test]
    fn the_cursor_key_comes_from_one_place_and_a_secret_arn_must_be_one() {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor-AbCdEf";
        assert_eq!(
            failing(&[("GOTA_CURSOR_KEY", &key), ("GOTA_CURSOR_SECRET_ARN", arn)]).variable,
            "GOTA_CURSOR_KEY"
        );
        for bad in [
            "cursor",
            "arn:aws:ssm:us-east-1:123456789012:parameter:cursor",
            "arn:aws:secretsmanager:us-east-1:123456789012:cursor",
        ] {
            assert_eq!(
                failing(&[("GOTA_CURSOR_SECRET_ARN", bad)]).variable,
                "GOTA_CURSOR_SECRET_ARN",
                "{bad}"
            );
        }
        let standalone = Config::from_vars(&vars(&[("GOTA_CURSOR_SECRET_ARN", arn)])).unwrap();
        assert_eq!(
            standalone.cursor_key,
            CursorKeyConfig::Secret { arn: arn.into() }
        );
        assert!(!standalone.emf_metrics, "EMF off by default standalone");
        assert_eq!(
            Config::from_vars(&vars(&[])).unwrap().cursor_key,
            CursorKeyConfig::Random
        );
        let debug = format!(
            "{:?}",
            Config::from_vars(&vars(&[("GOTA_CURSOR_KEY", &key)])).unwrap()
        );
        assert!(
            debug.contains("Fixed(<key>)") && !debug.contains("7, 7"),
            "{debug}"
        );
    }

    #[test]
    fn metrics_are_emf_or_off_with_a_stage_dimension() {
        let config =
            Config::from_vars(&vars(&[("GOTA_METRICS", "emf"), ("GOTA_STAGE", "prod")])).unwrap();
        assert!(config.emf_metrics);
        assert_eq!(config.stage, "prod");
        assert_eq!(Config::from_vars(&vars(&[])).unwrap().stage, "local");
        assert_eq!(
            failing(&[("GOTA_METRICS", "statsd")]).variable,
            "GOTA_METRICS"
        );
        assert_eq!(failing(&[("GOTA_STAGE", "a\nb")]).variable, "GOTA_STAGE");
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(
            failing(&[("GOTA_LISTEN", "localhost")]).variable,
            "GOTA_LISTEN"
        );
        assert_eq!(
            failing(&[("GOTA_LOG_FORMAT", "xml")]).variable,
            "GOTA_LOG_FORMAT"
        );
        assert_eq!(
            failing(&[("GOTA_CURSOR_KEY", "c2hvcnQ=")]).variable,
            "GOTA_CURSOR_KEY"
        );
        assert_eq!(
            failing(&[("GOTA_CURSOR_KEY", "!!!")]).variable,
            "GOTA_CURSOR_KEY"
        );
        assert_eq!(
            failing(&[("GOTA_USER_POOL_ID", "nounderscore")]).variable,
            "GOTA_USER_POOL_ID"
        );
        assert_eq!(
            failing(&[("GOTA_USER_POOL_ID", "us-east-1_x")]).variable,
            "GOTA_USER_POOL_CLIENT_IDS"
        );
        assert_eq!(
            failing(&[("GOTA_JWKS_URL", "http://x")]).variable,
            "GOTA_USER_POOL_ID"
        );
        assert_eq!(
            failing(&[("GOTA_TABLE_NAME", "a b")]).variable,
            "GOTA_TABLE_NAME"
        );
    }
}
