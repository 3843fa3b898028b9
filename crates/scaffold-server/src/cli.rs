//! The command line: `scaffold serve | migrate | openapi | graphql-schema | token create | keys rotate |
//! verify`.

use crate::config::{self, LogFormat, Overrides};
use clap::{Args, Parser, Subcommand, ValueEnum};
use scaffold_domain::codes;
use scaffold_domain::{PersonId, Scope, Scopes, SystemClock};
use scaffold_service::Service;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Community Scaffold: digital building blocks for community groups.
#[derive(Debug, Parser)]
#[command(name = "scaffold", version, about, long_about = None)]
pub struct Cli {
    /// A TOML configuration file (default: ./scaffold.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server (REST, GraphQL, health, metrics).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate(DbArgs),
    /// Print the OpenAPI document (JSON).
    Openapi,
    /// Print the GraphQL schema (federation subgraph SDL).
    GraphqlSchema,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Verify an SD-JWT VC presentation offline (exit status 0 only when it is valid).
    Verify(VerifyArgs),
    /// Print a one-time sign-in link for a person (new, by name, or existing, by id): opened in
    /// a browser, it signs them in once, before it expires.
    Invite(InviteArgs),
}

#[derive(Debug, Args)]
pub struct InviteArgs {
    /// A new person's display name.
    #[arg(long, conflicts_with = "person", required_unless_present = "person")]
    pub name: Option<String>,
    /// An existing person's id.
    #[arg(long)]
    pub person: Option<String>,
    /// How long the link works, in minutes (at most a week).
    #[arg(long, default_value_t = scaffold_service::identity::links::DEFAULT_MINUTES)]
    pub minutes: i64,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print this instance's trust list (its keys and types, and the peers it trusts, with theirs)
    /// for offline verifiers, instead of verifying; reads the database.
    #[arg(long, conflicts_with_all = ["presentation", "trust", "status_dir", "aud", "nonce", "at", "seen_nonces", "skip_holder_check"])]
    pub export_trust_list: bool,
    #[command(flatten)]
    pub db: DbArgs,
    /// The presentation: `<jwt>~<disclosures>~[<key-binding JWT>]` (`-` reads standard input).
    #[arg(long, value_name = "FILE", required_unless_present = "export_trust_list")]
    pub presentation: Option<PathBuf>,
    /// The trust list: `{"issuers": [{"iss", "jwks": {"keys": [...]}}], "types": [{"vct", "max_age_days"}]}`.
    #[arg(long, value_name = "FILE", required_unless_present = "export_trust_list")]
    pub trust: Option<PathBuf>,
    /// A directory of cached status list tokens (any file names; each is found by its `sub`).
    #[arg(long, value_name = "DIR")]
    pub status_dir: Option<PathBuf>,
    /// The audience the key-binding JWT must name (with --nonce: key binding is then required).
    /// A credential bound to a holder key is refused without them, unless --skip-holder-check.
    #[arg(long, requires = "nonce")]
    pub aud: Option<String>,
    /// The nonce this verifier gave the holder.
    #[arg(long, requires = "aud")]
    pub nonce: Option<String>,
    /// Verify as at this Unix time (default: now).
    #[arg(long, value_name = "SECONDS")]
    pub at: Option<i64>,
    /// A file of nonces already accepted (one per line): a presentation reusing one is refused
    /// (`KB_NONCE_REUSED`), and the nonce of a valid one is added.
    #[arg(long, value_name = "FILE", requires = "nonce")]
    pub seen_nonces: Option<PathBuf>,
    /// Accept a holder-bound credential without checking that its holder presented it (anyone
    /// who has a copy could show it). Say so only when you check the holder another way.
    #[arg(long, conflicts_with_all = ["aud", "nonce"])]
    pub skip_holder_check: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key active. Access tokens (default): the old public key stays published
    /// at /.well-known/jwks.json until every token it signed has expired, and running servers
    /// switch within a minute. Attestations: the old key stays published at
    /// /.well-known/jwt-vc-issuer until every credential it could have signed has expired.
    Rotate(RotateArgs),
}

#[derive(Debug, Args)]
pub struct RotateArgs {
    /// Which key.
    #[arg(long, value_enum, default_value = "access-token")]
    pub purpose: KeyPurpose,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyPurpose {
    /// Signs the service's access tokens.
    AccessToken,
    /// Signs attestations (credentials) and their status lists.
    Attestation,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    /// Database URL (`sqlite://PATH` or `postgres://…`); overrides config and DATABASE_URL.
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    #[command(flatten)]
    pub db: DbArgs,
    /// Apply PostgreSQL migrations before serving (SQLite is always migrated).
    #[arg(long)]
    pub migrate: bool,
    /// Log format.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a person with an API key and print the token (shown once).
    Create(TokenCreateArgs),
}

#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// The person's display name.
    #[arg(long, default_value = "Operator")]
    pub name: String,
    /// A label for the key.
    #[arg(long, default_value = "command line")]
    pub key_name: String,
    /// Scopes, comma-separated. Default: every scope (an operator key).
    #[arg(long, value_delimiter = ',', value_name = "SCOPE")]
    pub scope: Vec<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

fn environment() -> Vec<(String, String)> {
    std::env::vars().collect()
}

fn load(cli_config: Option<&PathBuf>, overrides: &Overrides) -> Result<config::Config, String> {
    config::load(cli_config.map(PathBuf::as_path), &environment(), overrides)
}

/// Runs the command; errors are printed by `main` and exit non-zero.
pub async fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Openapi => {
            print!("{}", scaffold_rest::openapi_pretty());
            Ok(())
        }
        Command::GraphqlSchema => {
            print!("{}", scaffold_graphql::sdl());
            Ok(())
        }
        Command::Migrate(db) => {
            let cfg = load(cli.config.as_ref(), &Overrides { database_url: db.database_url, ..Overrides::default() })?;
            crate::telemetry::init(&cfg.log);
            crate::app::open_store(cfg.database.url.expose(), 2, true).await?;
            println!("migrations applied to {}", config::redacted_url(cfg.database.url.expose()));
            Ok(())
        }
        Command::Token(TokenCommand::Create(args)) => {
            let cfg =
                load(cli.config.as_ref(), &Overrides { database_url: args.db.database_url, ..Overrides::default() })?;
            let scopes = if args.scope.is_empty() {
                Scopes::all()
            } else {
                Scopes::parse(&args.scope.join(" ")).map_err(|w| {
                    let known: Vec<_> = Scope::ALL.iter().map(|s| s.as_str()).collect();
                    format!("unknown scope `{w}`; known scopes: {}", known.join(", "))
                })?
            };
            let store = crate::app::open_store(cfg.database.url.expose(), 2, false).await?;
            let service = Service::new(store, Arc::new(SystemClock));
            let created =
                service.create_person_from_cli(&args.name, &args.key_name, scopes).await.map_err(|e| e.to_string())?;
            println!("person:  {}", created.person.id);
            println!("key:     {}", created.issued.key.id);
            println!("scopes:  {}", created.issued.key.scopes);
            println!("token:   {}", created.issued.token.expose());
            println!("Store the token now: it is not shown again.");
            Ok(())
        }
        Command::Verify(args) if args.export_trust_list => {
            let overrides = Overrides { database_url: args.db.database_url, ..Overrides::default() };
            let cfg = load(cli.config.as_ref(), &overrides)?;
            let store = crate::app::open_store(cfg.database.url.expose(), 2, false).await?;
            let service = Service::with_identity(store, Arc::new(SystemClock), cfg.identity()?)?;
            let list = service.trust_list().await.map_err(|e| e.to_string())?;
            println!("{}", serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Verify(args) => verify(&args),
        Command::Invite(args) => {
            use scaffold_service::identity::links::Invitee;
            let overrides = Overrides { database_url: args.db.database_url, ..Overrides::default() };
            let cfg = load(cli.config.as_ref(), &overrides)?;
            let who = match (args.name, args.person) {
                (Some(name), _) => Invitee::New(name),
                (None, Some(id)) => {
                    Invitee::Person(PersonId::parse(&id).ok_or_else(|| format!("`{id}` is not a person id"))?)
                }
                (None, None) => return Err("give --name or --person".to_owned()),
            };
            let store = crate::app::open_store(cfg.database.url.expose(), 2, false).await?;
            let service = Service::with_identity(store, Arc::new(SystemClock), cfg.identity()?)?;
            let link = service.invite_sign_in(None, &who, Some(args.minutes)).await.map_err(|e| e.to_string())?;
            println!("person:   {}", link.person_id);
            println!("expires:  {}", link.expires_at.to_rfc3339());
            println!("link:     {}", link.url);
            println!("Send the link to the person: it works once, and it is not shown again.");
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate(args)) => {
            let overrides = Overrides { database_url: args.db.database_url, ..Overrides::default() };
            let cfg = load(cli.config.as_ref(), &overrides)?;
            let store = crate::app::open_store(cfg.database.url.expose(), 2, false).await?;
            let service = Service::with_identity(store, Arc::new(SystemClock), cfg.identity()?)?;
            match args.purpose {
                KeyPurpose::AccessToken => {
                    let kid = service.rotate_access_token_key().await.map_err(|e| e.to_string())?;
                    println!("new access-token key: {kid}");
                    println!("the previous key stays published until its tokens have expired");
                }
                KeyPurpose::Attestation => {
                    let kid = service.rotate_attestation_key().await.map_err(|e| e.to_string())?;
                    println!("new attestation key: {kid}");
                    println!("the previous key stays published until every credential it signed has expired");
                }
            }
            Ok(())
        }
        Command::Serve(args) => {
            let overrides = Overrides {
                listen: args.listen,
                database_url: args.db.database_url,
                log_format: args.log_format.map(|f| match f {
                    LogFormatArg::Text => LogFormat::Text,
                    LogFormatArg::Json => LogFormat::Json,
                }),
            };
            let cfg = load(cli.config.as_ref(), &overrides)?;
            crate::serve::serve(cfg, args.migrate).await
        }
    }
}

fn verify(args: &VerifyArgs) -> Result<(), String> {
    let read = |p: &PathBuf| -> Result<String, String> {
        if p.as_os_str() == "-" {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut s).map_err(|e| e.to_string())?;
            Ok(s)
        } else {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        }
    };
    let (Some(presentation_file), Some(trust_file)) = (&args.presentation, &args.trust) else {
        return Err("give --presentation and --trust (or --export-trust-list)".to_owned());
    };
    let presentation = read(presentation_file)?;
    let trust: crate::verify::TrustFile = serde_json::from_str(&read(trust_file)?)
        .map_err(|e| format!("{} is not a trust list: {e}", trust_file.display()))?;
    let status = match &args.status_dir {
        Some(dir) => crate::verify::StatusDir::load(dir)?,
        None => crate::verify::StatusDir::default(),
    };
    let now = args.at.unwrap_or_else(|| scaffold_domain::Clock::now(&SystemClock).timestamp());
    if let (Some(file), Some(nonce)) = (&args.seen_nonces, &args.nonce) {
        let seen = match std::fs::read_to_string(file) {
            Ok(s) => s,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(format!("cannot read the seen nonces in {}: {e}", file.display())),
        };
        if seen.lines().any(|l| l == nonce) {
            let result =
                Err((codes::KB_NONCE_REUSED.to_owned(), "this nonce was used by an earlier presentation".to_owned()));
            print!("{}", crate::verify::report(&result));
            return Err("the presentation is not valid (KB_NONCE_REUSED)".to_owned());
        }
    }
    let result = crate::verify::check(&crate::verify::Request {
        presentation: presentation.trim(),
        trust: &trust,
        status: &status,
        aud: args.aud.as_deref(),
        nonce: args.nonce.as_deref(),
        skip_holder_check: args.skip_holder_check,
        now,
    });
    print!("{}", crate::verify::report(&result));
    match result {
        Ok(_) => {
            if let (Some(file), Some(nonce)) = (&args.seen_nonces, &args.nonce) {
                use std::io::Write;
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(file)
                    .map_err(|e| format!("cannot record the nonce in {}: {e}", file.display()))?;
                writeln!(f, "{nonce}").map_err(|e| format!("cannot record the nonce in {}: {e}", file.display()))?;
            }
            Ok(())
        }
        Err((code, _)) => Err(format!("the presentation is not valid ({code})")),
    }
}
