//! The command line and what each command does.

use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser, Subcommand};

use gota_domain::Recipe;

use crate::client::{Api, ListFilter, Page, Units};
use crate::config::{CachedTokens, DEFAULT_ENDPOINT, Profile, Store, TokenSource};
use crate::error::CliError;
use crate::import::{self, ImportBody, ImportReport};
use crate::recipe_file::{self, RecipeFile};
use crate::render::{self, Output};

mod photo;
mod search;
mod shop;

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
    /// Sign in: at the profile's OpenID Connect provider (device flow, or the password grant
    /// with a USERNAME), Cognito user and password, `--dev NAME` against a standalone server,
    /// or a token piped in with `--token-stdin`.
    Login {
        /// Cognito username, or the provider's for the password grant.
        username: Option<String>,
        /// Ask a standalone server's dev issuer for a token for NAME.
        #[arg(long, value_name = "NAME", conflicts_with = "username")]
        dev: Option<String>,
        /// Read the password from the first line of stdin instead of prompting.
        #[arg(long)]
        password_stdin: bool,
        /// Read a token (a JWT) from stdin and use it until it expires; it is never renewed.
        #[arg(long, conflicts_with_all = ["username", "dev", "password_stdin", "endpoint"])]
        token_stdin: bool,
        /// Cognito endpoint (emulators); overrides the profile's `cognito_endpoint`.
        #[arg(long)]
        endpoint: Option<String>,
    },
    /// Forget this profile's cached tokens.
    Logout,
    /// Who the cached token belongs to, and whether the server still accepts it.
    Whoami,
    /// Create, read, list, change and delete recipes.
    #[command(subcommand)]
    Recipes(RecipeCommand),
    // Their help is their arguments' (`search::SearchArgs`, `shop::ShopArgs`).
    Search(search::SearchArgs),
    Shop(shop::ShopArgs),
    /// Read and change profiles.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Print a shell completion script.
    Completions {
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecipeCommand {
    /// Create recipes from a JSON or YAML file (`-` for stdin): one recipe, a list of them, or
    /// several YAML documents; each is reported on its own.
    Create {
        #[arg(short, long)]
        file: PathBuf,
    },
    /// Show one recipe, optionally scaled to N servings or in one system of units.
    Get {
        id: String,
        #[arg(long)]
        servings: Option<u16>,
        /// Show every amount in metric (g, ml) or US units (oz, cup), whatever the recipe uses.
        #[arg(long, value_enum)]
        units: Option<Units>,
    },
    /// List your recipes, newest first, a page at a time.
    List {
        /// Only recipes with this tag; repeat for several (all must match).
        #[arg(long = "tag", value_name = "TAG")]
        tags: Vec<String>,
        /// Only recipes with an ingredient of this name (whole name, any case).
        #[arg(long, value_name = "NAME")]
        ingredient: Option<String>,
        /// Word search, as `gota search` does: every word must be a word of the title,
        /// description, ingredient names or tags (any case, accents optional), the last word
        /// only its start; 1–8 words.
        #[arg(long, value_name = "WORDS")]
        q: Option<String>,
        /// Page size (1–100; the server's default is 20).
        #[arg(long)]
        limit: Option<u32>,
        /// Start at this page: the `next_cursor` of the previous one (same filters).
        #[arg(long, conflicts_with = "all")]
        cursor: Option<String>,
        /// Follow cursors to the last page.
        #[arg(long)]
        all: bool,
    },
    /// Replace a recipe with a file's content, if it is still at the version the file was
    /// based on (the file's `version`, as `get -o yaml` writes it, or `--if-match`).
    Update {
        id: String,
        #[arg(short, long)]
        file: PathBuf,
        /// The version the file was based on, overriding the file's `version`.
        #[arg(long, value_name = "VERSION", conflicts_with = "force")]
        if_match: Option<u64>,
        /// Replace whatever is stored, even someone else's newer change.
        #[arg(long)]
        force: bool,
    },
    /// Import a recipe from a web page (the server fetches the URL) or from a file holding an
    /// HTML page or schema.org JSON-LD (`-` for stdin); shows the recipe and what the import
    /// guessed or left out.
    Import {
        /// `http(s)://…` (fetched by the server), or a .html/.htm/.json/.jsonld file (other
        /// names are typed by their first character: `<` HTML, `{` or `[` JSON-LD).
        #[arg(value_name = "URL|FILE")]
        source: String,
        /// Send this Idempotency-Key instead of a new one: retry an import whose answer was
        /// lost without creating a second recipe.
        #[arg(long, value_name = "KEY")]
        idempotency_key: Option<String>,
    },
    /// Write a recipe as schema.org JSON-LD (a `Recipe`), to standard output or a file.
    Export {
        id: String,
        /// Write to FILE instead of standard output.
        #[arg(short, long, value_name = "FILE")]
        file: Option<PathBuf>,
    },
    /// Edit a recipe in $EDITOR (as YAML) and save it if nobody changed it meanwhile.
    Edit { id: String },
    /// Delete a recipe.
    Delete { id: String },
    /// A recipe's photo: attach one, download it, remove it.
    #[command(subcommand)]
    Photo(photo::PhotoCommand),
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Set a profile setting: endpoint, region, user_pool_id, client_id, cognito_endpoint,
    /// oidc_issuer, oidc_token (`id` or `access`).
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
    if cli.api.is_some() {
        crate::config::check_url("--api (GOTA_ENDPOINT)", &endpoint)?;
    }
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
            token_stdin,
        } => {
            let args = LoginArgs {
                username,
                dev,
                password_stdin,
                token_stdin,
                endpoint,
            };
            login(&ctx, args).await
        }
        Command::Logout => {
            let was = ctx.store.remove_tokens(&ctx.profile_name)?;
            let text = if was {
                format!("Logged out of profile {}.", ctx.profile_name)
            } else {
                format!("Profile {} was not logged in.", ctx.profile_name)
            };
            report(
                &ctx,
                &text,
                &serde_json::json!({"profile": ctx.profile_name, "logged_out": was}),
            )
        }
        Command::Whoami => whoami(&ctx).await,
        // Photo commands check their file before the token is looked at or renewed.
        Command::Recipes(RecipeCommand::Photo(command)) => photo::photo(&ctx, command).await,
        Command::Recipes(command) => recipes(&ctx, command).await,
        Command::Search(args) => {
            let api = Api::new(&ctx.endpoint, Some(bearer(&ctx).await?));
            search::search(&ctx, &api, args).await
        }
        Command::Shop(args) => shop::shop(&ctx, args).await,
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
            let path = ctx.store.dir().join("config.json");
            let text = format!(
                "# profile {} in {}\n{}",
                ctx.profile_name,
                path.display(),
                serde_json::to_string_pretty(profile)?
            );
            let json = serde_json::json!({
                "profile": ctx.profile_name,
                "file": path,
                "settings": profile,
            });
            return report(ctx, &text, &json);
        }
    }
    ctx.store.save(&config)
}

/// A command's result: `text` for a table (a terminal), `json` for `-o json` / `-o yaml`.
fn report(ctx: &Context, text: &str, json: &serde_json::Value) -> anyhow::Result<()> {
    match ctx.output {
        Output::Table => out(text),
        Output::Json => out(&serde_json::to_string_pretty(json)?),
        Output::Yaml => out(&serde_norway::to_string(json)?),
    }
}

/// What `gota login` was asked to do.
struct LoginArgs {
    username: Option<String>,
    dev: Option<String>,
    password_stdin: bool,
    token_stdin: bool,
    endpoint: Option<String>,
}

async fn login(ctx: &Context, args: LoginArgs) -> anyhow::Result<()> {
    let tokens = if args.token_stdin {
        provided_token()?
    } else if let Some(name) = args.dev {
        let token = Api::new(&ctx.endpoint, None).dev_token(&name).await?;
        CachedTokens {
            source: TokenSource::Dev,
            username: name,
            token: token.token,
            refresh_token: None,
            expires_at: now() + token.expires_in,
            issuer: None,
        }
    } else if let Some(issuer) = ctx.profile.oidc_issuer.as_deref() {
        if args.endpoint.is_some() {
            return Err(CliError::Usage(
                "--endpoint is Cognito's endpoint; this profile signs in with OpenID Connect \
                 (oidc_issuer)"
                    .into(),
            )
            .into());
        }
        oidc_login(ctx, issuer, args.username, args.password_stdin).await?
    } else {
        let username = args.username.ok_or_else(|| {
            CliError::Usage(
                "give a USERNAME for Cognito, --dev NAME for a dev server, or --token-stdin \
                 (or set the profile's oidc_issuer to sign in with an OpenID Connect provider)"
                    .into(),
            )
        })?;
        let (region, client_id) = cognito_settings(&ctx.profile)?;
        let password = read_password(&username, args.password_stdin)?;
        let cognito_endpoint = args
            .endpoint
            .or_else(|| ctx.profile.cognito_endpoint.clone());
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
            issuer: None,
        }
    };
    ctx.store.save_tokens(&ctx.profile_name, &tokens)?;
    report(
        ctx,
        &format!(
            "Logged in as {} (profile {}).",
            tokens.username, ctx.profile_name
        ),
        &serde_json::json!({
            "username": tokens.username,
            "profile": ctx.profile_name,
            "expires_at": tokens.expires_at,
        }),
    )
}

/// The password from the first line of stdin, or typed without echo.
fn read_password(username: &str, from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .context("reading the password from stdin")?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        rpassword::prompt_password(format!("Password for {username}: "))
            .context("reading the password")
    }
}

/// `gota login --token-stdin`: one JWT, from whatever signed the person in (a provider's own
/// tools, a self-hoster's script), kept until it expires.
fn provided_token() -> anyhow::Result<CachedTokens> {
    use std::io::Read as _;
    let mut text = String::new();
    // A JWT is a few KiB; a cap keeps a wrong pipe (a file, /dev/zero) from filling memory.
    std::io::stdin()
        .take(64 * 1024)
        .read_to_string(&mut text)
        .map_err(|e| CliError::Usage(format!("reading the token from stdin: {e}")))?;
    let token = text.trim();
    let (claims, expires_at) = crate::jwt::provided(token, now())?;
    Ok(CachedTokens {
        source: TokenSource::Provided,
        username: crate::jwt::username(&claims).unwrap_or_else(|| "(unnamed)".to_owned()),
        token: token.to_owned(),
        refresh_token: None,
        expires_at,
        issuer: None,
    })
}

/// Sign-in at the profile's OpenID Connect provider: the device flow without a USERNAME, the
/// password grant with one.
async fn oidc_login(
    ctx: &Context,
    issuer: &str,
    username: Option<String>,
    password_stdin: bool,
) -> anyhow::Result<CachedTokens> {
    let client_id = oidc_client_id(&ctx.profile)?;
    let choice = ctx.profile.oidc_token.unwrap_or_default();
    let provider = crate::oidc::Provider::discover(issuer).await?;
    let session = match &username {
        Some(name) => {
            let password = read_password(name, password_stdin)?;
            provider
                .password(client_id, name, &password, choice)
                .await?
        }
        None => {
            if password_stdin {
                return Err(CliError::Usage(
                    "--password-stdin needs a USERNAME (the password grant); without one \
                     `gota login` uses the device flow"
                        .into(),
                )
                .into());
            }
            provider
                .device(client_id, choice, |instructions| {
                    eprintln!("{instructions}\nWaiting for the sign-in… (Ctrl-C stops)");
                })
                .await?
        }
    };
    Ok(CachedTokens {
        source: TokenSource::Oidc,
        username: session
            .username
            .or(username)
            .unwrap_or_else(|| "(unnamed)".to_owned()),
        token: session.token,
        refresh_token: session.refresh_token,
        expires_at: session.expires_at,
        issuer: Some(provider.issuer().to_owned()),
    })
}

fn oidc_client_id(profile: &Profile) -> Result<&str, CliError> {
    profile.client_id.as_deref().ok_or_else(|| {
        CliError::Usage(
            "this profile has an oidc_issuer but no client_id: `gota config set client_id …` \
             (the provider's id of the gota client, a public client without a secret)"
                .into(),
        )
    })
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

/// Who the cached token says it is, and what the server says of it: a token is only reported
/// as good once the server has accepted it (it may be signed by a key the server no longer has).
async fn whoami(ctx: &Context) -> anyhow::Result<()> {
    let tokens = ctx
        .store
        .tokens(&ctx.profile_name)?
        .ok_or_else(|| CliError::Auth(format!("not logged in (profile {})", ctx.profile_name)))?;
    let claims = crate::jwt::claims(&tokens.token).unwrap_or_default();
    let sub = claims
        .get("sub")
        .and_then(|v| v.as_str())
        .map_or_else(|| "?".to_owned(), crate::jwt::printable);
    let source = match (tokens.source, &tokens.issuer) {
        (TokenSource::Dev, _) => "dev auth".to_owned(),
        (TokenSource::Cognito, _) => "Cognito".to_owned(),
        (TokenSource::Oidc, Some(issuer)) => format!("OIDC ({issuer})"),
        (TokenSource::Oidc, None) => "OIDC".to_owned(),
        (TokenSource::Provided, _) => "a token from stdin".to_owned(),
    };
    let login = match tokens.source {
        TokenSource::Dev => format!("gota login --dev {}", tokens.username),
        TokenSource::Cognito => format!("gota login {}", tokens.username),
        TokenSource::Oidc => "gota login".to_owned(),
        TokenSource::Provided => "gota login --token-stdin".to_owned(),
    };
    let left = tokens.expires_at - now();
    if left <= 0 {
        let renews = if tokens.source == TokenSource::Provided {
            "a token from stdin is not renewed: pipe a new one into"
        } else {
            "the next command renews it, or run"
        };
        return Err(CliError::Auth(format!(
            "{} (profile {}): the cached token has expired; {renews} `{login}`",
            tokens.username, ctx.profile_name
        ))
        .into());
    }
    Api::new(&ctx.endpoint, Some(tokens.token.clone()))
        .check_token()
        .await
        .map_err(|e| match e {
            CliError::Api {
                status: 401 | 403, ..
            } => CliError::Auth(format!(
                "{} (profile {}): {} refuses the cached token ({e}); run `{login}`",
                tokens.username, ctx.profile_name, ctx.endpoint,
            )),
            other => other,
        })?;
    report(
        ctx,
        &format!(
            "{} (sub {sub}) on {} via {source} — profile {}, token accepted by the server, \
             expires in {} min",
            tokens.username,
            ctx.endpoint,
            ctx.profile_name,
            left / 60
        ),
        &serde_json::json!({
            "username": tokens.username,
            "sub": sub,
            "endpoint": ctx.endpoint,
            "auth": source,
            "profile": ctx.profile_name,
            "expires_at": tokens.expires_at,
            "accepted_by_server": true,
        }),
    )
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
        && crate::jwt::claims(&tokens.token)
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
        TokenSource::Oidc => {
            let (Some(refresh), Some(issuer)) = (&tokens.refresh_token, &tokens.issuer) else {
                return Err(CliError::Auth(
                    "the session expired and the provider gave no refresh token: run `gota \
                     login` again"
                        .into(),
                )
                .into());
            };
            let provider = crate::oidc::Provider::discover(issuer).await?;
            let choice = ctx.profile.oidc_token.unwrap_or_default();
            let session = provider
                .refresh(oidc_client_id(&ctx.profile)?, refresh, choice)
                .await?;
            CachedTokens {
                token: session.token,
                refresh_token: session.refresh_token,
                expires_at: session.expires_at,
                ..tokens
            }
        }
        TokenSource::Provided => {
            return Err(CliError::Auth(format!(
                "the token given with --token-stdin has expired (profile {}): pipe a new one \
                 into `gota login --token-stdin`",
                ctx.profile_name
            ))
            .into());
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

/// The recipes in `file`: each document read on its own, so one bad item spoils only itself.
/// A file that cannot be read, or is not JSON/YAML at all, is a usage error.
fn read_recipes(file: &Path) -> Result<Vec<Result<RecipeFile, String>>, CliError> {
    let text = recipe_file::read_text(file)?;
    let documents = recipe_file::documents(&text)
        .map_err(|e| CliError::Usage(format!("{} is not a recipe file: {e}", file.display())))?;
    Ok(documents.into_iter().map(recipe_file::recipe).collect())
}

/// The one recipe in `file`.
fn one_recipe(
    file: &Path,
    mut recipes: Vec<Result<RecipeFile, String>>,
) -> Result<RecipeFile, CliError> {
    if recipes.len() != 1 {
        return Err(CliError::Usage(format!(
            "{} holds {} recipes; this command takes one",
            file.display(),
            recipes.len()
        )));
    }
    recipes
        .remove(0)
        .map_err(|e| CliError::Usage(format!("{} is not a recipe: {e}", file.display())))
}

fn show_one(ctx: &Context, recipe: &Recipe) -> anyhow::Result<()> {
    show_scaled(ctx, recipe, None)
}

fn show_scaled(ctx: &Context, recipe: &Recipe, scaled_from: Option<u16>) -> anyhow::Result<()> {
    match ctx.output {
        Output::Table => out(&render::card(recipe, scaled_from)),
        Output::Json => out(&serde_json::to_string_pretty(recipe)?),
        Output::Yaml => out(&serde_norway::to_string(recipe)?),
    }
}

/// A page of recipes: as the API sends it (`items`, `next_cursor`) for JSON and YAML; a table
/// and the command for the next page (`next` of its cursor) otherwise, or `nothing` when the
/// page is empty.
fn show_page(
    ctx: &Context,
    page: &Page,
    next: impl Fn(&str) -> String,
    nothing: &str,
) -> anyhow::Result<()> {
    match ctx.output {
        Output::Table if page.items.is_empty() && page.next_cursor.is_none() => out(nothing),
        Output::Table => {
            let mut text = render::table(&page.items);
            if let Some(cursor) = &page.next_cursor {
                text.push_str(&format!(
                    "({} shown; more: {}, or --all)\n",
                    page.items.len(),
                    next(cursor)
                ));
            }
            out(&text)
        }
        Output::Json => out(&serde_json::to_string_pretty(page)?),
        Output::Yaml => out(&serde_norway::to_string(page)?),
    }
}

/// The flags that ask for the page at `cursor` of a list with `filter`.
fn page_hint(filter: &ListFilter, cursor: &str) -> String {
    filter
        .query(Some(cursor))
        .into_iter()
        .map(|(name, value)| format!("--{name} {}", shell_word(&value)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// `value` as one shell word.
fn shell_word(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.,:/=+@".contains(c))
    {
        value.to_owned()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

async fn recipes(ctx: &Context, command: RecipeCommand) -> anyhow::Result<()> {
    let api = Api::new(&ctx.endpoint, Some(bearer(ctx).await?));
    match command {
        RecipeCommand::Create { file } => create(ctx, &api, &file).await,
        RecipeCommand::Get {
            id,
            servings,
            units,
        } => {
            let (recipe, _) = api.get_in(&id, None, units).await?;
            match servings {
                Some(n) if n != recipe.content.servings().get() => {
                    let from = recipe.content.servings().get();
                    show_scaled(ctx, &api.get_in(&id, Some(n), units).await?.0, Some(from))
                }
                _ => show_one(ctx, &recipe),
            }
        }
        RecipeCommand::List {
            tags,
            ingredient,
            q,
            limit,
            cursor,
            all,
        } => {
            let filter = ListFilter {
                tags,
                ingredient,
                q,
                limit,
            };
            let page = api
                .all_pages(&filter, cursor.as_deref(), all)
                .await
                .map_err(|e| search::refused_query(e, "gota recipes list"))?;
            let next = |cursor: &str| format!("gota recipes list {}", page_hint(&filter, cursor));
            show_page(ctx, &page, next, "(no recipes)")
        }
        RecipeCommand::Update {
            id,
            file,
            if_match,
            force,
        } => update(ctx, &api, &id, &file, if_match, force).await,
        RecipeCommand::Import {
            source,
            idempotency_key,
        } => import(ctx, &api, &source, idempotency_key).await,
        RecipeCommand::Export { id, file } => export(ctx, &api, &id, file.as_deref()).await,
        RecipeCommand::Edit { id } => edit(ctx, &api, &id).await,
        RecipeCommand::Delete { id } => {
            api.delete(&id).await?;
            report(
                ctx,
                &format!("Deleted recipe {id}."),
                &serde_json::json!({"deleted": id}),
            )
        }
        RecipeCommand::Photo(command) => photo::photo(ctx, command).await,
    }
}

/// `recipes import`: one new Idempotency-Key per run (or the one given), named in the error
/// when the answer was lost, so a retry cannot import the page twice.
async fn import(
    ctx: &Context,
    api: &Api,
    source: &str,
    idempotency_key: Option<String>,
) -> anyhow::Result<()> {
    let body = ImportBody::from_source(source)?;
    let key = idempotency_key.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let answer = api
        .import(&body, &key)
        .await
        .map_err(|e| import::failed_under_key(e, &key))?;
    match ctx.output {
        Output::Table => {
            let recipe: Recipe =
                serde_json::from_value(answer.get("recipe").cloned().unwrap_or_default())
                    .context("reading the imported recipe from the server's answer")?;
            let report: ImportReport =
                serde_json::from_value(answer.get("import").cloned().unwrap_or_default())
                    .context("reading the import report from the server's answer")?;
            out(&format!(
                "{}\n{}",
                render::card(&recipe, None),
                import::report_text(&report)
            ))
        }
        Output::Json => out(&serde_json::to_string_pretty(&answer)?),
        Output::Yaml => out(&serde_norway::to_string(&answer)?),
    }
}

/// `recipes export`: the JSON-LD as the server wrote it, indented for people.
async fn export(ctx: &Context, api: &Api, id: &str, file: Option<&Path>) -> anyhow::Result<()> {
    let document: serde_json::Value = serde_json::from_str(&api.export(id).await?)
        .context("reading the JSON-LD the server sent")?;
    let text = serde_json::to_string_pretty(&document)?;
    let Some(file) = file else {
        return out(&text);
    };
    std::fs::write(file, format!("{text}\n"))
        .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", file.display())))?;
    report(
        ctx,
        &format!(
            "Wrote recipe {id} to {} (schema.org JSON-LD).",
            file.display()
        ),
        &serde_json::json!({"exported": id, "file": file}),
    )
}

/// `update -f`: `If-Match` is the version the file was based on, never a fresh read's (which
/// would overwrite whatever changed since the file was written).
async fn update(
    ctx: &Context,
    api: &Api,
    id: &str,
    file: &Path,
    if_match: Option<u64>,
    force: bool,
) -> anyhow::Result<()> {
    let recipe = one_recipe(file, read_recipes(file)?)?;
    if let Some(named) = recipe
        .id
        .as_deref()
        .filter(|n| !recipe_file::same_id(n, id))
    {
        return Err(CliError::Usage(format!(
            "{} is recipe {named}, not {id}: remove its `id` line to copy it onto {id}",
            file.display()
        ))
        .into());
    }
    let base = if force {
        None
    } else {
        if_match.or(recipe.version)
    };
    if base.is_none() && !force {
        return Err(CliError::Usage(format!(
            "{} has no `version`, so gota cannot tell whether it would overwrite someone \
             else's change: start from `gota recipes get {id} -o yaml`, or pass --if-match \
             VERSION, or --force to overwrite whatever is stored",
            file.display()
        ))
        .into());
    }
    let etag = base.map(|v| format!("\"{v}\""));
    let hint = base.map_or_else(String::new, |v| {
        format!(
            "; {} is based on version {v}: see `gota recipes get {id}`, merge, and update with \
             the new version (or --force to overwrite it)",
            file.display()
        )
    });
    let updated = api
        .replace(id, &recipe.input, etag.as_deref())
        .await
        .map_err(|e| changed(e, id, &hint))?;
    show_one(ctx, &updated)
}

/// `create -f`: every recipe in the file, each reported on its own. A file with one recipe
/// prints it as `get` does; several print one line (or JSON object) per item. When any item
/// fails the exit code is the first failure's (2 for an invalid recipe); an auth or network
/// failure stops the run, and the items after it are reported as not sent.
async fn create(ctx: &Context, api: &Api, file: &Path) -> anyhow::Result<()> {
    let recipes = read_recipes(file)?;
    if recipes.len() == 1 {
        let recipe = one_recipe(file, recipes)?;
        return show_one(ctx, &api.create(&recipe.input).await?);
    }
    let total = recipes.len();
    let mut lines = Vec::new();
    let mut items = Vec::new();
    let mut created = 0;
    let mut first_failure: Option<CliError> = None;
    // Set by any auth or network failure, not only the first failure: once the server cannot
    // be reached or refuses the session, the remaining items are not sent.
    let mut stopped = false;
    for (n, recipe) in recipes.into_iter().enumerate() {
        let item = n + 1;
        if stopped {
            lines.push(format!("[{item}/{total}] not sent"));
            items.push(serde_json::json!({"item": item, "error": "not sent"}));
            continue;
        }
        let result = match recipe {
            Err(e) => Err(CliError::Usage(format!("not a recipe: {e}"))),
            Ok(recipe) => api.create(&recipe.input).await,
        };
        match result {
            Ok(recipe) => {
                created += 1;
                lines.push(format!(
                    "[{item}/{total}] created {}  {}",
                    recipe.id,
                    recipe.content.title()
                ));
                items.push(serde_json::json!({"item": item, "created": recipe}));
            }
            Err(e) => {
                let message = e.to_string();
                lines.push(format!(
                    "[{item}/{total}] failed: {}",
                    message.replace('\n', "\n      ")
                ));
                items.push(serde_json::json!({
                    "item": item,
                    "error": message,
                    "exit_code": e.exit_code(),
                }));
                stopped |= matches!(
                    e,
                    CliError::Network(_)
                        | CliError::Api {
                            status: 401 | 403,
                            ..
                        }
                );
                first_failure.get_or_insert(e);
            }
        }
    }
    lines.push(format!("{created} of {total} created."));
    report(ctx, &lines.join("\n"), &serde_json::Value::Array(items))?;
    match first_failure {
        None => Ok(()),
        Some(e) => Err(anyhow::Error::new(e).context(format!(
            "{} of {total} recipes in {} were not created",
            total - created,
            file.display()
        ))),
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
    // The file names the recipe and the version it was based on, so that if it has to be kept
    // (a conflict, an invalid edit), `gota recipes update ID -f FILE` refuses to overwrite a
    // newer version with it, as this save would have.
    let original = format!(
        "# Editing recipe {id}. Keep `version`: it is the version this edit is based on.\n\
         id: {id}\nversion: {}\n{}",
        recipe.version,
        serde_norway::to_string(&recipe.content.to_input())?
    );
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
        return report(
            ctx,
            "No changes.",
            &serde_json::json!({"id": id, "changed": false}),
        );
    }
    let keep_path = |temp: tempfile::TempPath| match temp.keep() {
        Ok(path) => path.display().to_string(),
        Err(e) => format!("(nowhere: {e})"),
    };
    let keep = |temp| format!("; your edit is kept in {}", keep_path(temp));
    let parsed = recipe_file::documents(&edited).and_then(|mut docs| {
        if docs.len() == 1 {
            recipe_file::recipe(docs.remove(0))
        } else {
            Err(format!("it holds {} recipes, not one", docs.len()))
        }
    });
    let input = match parsed {
        Ok(file) => file.input,
        Err(e) => {
            let hint = keep(temp);
            return Err(
                CliError::Usage(format!("the edited recipe is not valid: {e}{hint}")).into(),
            );
        }
    };
    match api.replace(id, &input, Some(&etag)).await {
        Ok(updated) => show_one(ctx, &updated),
        Err(e @ CliError::Api { status: 412, .. }) => {
            let path = keep_path(temp);
            let hint = format!(
                "; your edit is kept in {path} (based on version {}: see `gota recipes get \
                 {id}`, merge, set its `version` to the new one, then `gota recipes update {id} \
                 -f {path}`)",
                recipe.version
            );
            Err(changed(e, id, &hint).into())
        }
        Err(e) => {
            // The server's problem stays the error (and decides the exit code); where the
            // edit went goes on its own line so it is not lost in the message.
            eprintln!("gota: your edit is kept in {}", keep_path(temp));
            Err(e.into())
        }
    }
}
