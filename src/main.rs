//! The `applicant-vault` command line: parses arguments and calls the library.

use std::path::PathBuf;

use applicant_vault::{commands, config::Settings, domain::keys::Role, telemetry};
use clap::{Parser, Subcommand};
use uuid::Uuid;

#[derive(Parser)]
#[command(version, about = "Holds job-applicant data and forgets it on schedule")]
struct Cli {
    /// A TOML file layered over the embedded defaults.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (migrates first).
    Serve,
    /// Apply database migrations.
    Migrate,
    /// Print the OpenAPI document as YAML.
    Openapi,
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Remind and purge once, as `serve` does every `retention.purge_interval`.
    Purge {
        /// Only list what would be purged now, with dates and rules.
        #[arg(long)]
        dry_run: bool,
    },
    /// Work the mail outbox.
    Outbox {
        #[command(subcommand)]
        command: OutboxCommand,
    },
}

#[derive(Subcommand)]
enum OutboxCommand {
    /// Deliver the mail that is due, once, and print what happened.
    Deliver {
        /// Also retry mail waiting out its backoff (after fixing the relay, say).
        #[arg(long)]
        now: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key; its secret is printed alone on the last line.
    Create {
        #[arg(long)]
        name: String,
        /// admin, recruiter, careers-site or partner.
        #[arg(long)]
        role: Role,
        /// A careers-site key that may sit in page code: it may only list jobs
        /// and submit applications, rate limited per client address.
        #[arg(long)]
        publishable: bool,
    },
    /// List keys (never their secrets).
    List,
    /// Revoke a key by id.
    Revoke { id: Uuid },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init();
    applicant_vault::runtime::limit_allocator_arenas();
    applicant_vault::runtime::build()?.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Openapi = cli.command {
        print!("{}", commands::openapi());
        return Ok(());
    }
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => commands::serve(settings).await,
        Command::Migrate => commands::migrate(&settings).await,
        Command::Openapi => unreachable!("handled above"),
        Command::Keys { command } => match command {
            KeysCommand::Create {
                name,
                role,
                publishable,
            } => commands::keys_create(&settings, &name, role, publishable).await,
            KeysCommand::List => commands::keys_list(&settings).await,
            KeysCommand::Revoke { id } => commands::keys_revoke(&settings, id).await,
        },
        Command::Outbox {
            command: OutboxCommand::Deliver { now },
        } => commands::outbox_deliver(settings, now).await,
        Command::Purge { dry_run: true } => commands::purge_dry_run(settings).await,
        Command::Purge { dry_run: false } => commands::purge(settings).await,
    }
}
