//! Process plumbing shared by the servers: finding binaries, free ports, privilege dropping,
//! spawning with a log file, stopping, and the orphan watchdog.

use std::ffi::CString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// A free TCP port on 127.0.0.1 (bound then released; callers retry on the rare clash).
pub(crate) fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("binding 127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

pub(crate) fn is_executable(path: &Path) -> bool {
    path.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// `name` in `PATH`, else in the first of `extra_dirs` that has it.
pub(crate) fn find_executable(name: &str, extra_dirs: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(extra_dirs.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

/// The user a server must run as: `None` to run as ourselves, or the `postgres` system user
/// when we are root (initdb and postgres refuse to run as root).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    pub(crate) fn postgres_if_root() -> anyhow::Result<Option<RunAs>> {
        // SAFETY: geteuid has no preconditions and cannot fail.
        if unsafe { libc::geteuid() } != 0 {
            return Ok(None);
        }
        match lookup_user("postgres")? {
            Some(user) => Ok(Some(user)),
            None => bail!(
                "running as root, and PostgreSQL refuses to run as root, but there is no `postgres` \
                 system user to run it as: run `make deps` or `apt-get install postgresql` (it creates one)"
            ),
        }
    }

    pub(crate) fn apply(&self, cmd: &mut Command) {
        // std drops the supplementary groups too when switching from root.
        cmd.uid(self.uid).gid(self.gid);
    }
}

fn lookup_user(name: &str) -> anyhow::Result<Option<RunAs>> {
    let cname = CString::new(name)?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    loop {
        // SAFETY: all pointers are valid for the call; `pwd`'s strings point into `buf`, which
        // outlives every use (we only read the numeric ids).
        let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = unsafe {
            libc::getpwnam_r(
                cname.as_ptr(),
                &mut pwd,
                buf.as_mut_ptr(),
                buf.len(),
                &mut result,
            )
        };
        if rc == libc::ERANGE && buf.len() < 1 << 20 {
            buf.resize(buf.len() * 4, 0);
            continue;
        }
        if rc != 0 {
            bail!(
                "looking up user {name}: {}",
                std::io::Error::from_raw_os_error(rc)
            );
        }
        if result.is_null() {
            return Ok(None);
        }
        return Ok(Some(RunAs {
            uid: pwd.pw_uid,
            gid: pwd.pw_gid,
        }));
    }
}

/// Where to put a temp dir. When the server runs as another user, every directory above the temp
/// dir must be searchable by that user: `$TMPDIR` may not be (e.g. under /root), `/tmp` is.
pub(crate) fn temp_base(for_other_user: bool) -> PathBuf {
    let base = std::env::temp_dir();
    let searchable = |dir: &Path| {
        dir.ancestors().all(|a| {
            a.metadata()
                .map(|m| m.permissions().mode() & 0o001 != 0)
                .unwrap_or(false)
        })
    };
    if !for_other_user || searchable(&base) {
        base
    } else {
        PathBuf::from("/tmp")
    }
}

/// The last `max` bytes written to `path` after byte `from` (lossy UTF-8), for error messages.
pub(crate) fn log_tail(path: &Path, from: u64, max: u64) -> String {
    let read = || -> std::io::Result<String> {
        let mut file = File::open(path)?;
        let len = file.metadata()?.len();
        let start = from.max(len.saturating_sub(max));
        file.seek(SeekFrom::Start(start))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    };
    match read() {
        Ok(text) if text.trim().is_empty() => format!("(log {} is empty)", path.display()),
        Ok(text) => format!("log {}:\n{}", path.display(), text.trim_end()),
        Err(e) => format!("(could not read log {}: {e})", path.display()),
    }
}

pub(crate) fn log_len(path: &Path) -> u64 {
    path.metadata().map(|m| m.len()).unwrap_or(0)
}

/// A running server process, with its watchdog. Dropping it stops the server.
pub(crate) struct ServerProcess {
    child: Child,
    watchdog: Option<Watchdog>,
    /// Signal sent on drop: the server's quickest clean-enough shutdown.
    stop_signal: libc::c_int,
}

impl ServerProcess {
    /// Spawns `cmd` with stdout and stderr appended to `log`, and a watchdog that sends
    /// `orphan_signal` and removes `cleanup_dir` should this process die without dropping us.
    pub(crate) fn spawn(
        mut cmd: Command,
        log: &Path,
        stop_signal: libc::c_int,
        orphan_signal: &str,
        cleanup_dir: &Path,
    ) -> anyhow::Result<ServerProcess> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        cmd.stdin(Stdio::null()).stdout(out).stderr(err);
        let program = cmd.get_program().to_string_lossy().into_owned();
        let child = cmd.spawn().with_context(|| format!("spawning {program}"))?;
        let mut process = ServerProcess {
            child,
            watchdog: None,
            stop_signal,
        };
        process.watchdog = Some(Watchdog::spawn(
            process.child.id(),
            orphan_signal,
            cleanup_dir,
        )?);
        Ok(process)
    }

    /// The exit status, if the server has exited.
    pub(crate) fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops the server: `signal`, then SIGKILL if it has not exited within `grace`.
    pub(crate) fn stop(&mut self, signal: libc::c_int, grace: Duration) {
        // Disarm the watchdog first, so it can never signal a pid that has been reused.
        drop(self.watchdog.take());
        if self.exited().is_some() {
            return;
        }
        // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
        unsafe { libc::kill(self.child.id() as libc::pid_t, signal) };
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Ok(Some(_)) | Err(_) => return,
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.stop(self.stop_signal, Duration::from_secs(10));
    }
}

/// `sh` blocked on a pipe whose write end only this process holds. When this process dies, for
/// whatever reason, the pipe closes, the read returns, and the script stops the server and
/// removes its temp dir. Dropping the watchdog SIGKILLs it first, so that it does nothing.
struct Watchdog(Child);

const WATCHDOG_SCRIPT: &str = r#"
read -r _ || :
kill -s "$1" "$2" 2>/dev/null
i=0
while kill -0 "$2" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -s KILL "$2" 2>/dev/null
rm -rf -- "$3"
"#;

impl Watchdog {
    fn spawn(pid: u32, signal: &str, cleanup_dir: &Path) -> anyhow::Result<Watchdog> {
        let child = Command::new("/bin/sh")
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("casewire-testkit-watchdog")
            .arg(signal)
            .arg(pid.to_string())
            .arg(cleanup_dir)
            .current_dir("/")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("spawning the watchdog (/bin/sh)")?;
        Ok(Watchdog(child))
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        // SIGKILL before the stdin pipe closes (wait() closes it), so the script never runs on.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
