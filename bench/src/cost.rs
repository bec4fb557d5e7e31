//! What a server spends on a phase, beside the time it takes: its CPU time
//! (user + system, from `/proc/PID/stat`, every thread included) and its
//! calls to `fsync` and `fdatasync`. Those are counted by `perf stat` on the
//! syscall tracepoints, started with the server and enabled only while a
//! phase runs (`--control`), so the count is the phase's and costs the
//! server nothing outside the kernel. Without a working `perf` the CPU time
//! is still measured and the sync count says `n/a`.

use std::{
    fs::File,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context, Result, bail};
use tokio::process::Command;

/// The tracepoints counted, by the names `perf list` gives them.
const SYNC_EVENTS: &str = "syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync";
/// Clock ticks per second of `/proc/PID/stat` (`getconf CLK_TCK`; 100 on
/// every Linux this runs on).
const TICKS_PER_SECOND: f64 = 100.0;

/// A phase's cost, in all and per request.
#[derive(Clone, Copy, Debug)]
pub struct Cost {
    pub cpu_seconds: f64,
    /// `None` when `perf` could not count.
    pub syncs: Option<u64>,
    pub requests: usize,
}

impl Cost {
    /// CPU milliseconds per request.
    pub fn cpu_ms_per_request(&self) -> f64 {
        self.cpu_seconds * 1000.0 / self.requests.max(1) as f64
    }

    /// Sync calls per request.
    pub fn syncs_per_request(&self) -> Option<f64> {
        self.syncs
            .map(|syncs| syncs as f64 / self.requests.max(1) as f64)
    }

    /// `"1.23 ms CPU, 2.00 fsyncs"` per request.
    pub fn per_request(&self) -> String {
        let syncs = self
            .syncs_per_request()
            .map_or_else(|| "n/a".to_owned(), |s| format!("{s:.2}"));
        format!("{:.2} ms CPU, {syncs} fsyncs", self.cpu_ms_per_request())
    }
}

/// The CPU time of a process so far, in clock ticks.
pub fn cpu_ticks(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/stat");
    let stat = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // The command name, in parentheses, may hold spaces: fields start after it.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of stat(5); the state, field 3,
    // is the first after the name.
    let tick = |n: usize| -> Result<u64> {
        fields
            .get(n - 3)
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no field {n} in {path}"))
    };
    Ok(tick(14)? + tick(15)?)
}

/// The CPU time so far of every PostgreSQL process on this machine (the
/// server and its backends, by their command name), in clock ticks. A
/// process that ends between two readings takes its ticks with it: measure
/// over pooled connections.
pub fn postgres_cpu_ticks() -> Result<u64> {
    let mut ticks = 0;
    for entry in std::fs::read_dir("/proc").context("cannot list /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let is_postgres = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .is_ok_and(|comm| comm.trim_end() == "postgres");
        if is_postgres {
            // Gone since the listing: nothing to count.
            ticks += cpu_ticks(pid).unwrap_or(0);
        }
    }
    Ok(ticks)
}

/// CPU seconds between two readings of [`cpu_ticks`].
pub fn cpu_seconds(from: u64, to: u64) -> f64 {
    to.saturating_sub(from) as f64 / TICKS_PER_SECOND
}

/// `perf stat` wrapped around a server: counting syncs while enabled.
pub struct SyncCounter {
    control: File,
    ack: BufReader<File>,
    output: PathBuf,
}

/// Whether `perf` can count the sync tracepoints here (it needs tracefs
/// and the right to use it, as root has).
pub async fn perf_can_count() -> bool {
    Command::new("perf")
        .args(["stat", "-x,", "-e", SYNC_EVENTS, "--", "true"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .await
        .is_ok_and(|status| status.success())
}

impl SyncCounter {
    /// `cmd` run under `perf stat`, with its events off until [`enable`];
    /// the control pipes and the count go in `dir`.
    ///
    /// [`enable`]: SyncCounter::enable
    pub async fn wrap(cmd: &Command, dir: &Path) -> Result<Command> {
        let (control, ack) = (dir.join("perf-control"), dir.join("perf-ack"));
        for fifo in [&control, &ack] {
            let made = Command::new("mkfifo").arg(fifo).status().await?;
            if !made.success() {
                bail!("mkfifo {} failed", fifo.display());
            }
        }
        let inner = cmd.as_std();
        let mut perf = Command::new("perf");
        perf.args(["stat", "-x,", "-e", SYNC_EVENTS, "-D", "-1"])
            .arg("-o")
            .arg(dir.join("perf-syncs.csv"))
            .arg(format!(
                "--control=fifo:{},{}",
                control.display(),
                ack.display()
            ))
            .arg("--")
            .arg(inner.get_program())
            .args(inner.get_args());
        for (name, value) in inner.get_envs() {
            match value {
                Some(value) => perf.env(name, value),
                None => perf.env_remove(name),
            };
        }
        Ok(perf)
    }

    /// Opens the control pipes of a `perf` started by [`wrap`]'s command.
    ///
    /// [`wrap`]: SyncCounter::wrap
    pub async fn connect(dir: &Path) -> Result<Self> {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || {
            // Each open waits for perf to open the other end.
            let control = std::fs::OpenOptions::new()
                .write(true)
                .open(dir.join("perf-control"))?;
            let ack = BufReader::new(File::open(dir.join("perf-ack"))?);
            Ok(Self {
                control,
                ack,
                output: dir.join("perf-syncs.csv"),
            })
        })
        .await?
    }

    /// Sends `command` (`enable` or `disable`) and waits for perf's ack.
    async fn send(&mut self, command: &'static str) -> Result<()> {
        writeln!(self.control, "{command}")?;
        let mut line = String::new();
        tokio::task::block_in_place(|| self.ack.read_line(&mut line))?;
        // perf writes its C string's terminating NUL after each "ack\n".
        if line.trim_matches(|c: char| c == '\0' || c.is_whitespace()) != "ack" {
            bail!("perf answered {line:?} to {command}");
        }
        Ok(())
    }

    pub async fn enable(&mut self) -> Result<()> {
        self.send("enable").await
    }

    pub async fn disable(&mut self) -> Result<()> {
        self.send("disable").await
    }

    /// The syncs counted while enabled, once perf has exited and written
    /// its count.
    pub fn total(&self) -> Result<u64> {
        let csv = std::fs::read_to_string(&self.output)
            .with_context(|| format!("cannot read {}", self.output.display()))?;
        syncs_in(&csv)
    }
}

/// The sum of the counts in `perf stat -x,` output.
fn syncs_in(csv: &str) -> Result<u64> {
    let mut total = 0;
    for line in csv.lines().filter(|l| l.contains("syscalls:sys_enter_")) {
        let count = line.split(',').next().unwrap_or_default();
        // Never enabled: nothing counted.
        if count == "<not counted>" {
            continue;
        }
        total += count
            .parse::<u64>()
            .with_context(|| format!("perf counted {count:?}: {line}"))?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perf_output_is_summed_over_the_sync_calls() {
        let csv = "# started on Fri Dec  4 15:16:18 2026\n\n\
                   7,,syscalls:sys_enter_fsync,588504,100.00,,\n\
                   3,,syscalls:sys_enter_fdatasync,588504,100.00,,Events disabled\n\
                   Events enabled\n";
        assert_eq!(syncs_in(csv).unwrap(), 10);
        assert_eq!(
            syncs_in("<not counted>,,syscalls:sys_enter_fsync,0,,,").unwrap(),
            0
        );
        assert!(syncs_in("<not supported>,,syscalls:sys_enter_fsync,0,,,").is_err());
    }

    #[test]
    fn cpu_time_grows_with_work() {
        let pid = std::process::id();
        let before = cpu_ticks(pid).unwrap();
        let started = std::time::Instant::now();
        let mut x = 0u64;
        while started.elapsed() < std::time::Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = cpu_ticks(pid).unwrap();
        assert!(cpu_seconds(before, after) >= 0.05, "{before} -> {after}");
    }
}
