//! System helpers for the lab: running programs (never through a shell), entering namespaces,
//! processes by pid, mounts.

use std::ffi::{CString, OsStr};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::LabError;

/// The command line of `program args…`, for messages.
fn display<S: AsRef<OsStr>>(program: &str, args: &[S]) -> String {
    let mut s = program.to_owned();
    for a in args {
        s.push(' ');
        s.push_str(&a.as_ref().to_string_lossy());
    }
    s
}

/// Runs `program args…` to completion; its standard output on success, an error with the
/// command line and standard error otherwise.
pub fn run<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Result<String, LabError> {
    let out = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::io(format!("cannot run `{program}`"), e))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::Command {
            command: display(program, args),
            status: out.status.to_string(),
            output: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// `ip args…`.
pub fn ip<S: AsRef<OsStr>>(args: &[S]) -> Result<String, LabError> {
    run("ip", args)
}

/// Names of the links in `namespace` (the host's when `None`).
pub fn link_names(namespace: Option<&str>) -> Result<Vec<String>, LabError> {
    let mut args = vec![];
    if let Some(ns) = namespace {
        args.extend(["-n", ns]);
    }
    args.extend(["-j", "link", "show"]);
    let text = ip(&args)?;
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
    Ok(v.as_array()
        .map(|links| {
            links
                .iter()
                .filter_map(|l| l["ifname"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// The kind (`bridge`, `veth`, `dummy`, …) of host link `name`, `None` when it does not exist
/// (or has no kind, like a physical NIC: then `Some("")`).
pub fn host_link_kind(name: &str) -> Result<Option<String>, LabError> {
    if !link_names(None)?.iter().any(|n| n == name) {
        return Ok(None);
    }
    let text = ip(&["-j", "-d", "link", "show", "dev", name])?;
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
    Ok(Some(
        v[0]["linkinfo"]["info_kind"]
            .as_str()
            .unwrap_or("")
            .to_owned(),
    ))
}

/// The devices of the main-table routes for exactly `prefix` on the host.
pub fn host_route_devices(prefix: &str, v6: bool) -> Result<Vec<String>, LabError> {
    let family = if v6 { "-6" } else { "-4" };
    let text = ip(&[family, "-j", "route", "show", "exact", prefix])?;
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap_or_default();
    Ok(v.as_array()
        .map(|routes| {
            routes
                .iter()
                .filter_map(|r| r["dev"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Namespaces a child enters before it runs a program.
pub struct Enter<'a> {
    /// Network namespace file (`/run/netns/<name>`).
    pub netns: &'a Path,
    /// UTS namespace file (a bind mount).
    pub uts: &'a Path,
    /// Bind mounts made in a new private mount namespace (source, target); when not empty,
    /// `/sys` is also remounted so it shows the network namespace's interfaces.
    pub binds: Vec<(PathBuf, PathBuf)>,
}

fn cstring(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in path"))
}

/// Runs `program args…` inside the namespaces of `enter`, its output going to `log`; waits for
/// it (daemons fork and return). Entering is done with setns(2)/unshare(2)/mount(2) between
/// fork and exec: no shell and no helper program.
pub fn run_in<S: AsRef<OsStr>>(
    enter: &Enter<'_>,
    program: &str,
    args: &[S],
    log: &Path,
) -> Result<(), LabError> {
    let net = File::open(enter.netns)
        .map_err(|e| LabError::io(format!("open {}", enter.netns.display()), e))?;
    let uts = File::open(enter.uts)
        .map_err(|e| LabError::io(format!("open {}", enter.uts.display()), e))?;
    let mut binds = Vec::new();
    for (s, t) in &enter.binds {
        binds.push((
            cstring(s).map_err(|e| LabError::io(s.display().to_string(), e))?,
            cstring(t).map_err(|e| LabError::io(t.display().to_string(), e))?,
        ));
    }
    let out =
        File::create(log).map_err(|e| LabError::io(format!("create {}", log.display()), e))?;
    let err = out
        .try_clone()
        .map_err(|e| LabError::io(format!("dup {}", log.display()), e))?;
    let (net_fd, uts_fd) = (net.as_raw_fd(), uts.as_raw_fd());
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err));
    // SAFETY: the closure runs in the forked child before exec and only makes raw system calls
    // (setns, unshare, mount, umount2) on file descriptors and C strings prepared before the
    // fork; it allocates nothing and takes no locks.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setns(net_fd, libc::CLONE_NEWNET) != 0
                || libc::setns(uts_fd, libc::CLONE_NEWUTS) != 0
            {
                return Err(io::Error::last_os_error());
            }
            if binds.is_empty() {
                return Ok(());
            }
            if libc::unshare(libc::CLONE_NEWNS) != 0
                || libc::mount(
                    std::ptr::null(),
                    c"/".as_ptr(),
                    std::ptr::null(),
                    libc::MS_REC | libc::MS_SLAVE,
                    std::ptr::null(),
                ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            for (source, target) in &binds {
                if libc::mount(
                    source.as_ptr(),
                    target.as_ptr(),
                    std::ptr::null(),
                    libc::MS_BIND,
                    std::ptr::null(),
                ) != 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            // Like `ip netns exec`: /sys of this network namespace (best effort).
            if libc::umount2(c"/sys".as_ptr(), libc::MNT_DETACH) == 0 {
                libc::mount(
                    c"sysfs".as_ptr(),
                    c"/sys".as_ptr(),
                    c"sysfs".as_ptr(),
                    0,
                    std::ptr::null(),
                );
            }
            Ok(())
        });
    }
    let status = cmd
        .status()
        .map_err(|e| LabError::io(format!("cannot run `{program}` in its namespaces"), e))?;
    drop((net, uts));
    if status.success() {
        Ok(())
    } else {
        Err(LabError::Command {
            command: display(program, args),
            status: status.to_string(),
            output: std::fs::read_to_string(log)
                .unwrap_or_default()
                .trim()
                .to_owned(),
        })
    }
}

/// Runs `f` on a thread that has entered the network namespace `netns` (for /proc/sys/net).
pub fn in_netns<R: Send>(
    netns: &Path,
    f: impl FnOnce() -> io::Result<R> + Send,
) -> Result<R, LabError> {
    let file =
        File::open(netns).map_err(|e| LabError::io(format!("open {}", netns.display()), e))?;
    let result = std::thread::scope(|s| {
        s.spawn(move || {
            // SAFETY: setns on this thread only, with a valid namespace file descriptor; the
            // thread ends with the scope, so the namespace change never leaks to other work.
            if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error());
            }
            f()
        })
        .join()
        .unwrap_or_else(|_| Err(io::Error::other("thread panicked")))
    });
    result.map_err(|e| LabError::io(format!("inside {}", netns.display()), e))
}

/// The pid in a pid file, if it holds one.
pub fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Whether `pid` is a running process (zombies count as gone).
pub fn alive(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // pid (comm) STATE …; comm may contain spaces and parentheses: take the last `)`.
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X" | "x") | None)
}

/// The short command name of `pid`.
pub fn comm(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_owned())
}

fn ns_id(path: &Path) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Whether `pid` lives in the network namespace `netns`.
pub fn pid_in_netns(pid: i32, netns: &Path) -> bool {
    match (
        ns_id(netns),
        ns_id(&Path::new("/proc").join(pid.to_string()).join("ns/net")),
    ) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

/// Every running process in the network namespace `netns` (as `ip netns pids` finds them).
pub fn pids_in_netns(netns: &Path) -> Vec<i32> {
    let Some(id) = ns_id(netns) else {
        return vec![];
    };
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return vec![];
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| ns_id(&Path::new("/proc").join(pid.to_string()).join("ns/net")) == Some(id))
        .filter(|pid| alive(*pid))
        .collect()
}

/// Sends `signal` to `pid` (errors ignored: it may be gone).
pub fn kill(pid: i32, signal: i32) {
    if pid > 1 {
        // SAFETY: kill(2) on a positive pid that is not init; no memory is involved.
        unsafe {
            libc::kill(pid, signal);
        }
    }
}

/// Waits until none of `pids` runs or `timeout` passes; the ones still running.
pub fn wait_gone(pids: &[i32], timeout: Duration) -> Vec<i32> {
    let deadline = Instant::now() + timeout;
    loop {
        let left: Vec<i32> = pids.iter().copied().filter(|p| alive(*p)).collect();
        if left.is_empty() || Instant::now() >= deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Terminates `pids` (SIGTERM, then SIGKILL after `grace`); those still running after that.
pub fn terminate(pids: &[i32], grace: Duration) -> Vec<i32> {
    for p in pids {
        kill(*p, libc::SIGTERM);
    }
    let left = wait_gone(pids, grace);
    for p in &left {
        kill(*p, libc::SIGKILL);
    }
    wait_gone(&left, Duration::from_secs(2))
}

/// Mount points at or under `dir` (from /proc/self/mountinfo), deepest first.
pub fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return vec![];
    };
    let mut out: Vec<PathBuf> = info
        .lines()
        .filter_map(|l| l.split(' ').nth(4))
        .map(|m| PathBuf::from(m.replace("\\040", " ")))
        .filter(|m| m.starts_with(dir))
        .collect();
    out.sort();
    out.dedup();
    out.reverse();
    out
}

/// Whether `path` is a mount point.
pub fn is_mount(path: &Path) -> bool {
    mounts_under(path).iter().any(|m| m == path)
}

/// Unmounts `path` (lazily, so a busy namespace file still goes).
pub fn unmount(path: &Path) -> Result<(), LabError> {
    let c = cstring(path).map_err(|e| LabError::io(path.display().to_string(), e))?;
    // SAFETY: umount2 with a valid C string.
    if unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) } != 0 {
        return Err(LabError::io(
            format!("umount {}", path.display()),
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Whether the effective user is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Calls `f` on every item with at most `workers` threads; results in item order.
pub fn parallel<T: Sync, R: Send>(
    items: &[T],
    workers: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..workers.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    results.lock().expect("results")[i] = Some(r);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results")
        .into_iter()
        .map(|r| r.expect("every item ran"))
        .collect()
}

/// Finds `program` on PATH (or checks an absolute path).
pub fn find_program(program: &str) -> Option<PathBuf> {
    let p = Path::new(program);
    if p.is_absolute() {
        return p.is_file().then(|| p.to_owned());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|d| d.join(program))
        .find(|c| c.is_file())
}

/// Polls `check` every 50 ms until it returns true or `timeout` passes.
pub fn wait_for(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An exclusive advisory lock (flock) on a file, held until dropped.
pub struct Lock {
    _file: File,
    path: PathBuf,
}

impl Lock {
    /// Waits for the lock on `path` (created if missing).
    pub fn acquire(path: &Path) -> Result<Lock, LabError> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| LabError::io(format!("create {}", parent.display()), e))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| LabError::io(format!("open {}", path.display()), e))?;
        // SAFETY: flock on a file descriptor this function owns.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(LabError::io(
                format!("lock {}", path.display()),
                io::Error::last_os_error(),
            ));
        }
        Ok(Lock {
            _file: file,
            path: path.to_owned(),
        })
    }

    /// Removes the lock file, then releases the lock.
    pub fn remove(self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Writes `text` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), LabError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| LabError::io(format!("write {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_in_its_own_namespace() {
        let me = std::process::id() as i32;
        assert!(alive(me));
        assert!(pid_in_netns(me, Path::new("/proc/self/ns/net")));
        assert!(!alive(i32::MAX));
        assert!(pids_in_netns(Path::new("/proc/self/ns/net")).contains(&me));
    }

    #[test]
    fn failing_commands_say_what_ran() {
        let e = run("ls", &["/nonexistent-hatang"]).unwrap_err().to_string();
        assert!(e.contains("ls /nonexistent-hatang"), "{e}");
    }

    #[test]
    fn parallel_keeps_order() {
        let v: Vec<u32> = (0..50).collect();
        assert_eq!(
            parallel(&v, 4, |x| x * 2),
            (0..50).map(|x| x * 2).collect::<Vec<_>>()
        );
        assert!(parallel(&Vec::<u32>::new(), 4, |x| *x).is_empty());
    }
}
