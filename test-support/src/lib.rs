//! `hatang-test-support` holds what the integration tests of several crates share: the repository
//! root, copying an inventory with edits, the lab lock that makes lab tests of every crate take
//! turns, the root check, finding the workspace's binaries, and the loopback control plane of
//! `tests/cluster` ([`cluster`]).
//!
//! It is a dev-dependency only: nothing shipped may depend on it, and it must not hide a missing
//! component (a test that needs one fails or is `#[ignore]`d with its reason, never skipped).

pub mod cluster;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support sits in the repository root")
        .to_owned()
}

/// Exit status, stdout and stderr of a finished command, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Copies a directory of text files, passing each file's text through `edit`.
pub fn copy_dir(from: &Path, to: &Path, edit: &dyn Fn(String) -> String) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target, edit);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(target, edit(text)).unwrap();
        }
    }
}

/// Whether the effective user is root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Panics unless running as root: tests that need root are `#[ignore = "needs root"]` and run by
/// `.ci/run` (root) with `--include-ignored`; run by hand without root, they fail loudly.
pub fn require_root(what: &str) {
    assert!(
        is_root(),
        "{what} needs root (network namespaces, veth links, FRR and sshd): run it as root"
    );
}

/// Held while a test runs a lab of `inventories/lab`: such labs route the same management
/// addresses on the host (unless a test rewrites them) and their BGP timing suffers when several
/// share two cores, so they take turns, across test binaries too (an flock on a file in /run).
pub struct LabLock(#[allow(dead_code)] std::fs::File);

/// Waits for the lab lock.
pub fn lab_lock() -> LabLock {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/run/hatang-lab-tests.lock")
        .expect("open /run/hatang-lab-tests.lock");
    file.lock().expect("flock /run/hatang-lab-tests.lock");
    LabLock(file)
}

/// A binary of this workspace, from the target directory the running test was built into.
/// `cargo test --workspace` builds every binary before it runs any test; a test binary run on
/// its own needs `cargo build --bins` first, and says so.
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    // target/<profile>/deps/<test> → target/<profile>/<name>
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "`{}` is not built: run `cargo build --workspace --bins` (or the whole `cargo test --workspace`)",
        path.display()
    );
    path
}
