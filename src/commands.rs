//! What each CLI command does; `main.rs` only parses arguments and calls these.

use std::io::{IsTerminal, Write};

use anyhow::Context;
use sea_orm::PaginatorTrait;
use uuid::Uuid;

use crate::{
    app::{AppState, Application},
    clock::Clock,
    config::Settings,
    domain::keys::{Role, Secret},
    services::Services,
    store::{
        self,
        api_keys::{CreateKey, RevokeKey},
        audit::Actor,
        entity::api_key,
        writer::Writer,
    },
    worker::outbox::Deliverer,
};

/// Runs the service until SIGTERM or Ctrl-C. On a database with no admin key,
/// creates one and prints it once.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let state = AppState::connect(settings).await?;
    let app = Application::build(state).await?;
    tracing::info!(address = %app.local_addr(), "serving");
    println!("listening on http://{}", app.local_addr());
    // Bound before the key is shown, so whoever reads it can connect at once;
    // the key stays the last line printed.
    ensure_admin_key(app.state()).await?;
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(())
}

async fn ensure_admin_key(state: &Services) -> anyhow::Result<()> {
    if store::api_keys::any_active_admin(&state.db).await? {
        return Ok(());
    }
    let (key, secret) = create_key(&state.writer, "first admin", Role::Admin, false).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "No admin key existed, so one was created (id {}).",
        key.id
    )?;
    writeln!(out, "It is shown only this once; keep it safe:")?;
    writeln!(out, "{}", secret.expose())?;
    out.flush()?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// What the CLI does, as the CLI: its audit events name it.
fn cli_actor() -> Actor {
    Actor {
        api_key_id: None,
        on_behalf_of: Some("cli".to_owned()),
    }
}

async fn create_key(
    writer: &Writer,
    name: &str,
    role: Role,
    publishable: bool,
) -> anyhow::Result<(api_key::Model, Secret)> {
    let secret = Secret::generate();
    let key = writer
        .run(CreateKey {
            name: name.to_owned(),
            role,
            publishable,
            secret_hash: secret.hash(),
            actor: cli_actor(),
        })
        .await?;
    Ok((key, secret))
}

pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    settings.database.connect_writer(Clock::system()).await?;
    println!("migrations applied");
    Ok(())
}

/// Delivers due mail once; with `ignore_backoff`, every queued mail.
pub async fn outbox_deliver(settings: Settings, ignore_backoff: bool) -> anyhow::Result<()> {
    let mut deliverer = Deliverer::new(&settings.mail)?;
    deliverer.ignore_backoff(ignore_backoff);
    let state = Services::connect(settings, Clock::system()).await?;
    let done = deliverer.deliver_due(&state, &|| false).await?;
    println!(
        "sent {}, to retry {}, failed {}",
        done.sent, done.retried, done.failed
    );
    Ok(())
}

/// Lists what a purge would take now: id, purge date, rule.
pub async fn purge_dry_run(settings: Settings) -> anyhow::Result<()> {
    let state = Services::connect(settings, Clock::system()).await?;
    let now = state.now();
    let mut count = 0;
    let mut after = None;
    loop {
        let page =
            crate::retention::deletion::preview(&state.db, &state.policy, now, now, after, 500)
                .await?;
        for (application, retention) in &page.items {
            if retention.is_due(now) {
                count += 1;
                println!(
                    "{}  purge_after {}  rule {}",
                    application.id,
                    retention
                        .purge_after
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    retention.rule
                );
            }
        }
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    println!("{count} applications would be purged");
    Ok(())
}

/// One retention run: finish earlier deletions, remind, purge what is due;
/// on a terminal, with a progress bar.
pub async fn purge(settings: Settings) -> anyhow::Result<()> {
    let state = Services::connect(settings, Clock::system()).await?;
    let now = state.now();
    let total = if std::io::stderr().is_terminal() {
        crate::retention::deletion::due(now, now)
            .count(&state.db)
            .await? as usize
    } else {
        0
    };
    let progress = move |done: usize| {
        const WIDTH: usize = 30;
        if let Some(filled) = (done.min(total) * WIDTH).checked_div(total) {
            eprint!(
                "\r[{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(WIDTH - filled)
            );
        }
    };
    let done = crate::retention::service::run(&state, &progress).await?;
    if total > 0 {
        eprintln!();
    }
    println!(
        "purged {} applications, deleted {} objects, queued {} reminders",
        done.applications, done.objects, done.reminded
    );
    // `serve` sweeps on its own schedule; a host that purges from cron gets
    // the sweep here.
    let grace = state.settings.storage.orphan_grace.to_std();
    let removed = crate::worker::sweep::sweep_orphans(&state.db, &state.blobs, grace).await?;
    println!("removed {removed} unreferenced objects");
    let mails =
        crate::worker::sweep::sweep_mail_files(&state.db, &state.settings.mail.dir, grace).await?;
    println!("removed {mails} mail files of purged messages");
    Ok(())
}

pub async fn keys_create(
    settings: &Settings,
    name: &str,
    role: Role,
    publishable: bool,
) -> anyhow::Result<()> {
    let name = crate::domain::fields::required_text("name", name, 100)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let writer = settings.database.connect_writer(Clock::system()).await?;
    let (key, secret) = create_key(&writer, &name, role, publishable).await?;
    println!("created key {} ({}, role {})", key.id, key.name, key.role);
    println!("the secret is shown only this once:");
    println!("{}", secret.expose());
    Ok(())
}

pub async fn keys_list(settings: &Settings) -> anyhow::Result<()> {
    // Migrates, so that a fresh data folder lists no keys rather than failing.
    settings.database.connect_writer(Clock::system()).await?;
    let db = settings.database.connect_reader().await?;
    println!(
        "{:<36}  {:<12}  {:<11}  {:<8}  name",
        "id", "role", "publishable", "state"
    );
    for key in store::api_keys::list(&db).await? {
        let state = if key.revoked_at.is_some() {
            "revoked"
        } else {
            "active"
        };
        println!(
            "{:<36}  {:<12}  {:<11}  {:<8}  {}",
            key.id, key.role, key.publishable, state, key.name
        );
    }
    Ok(())
}

pub async fn keys_revoke(settings: &Settings, id: Uuid) -> anyhow::Result<()> {
    let writer = settings.database.connect_writer(Clock::system()).await?;
    writer
        .run(RevokeKey {
            id,
            actor: cli_actor(),
        })
        .await?
        .with_context(|| format!("no key with id {id}"))?;
    println!("revoked key {id}");
    Ok(())
}

pub fn openapi() -> String {
    crate::app::spec_yaml()
}
