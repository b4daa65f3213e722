//! The command line and what each command does.

use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser, Subcommand};

use gota_domain::{Recipe, RecipeInput};

use crate::client::{Api, ListFilter};
use crate::config::{CachedTokens, DEFAULT_ENDPOINT, Profile, Store, TokenSource};
use crate::error::CliError;
use crate::render::{self, Output};

/// Tokens closer than this to expiry are renewed before use.
const EXPIRY_MARGIN_SECS: i64 = 60;

#[derive(Debug, Parser)]
#[command(
    name = "gota",
    version,
    about = "Command-line client for the Gota recipe API"
)]
pub struct Cli {
    /// Profile from the config file.
    #[arg(long, global = true, env = "GOTA_PROFILE", default_value = "default")]
    pub profile: String,
    /// API base URL (overrides the profile's `endpoint`).
    #[arg(long = "api", global = true, env = "GOTA_ENDPOINT")]
    pub api: Option<String>,
    /// Output format; a table on a terminal, JSON when piped.
    #[arg(long, short, global = true, value_enum)]
    pub output: Option<Output>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in: Cognito user and password, or `--dev NAME` against a standalone server.
    Login {
        /// Cognito username.
        username: Option<String>,
        /// Ask a standalone server's dev issuer for a token for NAME.
        #[arg(long, value_name = "NAME", conflicts_with = "username")]
        dev: Option<String>,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Cognito endpoint (emulators); overrides the profile's `cognito_endpoint`.
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Forget this profile's cached tokens.
    Logout,
    /// Who the cached token belongs to.
    Whoami,
    /// Create, read, list, change and delete recipes.
    #[command(subcommand)]
    Recipes(RecipeCommand),
    /// Read and change profiles.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script.
    Completions { shell: clap_complete::Shell },
}

#[derive(Debug, Subcommand)]
pub enum RecipeCommand {
    /// Create a recipe from a JSON or YAML file (`-` for stdin).
    Create {
        #[arg(short, long)]
        file: PathBuf,
    },
    /// Show one recipe, optionally scaled to N servings.
    Get {
        id: String,
        #[arg(long)]
        servings: Option<u16>,
    },
    /// List your recipes, newest first.
    List {
        #[arg(long)]
        tag: Option<String>,
        #[arg(long)]
        ingredient: Option<String>,
        #[arg(long)]
        q: Option<String>,
        /// Page size (1–100).
        #[arg(long)]
        limit: Option<u32>,
        /// Follow cursors to the last page.
        #[arg(long)]
        all: bool,
    },
    /// Replace a recipe with a file's content, if nobody changed it since a fresh read.
    Update {
        id: String,
        #[arg(short, long)]
        file: PathBuf,
        /// Replace without checking for someone else's change.
        #[arg(long)]
        force: bool,
    },
    /// Edit a recipe in $EDITOR (as YAML) and save it if nobody changed it meanwhile.
    Edit { id: String },
    /// Delete a recipe.
    Delete { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set a profile setting: endpoint, region, user_pool_id, client_id, cognito_endpoint.
    Set { key: String, value: String },
    /// Remove a profile setting.
    Unset { key: String },
    /// Show the profile and where the config lives.
    Show,
}

struct Context {
    store: Store,
    profile_name: String,
    profile: Profile,
    endpoint: String,
    output: Output,
}

/// Standard output was closed by its reader (`gota list | head`): the command stops, and
/// `main` exits 0 without a message (`doc/adr/0020-…`).
#[derive(Debug, thiserror::Error)]
#[error("standard output is closed")]
pub struct StdoutClosed;

/// Every command's output goes through here.
fn out(text: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    let newline: &[u8] = if text.ends_with('\n') { b"" } else { b"\n" };
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.write_all(newline))
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(StdoutClosed.into()),
        other => Ok(other?),
    }
}

fn now() -> i64 {
    // A clock override lets tests (and curious users) see what an expired token does.
    if let Some(t) = std::env::var("GOTA_NOW").ok().and_then(|v| v.parse().ok()) {
        return t;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let store = Store::locate()?;
    let config = store.load()?;
    let profile = config
        .profiles
        .get(&cli.profile)
        .cloned()
        .unwrap_or_default();
    let endpoint = cli
        .api
        .clone()
        .or_else(|| profile.endpoint.clone())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_owned());
    let output = cli.output.unwrap_or(if std::io::stdout().is_terminal() {
        Output::Table
    } else {
        Output::Json
    });
    let ctx = Context {
        store,
        profile_name: cli.profile,
        profile,
        endpoint,
        output,
    };
    match cli.command {
        Command::Login {
            username,
            dev,
            password_stdin,
            endpoint,
        } => login(&ctx, username, dev, password_stdin, endpoint).await,
        Command::Logout => {
            if ctx.store.remove_tokens(&ctx.profile_name)? {
                out(&format!("Logged out of profile {}.", ctx.profile_name))
            } else {
                out(&format!("Profile {} was not logged in.", ctx.profile_name))
            }
        }
        Command::Whoami => whoami(&ctx),
        Command::Recipes(command) => recipes(&ctx, command).await,
        Command::Config(command) => config_command(&ctx, command),
        Command::Completions { shell } => {
            let mut buffer = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "gota", &mut buffer);
            out(&String::from_utf8_lossy(&buffer))
        }
    }
}

fn config_command(ctx: &Context, command: ConfigCommand) -> anyhow::Result<()> {
    let mut config = ctx.store.load()?;
    let profile = config.profiles.entry(ctx.profile_name.clone()).or_default();
    match command {
        ConfigCommand::Set { key, value } => profile.set(&key, Some(value))?,
        ConfigCommand::Unset { key } => profile.set(&key, None)?,
        ConfigCommand::Show => {
            let text = serde_json::to_string_pretty(profile)?;
            return out(&format!(
                "# profile {} in {}\n{text}",
                ctx.profile_name,
                ctx.store.dir().join("config.json").display()
            ));
        }
    }
    ctx.store.save(&config)
}

async fn login(
    ctx: &Context,
    username: Option<String>,
    dev: Option<String>,
    password_stdin: bool,
    endpoint: Option<String>,
) -> anyhow::Result<()> {
    let tokens = if let Some(name) = dev {
        let token = Api::new(&ctx.endpoint, None).dev_token(&name).await?;
        CachedTokens {
            source: TokenSource::Dev,
            username: name,
            token: token.token,
            refresh_token: None,
            expires_at: now() + token.expires_in,
        }
    } else {
        let username = username.ok_or_else(|| {
            CliError::Usage("give a USERNAME for Cognito, or --dev NAME for a dev server".into())
        })?;
        let (region, client_id) = cognito_settings(&ctx.profile)?;
        let password = if password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from stdin")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        } else {
            rpassword::prompt_password(format!("Password for {username}: "))
                .context("reading the password")?
        };
        let cognito_endpoint = endpoint.or_else(|| ctx.profile.cognito_endpoint.clone());
        let t = crate::cognito::initiate(
            region,
            cognito_endpoint.as_deref(),
            client_id,
            aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth,
            &[("USERNAME", &username), ("PASSWORD", &password)],
        )
        .await?;
        CachedTokens {
            source: TokenSource::Cognito,
            username,
            token: t.access,
            refresh_token: t.refresh,
            expires_at: now() + t.expires_in,
        }
    };
    ctx.store.save_tokens(&ctx.profile_name, &tokens)?;
    out(&format!(
        "Logged in as {} (profile {}).",
        tokens.username, ctx.profile_name
    ))
}

fn cognito_settings(profile: &Profile) -> Result<(&str, &str), CliError> {
    let region = profile.region.as_deref();
    let client = profile.client_id.as_deref();
    match (region, client) {
        (Some(r), Some(c)) => Ok((r, c)),
        _ => Err(CliError::Usage(
            "this profile has no Cognito settings: `gota config set region …` and \
             `gota config set client_id …` (or use `gota login --dev NAME`)"
                .into(),
        )),
    }
}

fn whoami(ctx: &Context) -> anyhow::Result<()> {
    let tokens = ctx
        .store
        .tokens(&ctx.profile_name)?
        .ok_or_else(|| CliError::Auth(format!("not logged in (profile {})", ctx.profile_name)))?;
    let claims = jwt_claims(&tokens.token).unwrap_or_default();
    let sub = claims.get("sub").and_then(|v| v.as_str()).unwrap_or("?");
    let left = tokens.expires_at - now();
    let state = if left > 0 {
        format!("expires in {} min", left / 60)
    } else {
        "expired".to_owned()
    };
    out(&format!(
        "{} (sub {sub}) on {} via {} — profile {}, token {state}",
        tokens.username,
        ctx.endpoint,
        match tokens.source {
            TokenSource::Dev => "dev auth",
            TokenSource::Cognito => "Cognito",
        },
        ctx.profile_name
    ))
}

/// The payload of a JWT, unverified: only for showing who the cached token says it is.
fn jwt_claims(token: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A bearer token for the API, renewed first when it is (nearly) expired.
async fn bearer(ctx: &Context) -> anyhow::Result<String> {
    let tokens = ctx.store.tokens(&ctx.profile_name)?.ok_or_else(|| {
        CliError::Auth(format!(
            "not logged in (profile {}): run `gota login`",
            ctx.profile_name
        ))
    })?;
    // A session cached by an older `gota` holds an ID token, which the deployed API refuses:
    // renew it into an access token instead of failing with a 401.
    let id_token_cached = tokens.source == TokenSource::Cognito
        && jwt_claims(&tokens.token)
            .and_then(|c| {
                c.get("token_use")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            })
            .as_deref()
            != Some("access");
    if tokens.expires_at - EXPIRY_MARGIN_SECS > now() && !id_token_cached {
        return Ok(tokens.token);
    }
    let renewed = match tokens.source {
        TokenSource::Cognito => {
            let refresh = tokens.refresh_token.clone().ok_or_else(|| {
                CliError::Auth("the session expired: run `gota login` again".into())
            })?;
            let (region, client_id) = cognito_settings(&ctx.profile)?;
            let t = crate::cognito::initiate(
                region,
                ctx.profile.cognito_endpoint.as_deref(),
                client_id,
                aws_sdk_cognitoidentityprovider::types::AuthFlowType::RefreshTokenAuth,
                &[("REFRESH_TOKEN", &refresh)],
            )
            .await
            .map_err(|e| match e {
                CliError::Network(_) => e,
                other => CliError::Auth(format!(
                    "the session expired and could not be refreshed ({other}): run `gota login`"
                )),
            })?;
            CachedTokens {
                token: t.access,
                // Cognito does not rotate refresh tokens by default; keep the one we have.
                refresh_token: t.refresh.or(tokens.refresh_token),
                expires_at: now() + t.expires_in,
                ..tokens
            }
        }
        TokenSource::Dev => {
            // Dev tokens have no refresh token; the dev issuer mints a new one on request.
            let t = Api::new(&ctx.endpoint, None)
                .dev_token(&tokens.username)
                .await?;
            CachedTokens {
                token: t.token,
                expires_at: now() + t.expires_in,
                ..tokens
            }
        }
    };
    ctx.store.save_tokens(&ctx.profile_name, &renewed)?;
    Ok(renewed.token)
}

fn read_input(file: &Path) -> anyhow::Result<RecipeInput> {
    let text = if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading the recipe from stdin")?;
        text
    } else {
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?
    };
    parse_input(&text)
        .map_err(|e| CliError::Usage(format!("{} is not a recipe: {e}", file.display())).into())
}

/// JSON or YAML (YAML 1.2 reads JSON too, but JSON goes through serde_json for its messages).
fn parse_input(text: &str) -> Result<RecipeInput, String> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| e.to_string())
    } else {
        serde_norway::from_str(text).map_err(|e| e.to_string())
    }
}

fn show_one(ctx: &Context, recipe: &Recipe) -> anyhow::Result<()> {
    match ctx.output {
        Output::Table => out(&render::card(recipe)),
        Output::Json => out(&serde_json::to_string_pretty(recipe)?),
        Output::Yaml => out(&serde_norway::to_string(recipe)?),
    }
}

fn show_many(ctx: &Context, recipes: &[Recipe]) -> anyhow::Result<()> {
    match ctx.output {
        Output::Table => out(&render::table(recipes)),
        Output::Json => out(&serde_json::to_string_pretty(recipes)?),
        Output::Yaml => out(&serde_norway::to_string(recipes)?),
    }
}

async fn recipes(ctx: &Context, command: RecipeCommand) -> anyhow::Result<()> {
    let api = Api::new(&ctx.endpoint, Some(bearer(ctx).await?));
    match command {
        RecipeCommand::Create { file } => {
            let input = read_input(&file)?;
            show_one(ctx, &api.create(&input).await?)
        }
        RecipeCommand::Get { id, servings } => show_one(ctx, &api.get(&id, servings).await?.0),
        RecipeCommand::List {
            tag,
            ingredient,
            q,
            limit,
            all,
        } => {
            let filter = ListFilter {
                tag,
                ingredient,
                q,
                limit,
            };
            let mut items = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = api.list_page(&filter, cursor.as_deref()).await?;
                items.extend(page.items);
                match page.next_cursor {
                    Some(next) if all => cursor = Some(next),
                    _ => break,
                }
            }
            show_many(ctx, &items)
        }
        RecipeCommand::Update { id, file, force } => {
            let input = read_input(&file)?;
            let etag = if force {
                None
            } else {
                Some(api.get(&id, None).await?.1)
            };
            let updated = api
                .replace(&id, &input, etag.as_deref())
                .await
                .map_err(|e| changed(e, &id, ""))?;
            show_one(ctx, &updated)
        }
        RecipeCommand::Edit { id } => edit(ctx, &api, &id).await,
        RecipeCommand::Delete { id } => {
            api.delete(&id).await?;
            out(&format!("Deleted recipe {id}."))
        }
    }
}

fn changed(e: CliError, id: &str, hint: &str) -> CliError {
    match e {
        CliError::Api { status: 412, .. } => CliError::Changed {
            id: id.to_owned(),
            hint: hint.to_owned(),
        },
        other => other,
    }
}

async fn edit(ctx: &Context, api: &Api, id: &str) -> anyhow::Result<()> {
    let (recipe, etag) = api.get(id, None).await?;
    let original = serde_norway::to_string(&recipe.content.to_input())?;
    // A fresh, private file (not a guessable name in a shared folder), removed on success and
    // kept whenever the edit could not be saved, so no typing is ever lost.
    let temp = tempfile::Builder::new()
        .prefix(&format!("gota-{id}-"))
        .suffix(".yaml")
        .tempfile()
        .context("creating a file to edit")?
        .into_temp_path();
    std::fs::write(&temp, &original).with_context(|| format!("writing {}", temp.display()))?;
    let editor = std::env::var("VISUAL")
        .or_else(|_| std::env::var("EDITOR"))
        .unwrap_or_else(|_| "vi".to_owned());
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("gota-editor")
        .arg(&temp)
        .status()
        .with_context(|| format!("starting the editor `{editor}`"))?;
    if !status.success() {
        return Err(CliError::Usage(format!(
            "the editor exited with {status}; nothing was saved"
        ))
        .into());
    }
    let edited = std::fs::read_to_string(&temp)?;
    if edited == original {
        return out("No changes.");
    }
    let keep_path = |temp: tempfile::TempPath| match temp.keep() {
        Ok(path) => path.display().to_string(),
        Err(e) => format!("(nowhere: {e})"),
    };
    let keep = |temp| format!("; your edit is kept in {}", keep_path(temp));
    let input = match parse_input(&edited) {
        Ok(input) => input,
        Err(e) => {
            let hint = keep(temp);
            return Err(
                CliError::Usage(format!("the edited recipe is not valid: {e}{hint}")).into(),
            );
        }
    };
    match api.replace(id, &input, Some(&etag)).await {
        Ok(updated) => show_one(ctx, &updated),
        Err(e @ CliError::Api { status: 412, .. }) => Err(changed(e, id, &keep(temp)).into()),
        Err(e) => {
            // The server's problem stays the error (and decides the exit code); where the
            // edit went goes on its own line so it is not lost in the message.
            eprintln!("gota: your edit is kept in {}", keep_path(temp));
            Err(e.into())
        }
    }
}
