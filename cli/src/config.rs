//! Profiles (`config.json`) and cached tokens (`tokens/<profile>.json`, mode 0600) in the
//! user's config folder, `GOTA_CONFIG_DIR` overriding it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::error::CliError;

pub const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:3000";

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Cognito endpoint override, for emulators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cognito_endpoint: Option<String>,
    /// An OpenID Connect provider's issuer: when set, `gota login` signs in there (with
    /// `client_id` as a public client) instead of Cognito.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    /// Which of the provider's tokens the API gets; the ID token when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc_token: Option<OidcToken>,
}

/// The token of an OpenID Connect session that is sent to the API.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OidcToken {
    /// The ID token: its `aud` is always the client id (OpenID Connect Core §2), so a server
    /// whose GOTA_OIDC_AUDIENCES names the CLI's client id accepts it with any provider.
    #[default]
    Id,
    /// The access token, for servers whose GOTA_OIDC_AUDIENCES names the API's own audience
    /// (RFC 9068 §4) and providers that issue JWT access tokens for it.
    Access,
}

impl OidcToken {
    pub fn as_str(self) -> &'static str {
        match self {
            OidcToken::Id => "id",
            OidcToken::Access => "access",
        }
    }
}

pub const PROFILE_KEYS: &[&str] = &[
    "endpoint",
    "region",
    "user_pool_id",
    "client_id",
    "cognito_endpoint",
    "oidc_issuer",
    "oidc_token",
];

impl Profile {
    pub fn set(&mut self, key: &str, value: Option<String>) -> Result<(), CliError> {
        if key == "oidc_token" {
            self.oidc_token = match value.as_deref() {
                None => None,
                Some("id") => Some(OidcToken::Id),
                Some("access") => Some(OidcToken::Access),
                Some(other) => {
                    return Err(CliError::Usage(format!(
                        "oidc_token is `id` (the ID token, the default) or `access` (the access \
                         token), not `{other}`"
                    )));
                }
            };
            return Ok(());
        }
        let slot = match key {
            "endpoint" => &mut self.endpoint,
            "region" => &mut self.region,
            "user_pool_id" => &mut self.user_pool_id,
            "client_id" => &mut self.client_id,
            "cognito_endpoint" => &mut self.cognito_endpoint,
            "oidc_issuer" => &mut self.oidc_issuer,
            other => {
                return Err(CliError::Usage(format!(
                    "unknown setting `{other}`; known: {}",
                    PROFILE_KEYS.join(", ")
                )));
            }
        };
        if let (Some(value), "endpoint" | "cognito_endpoint" | "oidc_issuer") = (&value, key) {
            check_url(key, value)?;
        }
        if let (Some(value), "oidc_issuer") = (&value, key)
            && !reqwest::Url::parse(value).is_ok_and(|u| https_or_loopback(&u))
        {
            // A password grant would send the password in clear text.
            return Err(CliError::Usage(format!(
                "oidc_issuer must be an https:// URL (http:// only on this host), not `{value}`"
            )));
        }
        *slot = value;
        Ok(())
    }
}

/// Whether passwords, device codes and refresh tokens may be sent to `url`: over https, or
/// over plain http only to this host (127.0.0.0/8, ::1, `localhost`: a provider on the same
/// machine, or a test's) — the server holds its issuer to the same rule.
pub fn https_or_loopback(url: &reqwest::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => url.host_str().is_some_and(|host| {
            // IPv6 hosts come bracketed; the parser has already normalised every IP form.
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            bare.parse::<std::net::IpAddr>().map_or_else(
                |_| host.eq_ignore_ascii_case("localhost"),
                |ip| ip.is_loopback(),
            )
        }),
        _ => false,
    }
}

/// An endpoint must be an absolute http(s) URL with a host; caught here rather than on the
/// first request, where it would read as a network error.
pub fn check_url(key: &str, value: &str) -> Result<(), CliError> {
    match reqwest::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Ok(()),
        Ok(url) => Err(CliError::Usage(format!(
            "{key} must be an http:// or https:// URL with a host, not `{value}` ({} URL)",
            url.scheme()
        ))),
        Err(e) => Err(CliError::Usage(format!(
            "{key} must be a URL such as http://127.0.0.1:3000, not `{value}` ({e})"
        ))),
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub profiles: BTreeMap<String, Profile>,
}

/// Where the tokens came from, which decides how they are renewed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    Dev,
    Cognito,
    /// An OpenID Connect provider's; renewed with its refresh token at its token endpoint.
    Oidc,
    /// Handed in on stdin (`gota login --token-stdin`): never renewed.
    Provided,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CachedTokens {
    pub source: TokenSource,
    pub username: String,
    /// The bearer token sent to the API: for Cognito the access token, which both modes accept
    /// (API Gateway's authorizer takes no ID token; doc/api.md, "Identity and access").
    pub token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// The OpenID Connect issuer of an `oidc` session, which renews it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn locate() -> anyhow::Result<Self> {
        let dir = match std::env::var_os("GOTA_CONFIG_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => dirs::config_dir()
                .context("no config folder for this user (set GOTA_CONFIG_DIR)")?
                .join("gota"),
        };
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    fn token_path(&self, profile: &str) -> PathBuf {
        self.dir.join("tokens").join(format!("{profile}.json"))
    }

    pub fn load(&self) -> anyhow::Result<ConfigFile> {
        let path = self.config_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigFile::default()),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save(&self, config: &ConfigFile) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(config)?;
        write_private(&self.config_path(), &text)
    }

    pub fn tokens(&self, profile: &str) -> anyhow::Result<Option<CachedTokens>> {
        let path = self.token_path(profile);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(
                serde_json::from_str(&text)
                    .with_context(|| format!("reading {}", path.display()))?,
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    pub fn save_tokens(&self, profile: &str, tokens: &CachedTokens) -> anyhow::Result<()> {
        write_private(&self.token_path(profile), &serde_json::to_string(tokens)?)
    }

    /// True when there were tokens to remove.
    pub fn remove_tokens(&self, profile: &str) -> anyhow::Result<bool> {
        match std::fs::remove_file(self.token_path(profile)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
}

/// Writes a file only its owner can read: created 0600 from the start, never widened later.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
