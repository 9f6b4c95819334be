//! Helpers shared by the CLI's integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Output;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
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

/// Held while a test runs a lab of `inventories/lab`: such labs route the same management
/// addresses on the host (unless a test rewrites them) and their BGP timing suffers when several
/// share two cores, so they take turns, across test binaries too (an flock on a file in /run).
pub struct LabLock(#[allow(dead_code)] std::fs::File);

/// Waits for the lab lock.
pub fn lab_lock() -> LabLock {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open("/run/hatang-lab-tests.lock")
        .expect("open /run/hatang-lab-tests.lock");
    // SAFETY: flock on a descriptor we own; released when the file is closed.
    let r = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(r, 0, "flock: {}", std::io::Error::last_os_error());
    LabLock(file)
}
