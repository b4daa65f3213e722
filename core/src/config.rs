//! Typed configuration, read once from the environment at start.
//!
//! Every problem is reported as one line naming the variable, and the binary exits.
//! [`VARIABLES`] lists every variable the parser may read; `gota-api env` prints it, and the
//! CDK stack's parity tests compare the function's environment with it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use base64::Engine as _;

use crate::auth::{AdminClaim, check_issuer, jwks_uri_allowed};

/// How one mode uses a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Use {
    /// Start-up is refused without it.
    Required,
    /// Start-up is refused unless it or the named variable is set.
    RequiredUnless(&'static str),
    /// Read when set; a default or a derived value otherwise.
    Optional,
    /// Its presence selects this mode.
    Selects,
    /// Must not be set: its presence selects the other mode (`AWS_LAMBDA_RUNTIME_API`), or
    /// refuses start-up (a standalone-only variable in Lambda).
    Absent,
    /// Never read in this mode.
    Unread,
}

/// One environment variable of [`Config`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Variable {
    pub name: &'static str,
    pub lambda: Use,
    pub standalone: Use,
    pub meaning: &'static str,
}

const fn var(name: &'static str, lambda: Use, standalone: Use, meaning: &'static str) -> Variable {
    Variable {
        name,
        lambda,
        standalone,
        meaning,
    }
}

/// Every variable [`Config::from_vars`] reads, and nothing else (a unit test holds the two
/// equal). The AWS SDK's own variables (`AWS_REGION`, `AWS_ENDPOINT_URL_*`, credentials) are
/// read by the SDK, not here.
#[rustfmt::skip] // one row per variable reads as the table it is
pub const VARIABLES: &[Variable] = {
    use Use::{Absent, Optional, Required, RequiredUnless, Selects, Unread};
    &[
        var("AWS_LAMBDA_RUNTIME_API", Selects, Absent,
            "set by the Lambda runtime; its presence selects Lambda mode"),
        var("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", Optional, Unread,
            "set: lambda_http leaves the REST API stage out of the path; unset: Gota strips it"),
        var("GOTA_LISTEN", Unread, Optional,
            "standalone bind address (default 127.0.0.1:3000; loopback only with dev auth)"),
        var("GOTA_TABLE_NAME", Required, Optional,
            "DynamoDB table; unset standalone means the embedded store"),
        var("GOTA_DATA_DIR", Unread, Optional,
            "embedded store folder (default ./.gota), when GOTA_TABLE_NAME is unset"),
        var("GOTA_PHOTO_BUCKET", Optional, Optional,
            "S3 bucket of recipe photos; unset: photo routes answer 503 in Lambda, and standalone keeps photos in GOTA_DATA_DIR (embedded store) or has none (DynamoDB)"),
        var("GOTA_USER_POOL_ID", Required, Optional,
            "Cognito user pool id; unset standalone (and no GOTA_OIDC_ISSUER) means dev auth"),
        var("GOTA_USER_POOL_CLIENT_IDS", Required, Optional,
            "comma-separated app client ids the pool's tokens must name (required with the pool)"),
        var("GOTA_JWT_ISSUER", Optional, Optional,
            "token issuer override (emulators; default derived from the pool id); Cognito only"),
        var("GOTA_OIDC_ISSUER", Absent, Optional,
            "OpenID Connect issuer URL (https, or http on a loopback host): tokens from this provider instead of Cognito or dev auth; standalone only"),
        var("GOTA_OIDC_AUDIENCES", Absent, Optional,
            "comma-separated audiences, one of which a token's aud must contain (the CLI's client id, the API's audience); required with GOTA_OIDC_ISSUER"),
        var("GOTA_JWKS_URL", Optional, Optional,
            "JWKS URL override (emulators; default the issuer's /.well-known/jwks.json, or with GOTA_OIDC_ISSUER the jwks_uri of its discovery document)"),
        var("GOTA_ADMIN_CLAIM", Absent, Optional,
            "with GOTA_OIDC_ISSUER only: the claim holding the caller's groups or roles (default groups); a name taken literally, or a JSON pointer starting with / such as /realm_access/roles"),
        var("GOTA_ADMIN_GROUP", Optional, Optional,
            "admin group name (default admin)"),
        var("GOTA_CURSOR_KEY", RequiredUnless("GOTA_CURSOR_SECRET_ARN"), Optional,
            "the cursor key itself (base64, at least 32 bytes); not with GOTA_CURSOR_SECRET_ARN"),
        var("GOTA_CURSOR_SECRET_ARN", RequiredUnless("GOTA_CURSOR_KEY"), Optional,
            "ARN of the Secrets Manager secret holding the cursor key"),
        var("GOTA_LOG_FORMAT", Optional, Optional,
            "json (default in Lambda) or text"),
        var("GOTA_METRICS", Optional, Optional,
            "emf (default in Lambda): business metrics as EMF lines on stdout; off"),
        var("GOTA_STAGE", Optional, Optional,
            "Stage dimension of the business metrics (default local)"),
        var("RUST_LOG", Optional, Optional,
            "log filter directives (default info)"),
        var("GOTA_ROOT_CERTIFICATES", Optional, Optional,
            "PEM file of the root certificates the AWS SDK trusts (on AWS: AL2023's bundle); unset, unreadable or without a certificate: the platform's, probed"),
        var("GOTA_WARM_UP", Optional, Unread,
            "on (default) or off: Lambda init opens the DynamoDB connection (off: for benchmarks)"),
    ]
};

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

/// Where recipe photos' objects live (doc/api.md "Photos").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhotoConfig {
    /// `GOTA_PHOTO_BUCKET`: an S3 bucket, through the AWS SDK.
    Bucket { name: String },
    /// Standalone with the embedded store and no bucket: files in the data folder.
    Local { data_dir: PathBuf },
    /// No photo storage: the photo routes answer 503 (Lambda without a bucket, or standalone
    /// on DynamoDB without one).
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthConfig {
    /// Tokens from a Cognito user pool (or an emulator of one).
    UserPool {
        issuer: String,
        jwks_url: String,
        client_ids: Vec<String>,
    },
    /// Standalone only: tokens from a generic OpenID Connect provider (`GOTA_OIDC_ISSUER`).
    Oidc {
        /// Exactly the tokens' `iss` and the discovery document's `issuer`.
        issuer: String,
        /// A token's `aud` must contain one of them; never empty.
        audiences: Vec<String>,
        admin_claim: AdminClaim,
        jwks: OidcJwks,
    },
    /// Standalone only: a per-process key and `POST /dev/token`.
    Dev,
}

/// Where an OpenID Connect provider's keys are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OidcJwks {
    /// The `jwks_uri` of the issuer's discovery document, read on the first token.
    Discovery,
    /// `GOTA_JWKS_URL`: no discovery.
    Url(String),
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
    pub photos: PhotoConfig,
    pub auth: AuthConfig,
    pub admin_group: String,
    pub cursor_key: CursorKeyConfig,
    pub log_format: LogFormat,
    /// Business metrics as CloudWatch EMF lines on stdout (`GOTA_METRICS=emf`).
    pub emf_metrics: bool,
    /// The `Stage` dimension of every business metric (`GOTA_STAGE`).
    pub stage: String,
    /// Log filter directives (`RUST_LOG`), already checked.
    pub log_filter: String,
    /// Lambda mode with `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` unset: lambda_http puts the
    /// REST API stage in the path and [`crate::http::Api`] removes it.
    pub stage_in_path: bool,
    /// `GOTA_ROOT_CERTIFICATES`: the one PEM bundle the AWS SDK's TLS trusts, instead of the
    /// platform probe (read at start; see [`crate::startup::Aws::new`]).
    pub root_certificates: Option<PathBuf>,
    /// Lambda init opens the DynamoDB connection (`GOTA_WARM_UP`, on unless `off`).
    pub warm_up: bool,
}

// Hand-written so the cursor secret never reaches a log line.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("mode", &self.mode)
            .field("store", &self.store)
            .field("photos", &self.photos)
            .field("auth", &self.auth)
            .field("admin_group", &self.admin_group)
            .field("cursor_key", &self.cursor_key)
            .field("log_format", &self.log_format)
            .field("emf_metrics", &self.emf_metrics)
            .field("stage", &self.stage)
            .field("log_filter", &self.log_filter)
            .field("stage_in_path", &self.stage_in_path)
            .field("root_certificates", &self.root_certificates)
            .field("warm_up", &self.warm_up)
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
        Self::from_lookup(|name| vars.get(name).map(String::as_str))
    }

    /// Parses what `lookup` answers; every name it is asked for is in [`VARIABLES`].
    fn from_lookup<'v>(lookup: impl Fn(&str) -> Option<&'v str>) -> Result<Self, ConfigError> {
        // An empty value is treated as unset: that is what `VAR= cmd` usually means.
        let get = |name: &str| lookup(name).map(str::trim).filter(|v| !v.is_empty());

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

        let photos = match (get("GOTA_PHOTO_BUCKET"), &store) {
            (Some(bucket), _) => {
                if !is_bucket_name(bucket) {
                    return Err(err(
                        "GOTA_PHOTO_BUCKET",
                        format!(
                            "{bucket:?} is not an S3 bucket name (3-63 characters of a-z, 0-9, '.', '-', starting and ending with a letter or digit)"
                        ),
                    ));
                }
                PhotoConfig::Bucket {
                    name: bucket.to_owned(),
                }
            }
            (None, StoreConfig::Embedded { data_dir }) => PhotoConfig::Local {
                data_dir: data_dir.clone(),
            },
            (None, StoreConfig::DynamoDb { .. }) => PhotoConfig::Off,
        };

        let oidc_issuer = if lambda {
            // API Gateway's authorizer is Cognito's: an OIDC variable there would be ignored by
            // the part of the system that actually admits requests.
            for variable in [
                "GOTA_OIDC_ISSUER",
                "GOTA_OIDC_AUDIENCES",
                "GOTA_ADMIN_CLAIM",
            ] {
                if get(variable).is_some() {
                    return Err(err(
                        variable,
                        "standalone only (in Lambda, API Gateway's Cognito authorizer admits requests)",
                    ));
                }
            }
            None
        } else {
            get("GOTA_OIDC_ISSUER")
        };

        let auth = match (oidc_issuer, get("GOTA_USER_POOL_ID")) {
            (Some(_), Some(_)) => {
                return Err(err(
                    "GOTA_OIDC_ISSUER",
                    "set together with GOTA_USER_POOL_ID; set one of them",
                ));
            }
            (Some(issuer), None) => {
                check_issuer(issuer).map_err(|p| err("GOTA_OIDC_ISSUER", p))?;
                for (variable, instead) in [
                    ("GOTA_JWT_ISSUER", "the issuer is GOTA_OIDC_ISSUER"),
                    ("GOTA_USER_POOL_CLIENT_IDS", "set GOTA_OIDC_AUDIENCES"),
                ] {
                    if get(variable).is_some() {
                        return Err(err(
                            variable,
                            format!("is for Cognito only; with GOTA_OIDC_ISSUER {instead}"),
                        ));
                    }
                }
                let audiences = comma_list(get("GOTA_OIDC_AUDIENCES"));
                if audiences.is_empty() {
                    return Err(err(
                        "GOTA_OIDC_AUDIENCES",
                        "is required with GOTA_OIDC_ISSUER (comma-separated: the CLI's client id and/or the API's audience)",
                    ));
                }
                let admin_claim = AdminClaim::parse(get("GOTA_ADMIN_CLAIM").unwrap_or("groups"))
                    .map_err(|p| err("GOTA_ADMIN_CLAIM", p))?;
                let jwks = match get("GOTA_JWKS_URL") {
                    Some(url) if jwks_uri_allowed(issuer, url) => OidcJwks::Url(url.to_owned()),
                    Some(_) => {
                        return Err(err(
                            "GOTA_JWKS_URL",
                            "must be https (http only on a loopback host, with a loopback http GOTA_OIDC_ISSUER)",
                        ));
                    }
                    None => OidcJwks::Discovery,
                };
                AuthConfig::Oidc {
                    issuer: issuer.to_owned(),
                    audiences,
                    admin_claim,
                    jwks,
                }
            }
            (None, Some(pool_id)) => {
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
                let client_ids = comma_list(get("GOTA_USER_POOL_CLIENT_IDS"));
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
            (None, None) => {
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

        // Fail closed: a half-configured provider must never fall back to another mode, and
        // the admin claim is not silently ignored where the groups are cognito:groups.
        if !matches!(auth, AuthConfig::Oidc { .. }) && !lambda {
            if get("GOTA_OIDC_AUDIENCES").is_some() {
                return Err(err(
                    "GOTA_OIDC_ISSUER",
                    "is required when GOTA_OIDC_AUDIENCES is set",
                ));
            }
            if get("GOTA_ADMIN_CLAIM").is_some() {
                return Err(err(
                    "GOTA_ADMIN_CLAIM",
                    "is read only with GOTA_OIDC_ISSUER (Cognito's and dev auth's groups are cognito:groups)",
                ));
            }
        }

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

        let log_filter = get("RUST_LOG").unwrap_or("info").to_owned();
        if let Err(e) = tracing_subscriber::EnvFilter::try_new(&log_filter) {
            return Err(err("RUST_LOG", e.to_string()));
        }
        // Exactly lambda_http's test (`env::var(..).is_ok()` in its request.rs): set, even empty.
        let stage_in_path = lambda && lookup("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_none();

        let root_certificates = get("GOTA_ROOT_CERTIFICATES").map(PathBuf::from);
        let warm_up = match lambda.then(|| get("GOTA_WARM_UP")).flatten() {
            None | Some("on") => lambda,
            Some("off") => false,
            Some(other) => {
                return Err(err(
                    "GOTA_WARM_UP",
                    format!("{other:?} is not one of on, off"),
                ));
            }
        };

        Ok(Config {
            mode,
            store,
            photos,
            auth,
            admin_group,
            cursor_key,
            log_format,
            emf_metrics,
            stage,
            log_filter,
            stage_in_path,
            root_certificates,
            warm_up,
        })
    }
}

/// The non-empty items of a comma-separated list, trimmed.
fn comma_list(raw: Option<&str>) -> Vec<String> {
    raw.map(|list| {
        list.split(',')
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// S3's general purpose bucket naming rules, the part a typo breaks ("Bucket naming rules",
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>): 3-63
/// characters of lowercase letters, digits, dots and hyphens, beginning and ending with a
/// letter or digit, no two adjacent dots.
pub fn is_bucket_name(name: &str) -> bool {
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge_ok(name.chars().next())
        && edge_ok(name.chars().last())
        && !name.contains("..")
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

    const OIDC_ISSUER: &str = "https://id.example.org/realms/gota";

    /// Standalone with an OpenID Connect provider and every variable that mode reads.
    fn full_oidc() -> HashMap<String, String> {
        vars(&[
            ("GOTA_LISTEN", "0.0.0.0:3000"),
            ("GOTA_OIDC_ISSUER", OIDC_ISSUER),
            ("GOTA_OIDC_AUDIENCES", "gota-cli, gota-api"),
            ("GOTA_ADMIN_CLAIM", "/realm_access/roles"),
            ("GOTA_JWKS_URL", "https://id.example.org/certs"),
            ("GOTA_ADMIN_GROUP", "chefs"),
        ])
    }

    #[test]
    fn an_oidc_provider_may_listen_anywhere_with_its_audiences_claim_and_keys() {
        let config = Config::from_vars(&full_oidc()).unwrap();
        assert_eq!(
            config.mode,
            Mode::Standalone {
                listen: "0.0.0.0:3000".parse().unwrap()
            }
        );
        assert_eq!(
            config.auth,
            AuthConfig::Oidc {
                issuer: OIDC_ISSUER.into(),
                audiences: vec!["gota-cli".into(), "gota-api".into()],
                admin_claim: AdminClaim::Pointer("/realm_access/roles".into()),
                jwks: OidcJwks::Url("https://id.example.org/certs".into()),
            }
        );
        assert_eq!(config.admin_group, "chefs");
    }

    #[test]
    fn an_oidc_provider_is_discovered_and_its_groups_are_in_groups_by_default() {
        let config = Config::from_vars(&vars(&[
            ("GOTA_OIDC_ISSUER", "http://127.0.0.1:8080/realms/gota/"),
            ("GOTA_OIDC_AUDIENCES", "gota-cli"),
        ]))
        .unwrap();
        assert_eq!(
            config.auth,
            AuthConfig::Oidc {
                issuer: "http://127.0.0.1:8080/realms/gota/".into(),
                audiences: vec!["gota-cli".into()],
                admin_claim: AdminClaim::Name("groups".into()),
                jwks: OidcJwks::Discovery,
            },
            "the issuer is kept exactly, trailing slash included"
        );
        let zitadel = Config::from_vars(&vars(&[
            ("GOTA_OIDC_ISSUER", OIDC_ISSUER),
            ("GOTA_OIDC_AUDIENCES", "gota-cli"),
            ("GOTA_ADMIN_CLAIM", "urn:zitadel:iam:org:project:roles"),
        ]))
        .unwrap();
        assert!(matches!(
            zitadel.auth,
            AuthConfig::Oidc { admin_claim: AdminClaim::Name(name), .. }
                if name == "urn:zitadel:iam:org:project:roles"
        ));
    }

    #[test]
    fn oidc_is_refused_in_lambda_with_a_pool_or_without_audiences() {
        let mut lambda = full_lambda();
        for (variable, value) in [
            ("GOTA_OIDC_ISSUER", OIDC_ISSUER),
            ("GOTA_OIDC_AUDIENCES", "gota-cli"),
            ("GOTA_ADMIN_CLAIM", "groups"),
        ] {
            lambda.insert(variable.into(), value.into());
            let error = Config::from_vars(&lambda).unwrap_err();
            assert_eq!(error.variable, variable);
            assert!(error.problem.contains("standalone only"), "{error}");
            lambda.remove(variable);
        }

        let mut with_pool = full_oidc();
        with_pool.insert("GOTA_USER_POOL_ID".into(), "eu-west-1_AbC123".into());
        assert_eq!(
            Config::from_vars(&with_pool).unwrap_err().variable,
            "GOTA_OIDC_ISSUER"
        );
        for empty in [None, Some(""), Some(" , ,")] {
            let mut without = full_oidc();
            without.remove("GOTA_OIDC_AUDIENCES");
            if let Some(empty) = empty {
                without.insert("GOTA_OIDC_AUDIENCES".into(), empty.into());
            }
            assert_eq!(
                Config::from_vars(&without).unwrap_err().variable,
                "GOTA_OIDC_AUDIENCES",
                "{empty:?}"
            );
        }
        for (variable, value) in [
            ("GOTA_JWT_ISSUER", OIDC_ISSUER),
            ("GOTA_USER_POOL_CLIENT_IDS", "gota-cli"),
        ] {
            let mut cognito_only = full_oidc();
            cognito_only.insert(variable.into(), value.into());
            assert_eq!(
                Config::from_vars(&cognito_only).unwrap_err().variable,
                variable
            );
        }
    }

    #[test]
    fn an_oidc_issuer_and_its_jwks_url_are_https_unless_on_loopback() {
        for bad in [
            "http://id.example.org/realms/gota",
            "http://0.0.0.0:8080",
            "https://id.example.org/?realm=gota",
            "id.example.org",
        ] {
            let mut config = full_oidc();
            config.insert("GOTA_OIDC_ISSUER".into(), bad.into());
            assert_eq!(
                Config::from_vars(&config).unwrap_err().variable,
                "GOTA_OIDC_ISSUER",
                "{bad}"
            );
        }
        let mut config = full_oidc();
        config.insert("GOTA_JWKS_URL".into(), "http://id.example.org/certs".into());
        assert_eq!(
            Config::from_vars(&config).unwrap_err().variable,
            "GOTA_JWKS_URL"
        );
        config.insert("GOTA_JWKS_URL".into(), "http://127.0.0.1/certs".into());
        assert_eq!(
            Config::from_vars(&config).unwrap_err().variable,
            "GOTA_JWKS_URL",
            "http keys only for a loopback http issuer"
        );
        config.insert("GOTA_OIDC_ISSUER".into(), "http://localhost:8080/r".into());
        assert!(Config::from_vars(&config).is_ok());
    }

    #[test]
    fn the_admin_claim_and_the_audiences_are_refused_without_an_oidc_issuer() {
        let pool = [
            ("GOTA_USER_POOL_ID", "eu-west-1_AbC123"),
            ("GOTA_USER_POOL_CLIENT_IDS", "c"),
        ];
        for base in [&pool[..], &[]] {
            let mut with_claim = base.to_vec();
            with_claim.push(("GOTA_ADMIN_CLAIM", "groups"));
            assert_eq!(failing(&with_claim).variable, "GOTA_ADMIN_CLAIM");
            let mut with_audiences = base.to_vec();
            with_audiences.push(("GOTA_OIDC_AUDIENCES", "gota-cli"));
            assert_eq!(failing(&with_audiences).variable, "GOTA_OIDC_ISSUER");
        }
        let mut bad_pointer = full_oidc();
        bad_pointer.insert("GOTA_ADMIN_CLAIM".into(), "/roles~2".into());
        assert_eq!(
            Config::from_vars(&bad_pointer).unwrap_err().variable,
            "GOTA_ADMIN_CLAIM"
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
    fn lambda_init_warms_up_unless_told_off_and_a_standalone_server_never_does() {
        let mut lambda = full_lambda();
        lambda.remove("GOTA_WARM_UP");
        assert!(Config::from_vars(&lambda).unwrap().warm_up, "on by default");
        lambda.insert("GOTA_WARM_UP".into(), "on".into());
        assert!(Config::from_vars(&lambda).unwrap().warm_up);
        lambda.insert("GOTA_WARM_UP".into(), "off".into());
        assert!(!Config::from_vars(&lambda).unwrap().warm_up);
        lambda.insert("GOTA_WARM_UP".into(), "yes".into());
        assert_eq!(
            Config::from_vars(&lambda).unwrap_err().variable,
            "GOTA_WARM_UP"
        );
        assert!(!Config::from_vars(&full_standalone()).unwrap().warm_up);
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

    /// Parses `vars`, recording every name the parser asks for.
    fn parse_recording(
        vars: &HashMap<String, String>,
    ) -> (
        Result<Config, ConfigError>,
        std::collections::BTreeSet<String>,
    ) {
        let asked = std::cell::RefCell::new(std::collections::BTreeSet::new());
        let result = Config::from_lookup(|name| {
            asked.borrow_mut().insert(name.to_owned());
            vars.get(name).map(String::as_str)
        });
        (result, asked.into_inner())
    }

    fn entry(name: &str) -> &'static Variable {
        VARIABLES
            .iter()
            .find(|v| v.name == name)
            .unwrap_or_else(|| panic!("{name} is read but not in VARIABLES"))
    }

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:cursor-AbCdEf";

    /// Lambda mode with every variable it reads set.
    fn full_lambda() -> HashMap<String, String> {
        vars(&[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH", "true"),
            ("GOTA_TABLE_NAME", "recipes"),
            ("GOTA_PHOTO_BUCKET", "gota-photos"),
            ("GOTA_USER_POOL_ID", "us-east-1_x"),
            ("GOTA_USER_POOL_CLIENT_IDS", "c"),
            ("GOTA_JWT_ISSUER", "http://127.0.0.1:5000/us-east-1_x"),
            ("GOTA_JWKS_URL", "http://127.0.0.1:5000/jwks.json"),
            ("GOTA_ADMIN_GROUP", "moderators"),
            ("GOTA_CURSOR_SECRET_ARN", ARN),
            ("GOTA_LOG_FORMAT", "text"),
            ("GOTA_METRICS", "off"),
            ("GOTA_STAGE", "dev"),
            ("RUST_LOG", "debug"),
            ("GOTA_ROOT_CERTIFICATES", "/etc/pki/tls/certs/ca-bundle.crt"),
            ("GOTA_WARM_UP", "off"),
        ])
    }

    /// Standalone with every variable it reads set.
    fn full_standalone() -> HashMap<String, String> {
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let mut all = full_lambda();
        all.remove("AWS_LAMBDA_RUNTIME_API");
        all.remove("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH");
        all.remove("GOTA_CURSOR_SECRET_ARN");
        all.remove("GOTA_WARM_UP");
        all.extend(vars(&[
            ("GOTA_LISTEN", "127.0.0.1:0"),
            ("GOTA_DATA_DIR", "/tmp/gota"),
            ("GOTA_CURSOR_KEY", &key),
        ]));
        all
    }

    #[test]
    fn the_parser_reads_exactly_the_variables_in_the_table_each_in_its_modes() {
        let mut without_table = full_standalone();
        without_table.remove("GOTA_TABLE_NAME");
        let configurations = [
            full_lambda(),
            full_standalone(),
            without_table,
            vars(&[]),
            vars(&[("GOTA_JWKS_URL", "http://x")]),
            full_oidc(),
        ];
        let mut read = std::collections::BTreeSet::new();
        for vars in configurations {
            let lambda = vars.contains_key("AWS_LAMBDA_RUNTIME_API");
            let (result, asked) = parse_recording(&vars);
            if let Err(e) = &result {
                entry(e.variable);
            }
            for name in &asked {
                let entry = entry(name);
                let used = if lambda {
                    entry.lambda
                } else {
                    entry.standalone
                };
                assert_ne!(used, Use::Unread, "{name} is read in this mode: {vars:?}");
            }
            read.extend(asked);
        }
        let table: std::collections::BTreeSet<String> =
            VARIABLES.iter().map(|v| v.name.to_owned()).collect();
        assert_eq!(read, table, "every variable in the table is read somewhere");
        assert_eq!(table.len(), VARIABLES.len(), "no name twice");
    }

    #[test]
    fn the_table_says_which_variables_each_mode_requires() {
        for (full, lambda) in [(full_lambda(), true), (full_standalone(), false)] {
            assert!(Config::from_vars(&full).is_ok(), "{full:?}");
            let use_of = |v: &Variable| if lambda { v.lambda } else { v.standalone };
            // Only what the table says is needed: enough to start in this mode.
            let mut minimal = full.clone();
            minimal.retain(|name, _| {
                matches!(
                    use_of(entry(name)),
                    Use::Required | Use::RequiredUnless(_) | Use::Selects
                )
            });
            let started = Config::from_vars(&minimal).map(|c| c.mode == Mode::Lambda);
            assert_eq!(started, Ok(lambda), "{minimal:?}");
            for variable in VARIABLES {
                let mut without = minimal.clone();
                without.remove(variable.name);
                let refused = Config::from_vars(&without).map(|c| c.mode == Mode::Lambda);
                let refused = refused.map_err(|e| e.variable);
                match use_of(variable) {
                    Use::Required => assert_eq!(refused, Err(variable.name)),
                    Use::RequiredUnless(other) => {
                        without.remove(other);
                        let refused = Config::from_vars(&without)
                            .map(|_| ())
                            .map_err(|e| e.variable);
                        assert!(
                            refused == Err(variable.name) || refused == Err(other),
                            "{} or {other} is required: {refused:?}",
                            variable.name
                        );
                    }
                    Use::Selects => assert_eq!(refused, Ok(false), "{} selects", variable.name),
                    Use::Optional | Use::Unread | Use::Absent => {
                        assert_eq!(refused, Ok(lambda), "{} is not needed", variable.name);
                    }
                }
            }
        }
    }

    #[test]
    fn photos_live_in_the_bucket_when_one_is_named_else_in_the_data_folder_or_nowhere() {
        let mut lambda = full_lambda();
        assert_eq!(
            Config::from_vars(&lambda).unwrap().photos,
            PhotoConfig::Bucket {
                name: "gota-photos".into()
            }
        );
        lambda.remove("GOTA_PHOTO_BUCKET");
        assert_eq!(Config::from_vars(&lambda).unwrap().photos, PhotoConfig::Off);

        assert_eq!(
            Config::from_vars(&vars(&[("GOTA_DATA_DIR", "/tmp/g")]))
                .unwrap()
                .photos,
            PhotoConfig::Local {
                data_dir: "/tmp/g".into()
            }
        );
        assert_eq!(
            Config::from_vars(&vars(&[("GOTA_PHOTO_BUCKET", "my.photos-1")]))
                .unwrap()
                .photos,
            PhotoConfig::Bucket {
                name: "my.photos-1".into()
            }
        );
        assert_eq!(
            Config::from_vars(&vars(&[("GOTA_TABLE_NAME", "recipes")]))
                .unwrap()
                .photos,
            PhotoConfig::Off
        );
        for bad in [
            "ab",
            "Photos",
            "photos_1",
            "-photos",
            "photos.",
            "a..b",
            &"a".repeat(64),
        ] {
            assert_eq!(
                failing(&[("GOTA_PHOTO_BUCKET", bad)]).variable,
                "GOTA_PHOTO_BUCKET",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_bad_log_filter_is_a_configuration_error_and_the_stage_flag_follows_lambda_http() {
        assert_eq!(
            failing(&[("RUST_LOG", "gota=notalevel")]).variable,
            "RUST_LOG"
        );
        assert_eq!(Config::from_vars(&vars(&[])).unwrap().log_filter, "info");
        let mut lambda = full_lambda();
        assert!(!Config::from_vars(&lambda).unwrap().stage_in_path);
        // lambda_http ignores the stage when the variable is set at all, even empty.
        lambda.insert("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH".into(), String::new());
        assert!(!Config::from_vars(&lambda).unwrap().stage_in_path);
        lambda.remove("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH");
        assert!(Config::from_vars(&lambda).unwrap().stage_in_path);
        assert!(!Config::from_vars(&full_standalone()).unwrap().stage_in_path);
    }
}
