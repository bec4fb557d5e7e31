//! Starting, probing and stopping the servers under test (the service and the
//! baseline), each in a fresh temporary data folder on 127.0.0.1.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tempfile::TempDir;
use tokio::{
    process::{Child, Command},
    sync::OnceCell,
};

use crate::cost::{self, SyncCounter, perf_can_count};

/// Whether `perf` counts syncs on this machine, found out once.
static PERF: OnceCell<bool> = OnceCell::const_new();

/// The first argument that makes `intake-bench` run as the baseline server.
/// The bench starts the baseline this way rather than through the
/// `baseline-intake` binary: `cargo run --bin intake-bench` builds only
/// `intake-bench`, so a `baseline-intake` next to it may be missing or stale.
pub const SERVE_BASELINE: &str = "--serve-baseline";

/// How long a server may take to answer `/healthz` after it was spawned.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a service CLI command (`keys create`, `migrate`; both migrate)
/// may take.
const CLI_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a server may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server process with its own data folder.
pub struct Server {
    /// Short name for the report ("baseline" or "service").
    pub name: &'static str,
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The bearer secret to send (the baseline ignores it).
    pub api_key: String,
    /// The server, or the `perf stat` that runs it.
    child: Child,
    /// The server's own process.
    pid: u32,
    syncs: Option<SyncCounter>,
    dir: TempDir,
}

/// Where a phase's cost measurement started.
pub struct CostWindow {
    ticks: u64,
}

impl Server {
    /// Starts the baseline server on a free port with a fresh data folder, by
    /// running this executable with [`SERVE_BASELINE`].
    pub async fn start_baseline(work_dir: &Path, http: &reqwest::Client) -> Result<Self> {
        let dir = new_data_dir(work_dir, "baseline-")?;
        let listen = free_listen_addr()?;
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg(SERVE_BASELINE)
            .arg("--listen")
            .arg(&listen)
            .arg("--data-dir")
            .arg(dir.path());
        let server = Self::spawn("baseline", cmd, listen, String::new(), dir).await?;
        server.wait_healthy(http).await
    }

    /// Creates an admin key for a fresh service database (which migrates it),
    /// then starts `applicant-vault serve` on a free port. The database is a
    /// SQLite file in the data folder unless `database` names another, with
    /// the connection pool size to give the service.
    pub async fn start_service(
        bin: &Path,
        work_dir: &Path,
        http: &reqwest::Client,
        database: Option<(&str, u32)>,
    ) -> Result<Self> {
        let dir = new_data_dir(work_dir, "service-")?;
        let listen = free_listen_addr()?;
        let env = service_env(dir.path(), &listen, database);

        let out = run_cli(
            bin,
            &["keys", "create", "--name", "bench", "--role", "admin"],
            &env,
        )
        .await?;
        let api_key = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty())
            .with_context(|| {
                let stderr = String::from_utf8_lossy(&out.stderr);
                format!(
                    "`applicant-vault keys create` printed no key; stderr: {}",
                    stderr.trim()
                )
            })?
            .to_owned();

        let mut serve = Command::new(bin);
        serve
            .arg("serve")
            .env("APPLICANT_VAULT__SERVER__ADMIN_LISTEN", "");
        configure_env(&mut serve, &env);
        let server = Self::spawn("service", serve, listen, api_key, dir).await?;
        server.wait_healthy(http).await
    }

    /// Spawns `cmd` with its output going to `server.log` in the data
    /// folder, under `perf stat` when that can count its syncs.
    async fn spawn(
        name: &'static str,
        cmd: Command,
        listen: String,
        api_key: String,
        dir: TempDir,
    ) -> Result<Self> {
        let counting = *PERF.get_or_init(perf_can_count).await;
        let mut cmd = if counting {
            SyncCounter::wrap(&cmd, dir.path()).await?
        } else {
            cmd
        };
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start the {name} server"))?;
        let started = child.id().context("server exited at once")?;
        let (pid, syncs) = if counting {
            let syncs = SyncCounter::connect(dir.path()).await?;
            (child_of(started).await?, Some(syncs))
        } else {
            (started, None)
        };
        Ok(Self {
            name,
            base_url: format!("http://{listen}"),
            api_key,
            child,
            pid,
            syncs,
            dir,
        })
    }

    /// Starts measuring what the server spends: CPU time, and syncs when
    /// they are counted.
    pub async fn start_cost(&mut self) -> Result<CostWindow> {
        if let Some(syncs) = &mut self.syncs {
            syncs.enable().await?;
        }
        Ok(CostWindow {
            ticks: cost::cpu_ticks(self.pid)?,
        })
    }

    /// The CPU seconds spent since `window` started; stops counting syncs
    /// (their count comes with [`Server::stop`]).
    pub async fn end_cost(&mut self, window: CostWindow) -> Result<f64> {
        let ticks = cost::cpu_ticks(self.pid)?;
        if let Some(syncs) = &mut self.syncs {
            syncs.disable().await?;
        }
        Ok(cost::cpu_seconds(window.ticks, ticks))
    }

    /// Polls `GET /healthz` until it answers 200, the process dies, or the
    /// startup timeout passes.
    async fn wait_healthy(mut self, http: &reqwest::Client) -> Result<Self> {
        let url = format!("{}/healthz", self.base_url);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the {} server exited ({status}) during startup:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            let probe = http.get(&url).timeout(Duration::from_secs(1)).send().await;
            if probe.is_ok_and(|resp| resp.status() == reqwest::StatusCode::OK) {
                return Ok(self);
            }
            if Instant::now() > deadline {
                bail!(
                    "the {} server did not answer {url} within {STARTUP_TIMEOUT:?}:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The process's peak resident set size (`VmHWM`) in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64> {
        memory_kib(&self.pid.to_string(), "VmHWM")
    }

    /// The process's resident set size now (`VmRSS`) in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        memory_kib(&self.pid.to_string(), "VmRSS")
    }

    /// Makes the process's `VmHWM` start again from its current RSS
    /// (Linux 4.0 and later), so that a peak measures one phase.
    pub fn reset_peak_rss(&self) -> Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").context("resetting VmHWM")
    }

    /// The server's data folder (its database, objects and mail).
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sends SIGTERM, waits a little, then kills; removes the data folder.
    /// The syncs counted between [`Server::start_cost`] and
    /// [`Server::end_cost`], when they were counted.
    pub async fn stop(self) -> Result<Option<u64>> {
        let (syncs, dir) = self.stop_keeping_data().await?;
        dir.close()
            .context("cannot remove the server's data folder")?;
        Ok(syncs)
    }

    /// As [`Server::stop`], but hands the data folder over instead of
    /// removing it (see [`Retired`]).
    pub async fn stop_keeping_data(mut self) -> Result<(Option<u64>, TempDir)> {
        let term = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        let exited = match term {
            Ok(status) if status.success() => tokio::time::timeout(STOP_TIMEOUT, self.child.wait())
                .await
                .is_ok(),
            _ => false,
        };
        if !exited {
            self.child.kill().await.ok();
        }
        let syncs = match &self.syncs {
            Some(counter) if exited => Some(counter.total()?),
            _ => None,
        };
        Ok((syncs, self.dir))
    }

    /// The last lines the server wrote, for error messages.
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// The one child of process `parent` (the server `perf stat` started),
/// once it is there.
async fn child_of(parent: u32) -> Result<u32> {
    let path = format!("/proc/{parent}/task/{parent}/children");
    for _ in 0..100 {
        let children = std::fs::read_to_string(&path).unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().context("a pid");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("perf started no server ({path} stayed empty)")
}

/// Runs `applicant-vault migrate` on `database_url`: the service's own
/// schema, as a deployment gets it.
pub async fn migrate_service_database(bin: &Path, database_url: &str) -> Result<()> {
    let env = [
        ("APPLICANT_VAULT__DATABASE__URL", database_url.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ];
    run_cli(bin, &["migrate"], &env).await.map(|_| ())
}

/// Retention periods under which nothing in the read bench's data is due.
/// That data is two years old: under the default periods most of it would
/// be, and the service would spend the measured minutes purging it, as no
/// service that keeps up with its schedule does.
const NOTHING_DUE: [(&str, &str); 2] = [
    ("APPLICANT_VAULT__RETENTION__AFTER_DECISION", "3650d"),
    ("APPLICANT_VAULT__RETENTION__AFTER_INACTIVITY", "3650d"),
];

/// Runs `applicant-vault purge` on `database_url` under [`NOTHING_DUE`]: it
/// purges nothing, but brings every stored purge date up to date (a
/// database the service has not seen has none), which the service would
/// otherwise do in the background while it is measured. About two minutes
/// for a million applications, quick once their dates are current.
pub async fn settle_retention(
    bin: &Path,
    work_dir: &Path,
    database_url: &str,
    within: Duration,
) -> Result<()> {
    let dir = new_data_dir(work_dir, "settle-")?;
    let env = service_env(dir.path(), "127.0.0.1:0", Some((database_url, 4)));
    let out = run_cli_within(bin, &["purge"], &env, within).await?;
    let said = String::from_utf8_lossy(&out.stdout);
    if !said.contains("purged 0 applications") {
        bail!("settling the purge dates purged something: {}", said.trim());
    }
    Ok(())
}

/// Runs a service CLI command (which migrates first) with `env`; its output
/// if it succeeded.
async fn run_cli(
    bin: &Path,
    args: &[&str],
    env: &[(&'static str, String)],
) -> Result<std::process::Output> {
    run_cli_within(bin, args, env, CLI_TIMEOUT).await
}

async fn run_cli_within(
    bin: &Path,
    args: &[&str],
    env: &[(&'static str, String)],
    within: Duration,
) -> Result<std::process::Output> {
    let what = format!("`applicant-vault {}`", args.join(" "));
    let mut cmd = Command::new(bin);
    cmd.args(args);
    configure_env(&mut cmd, env);
    cmd.stdin(Stdio::null()).kill_on_drop(true);
    let out = tokio::time::timeout(within, cmd.output())
        .await
        .with_context(|| format!("{what} timed out"))?
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// The environment that points the service at `dir` and `listen`, and at
/// `database_url` or else a SQLite file in `dir`.
fn service_env(
    dir: &Path,
    listen: &str,
    database: Option<(&str, u32)>,
) -> Vec<(&'static str, String)> {
    let dir = dir.display();
    let database_url = database.map_or_else(
        || format!("sqlite://{dir}/vault.db?mode=rwc"),
        |(url, _)| url.to_owned(),
    );
    let mut env = vec![
        ("APPLICANT_VAULT__SERVER__LISTEN", listen.to_owned()),
        ("APPLICANT_VAULT__DATABASE__URL", database_url),
        (
            "APPLICANT_VAULT__STORAGE__URL",
            format!("file://{dir}/objects"),
        ),
        ("APPLICANT_VAULT__MAIL__DIR", format!("{dir}/mail")),
        ("RUST_LOG", "warn".to_owned()),
    ];
    if let Some((_, connections)) = database {
        env.push((
            "APPLICANT_VAULT__DATABASE__MAX_CONNECTIONS",
            connections.to_string(),
        ));
        env.extend(NOTHING_DUE.map(|(name, value)| (name, value.to_owned())));
    }
    env
}

/// Sets `env` on `cmd`, dropping any other inherited service settings so a
/// developer's shell cannot change what is measured.
pub fn configure_env(cmd: &mut Command, env: &[(&'static str, String)]) {
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("APPLICANT_VAULT__") {
            cmd.env_remove(name);
        }
    }
    cmd.envs(env.iter().map(|(k, v)| (*k, v)));
}

/// The data folders of the stopped servers of one bench, removed together
/// when it ends.
///
/// For about half a minute after files are removed, ext4 looks past their
/// inodes on every file it creates (`recently_deleted` in its inode
/// allocator), one buffer lookup each: after the thousands of files of one
/// server's run, that is a tenth of the next server's CPU. So no folder is
/// removed while a server runs; they go when the bench ends, which notes
/// the time in the work folder, and a bench started within that half
/// minute first waits out the rest of it.
pub struct Retired {
    work_dir: PathBuf,
    dirs: Vec<TempDir>,
}

/// How long ext4 counts a removed inode as recently deleted: its
/// `dirty_expire_centisecs` (30 s by default), and a little more.
const DELETIONS_FORGOTTEN: Duration = Duration::from_secs(32);

impl Retired {
    /// Waits until the files the last bench in `work_dir` removed are
    /// forgotten, after writing them out (`sync`).
    pub async fn after_last_run(work_dir: &Path) -> Result<Self> {
        let stamp = work_dir.join(REMOVED_AT);
        if let Ok(modified) = std::fs::metadata(&stamp).and_then(|meta| meta.modified()) {
            let age = modified.elapsed().unwrap_or(DELETIONS_FORGOTTEN);
            if let Some(left) = DELETIONS_FORGOTTEN.checked_sub(age) {
                eprintln!(
                    "waiting {}s for the file system to forget the last run's files",
                    left.as_secs() + 1
                );
                Command::new("sync")
                    .status()
                    .await
                    .context("running sync")?;
                tokio::time::sleep(left).await;
            }
        }
        Ok(Self {
            work_dir: work_dir.to_owned(),
            dirs: Vec::new(),
        })
    }

    /// Stops `server`, keeping its folder until the bench ends; its syncs as
    /// [`Server::stop`] returns them.
    pub async fn stop(&mut self, server: Server) -> Result<Option<u64>> {
        let (syncs, dir) = server.stop_keeping_data().await?;
        self.dirs.push(dir);
        Ok(syncs)
    }
}

/// The file whose modification time says when a bench last removed its folders.
const REMOVED_AT: &str = ".folders-removed";

impl Drop for Retired {
    fn drop(&mut self) {
        if self.dirs.is_empty() {
            return;
        }
        for dir in self.dirs.drain(..) {
            if let Err(err) = dir.close() {
                eprintln!("cannot remove a server's data folder: {err}");
            }
        }
        std::fs::write(self.work_dir.join(REMOVED_AT), b"").ok();
    }
}

/// A fresh data folder under `work_dir`, removed when dropped.
fn new_data_dir(work_dir: &Path, prefix: &str) -> Result<TempDir> {
    std::fs::create_dir_all(work_dir)
        .with_context(|| format!("cannot create {}", work_dir.display()))?;
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir_in(work_dir)
        .context("cannot create a temporary data folder")
}

/// A memory figure of `/proc/<process>/status` (`VmHWM`, `VmRSS`) in KiB;
/// `process` is a pid or `self`.
pub fn memory_kib(process: &str, field: &str) -> Result<u64> {
    let path = format!("/proc/{process}/status");
    let status = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .with_context(|| format!("no {field} in {path}"))
}

/// A loopback address with a port that was free a moment ago.
fn free_listen_addr() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.to_string())
}

/// Cargo's target folder: `CARGO_TARGET_DIR`, else `<workspace>/target`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
            bench.parent().unwrap_or(bench).join("target")
        }
    }
}

/// The service binary: `APPLICANT_VAULT_BIN`, else the release build in the
/// target folder, else the one next to this executable.
pub fn service_binary() -> Result<PathBuf> {
    if let Some(bin) = std::env::var_os("APPLICANT_VAULT_BIN") {
        return Ok(PathBuf::from(bin));
    }
    let candidates = [
        target_dir().join("release/applicant-vault"),
        std::env::current_exe()?.with_file_name("applicant-vault"),
    ];
    candidates.iter().find(|path| path.is_file()).cloned().with_context(|| {
        format!(
            "no service binary at {} (run `cargo build --release` first, or set APPLICANT_VAULT_BIN)",
            candidates[0].display()
        )
    })
}
