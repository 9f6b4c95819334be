//! The ledger on disk: found beside the inventory, read and written under an exclusive lock,
//! replaced atomically (temporary file, fsync, rename), so a crash or a second `hatang` never
//! leaves it torn.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use hatang_core::ipam::{LEDGER_FILE, Ledger};

/// Where the ledger of an inventory lives: inside a directory, or beside a single file.
pub(crate) fn ledger_path(inventory: &Path) -> PathBuf {
    if inventory.is_dir() {
        inventory.join(LEDGER_FILE)
    } else {
        inventory
            .parent()
            .unwrap_or(Path::new("."))
            .join(LEDGER_FILE)
    }
}

/// An exclusive lock on a ledger, held until dropped.
pub(crate) struct LedgerLock {
    _file: File,
    path: PathBuf,
}

impl LedgerLock {
    /// Takes the lock (waiting for another `hatang` to finish).
    pub(crate) fn acquire(ledger: &Path) -> Result<LedgerLock> {
        let lock_path = ledger.with_file_name(format!(".{LEDGER_FILE}.lock"));
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open lock file `{}`", lock_path.display()))?;
        if file.try_lock().is_err() {
            eprintln!(
                "waiting for another hatang to release `{}` …",
                ledger.display()
            );
            file.lock()
                .with_context(|| format!("cannot lock `{}`", lock_path.display()))?;
        }
        Ok(LedgerLock {
            _file: file,
            path: ledger.to_owned(),
        })
    }

    /// Reads the ledger (an absent file is an empty ledger).
    pub(crate) fn read(&self) -> Result<Result<Ledger, Box<hatang_core::Diagnostic>>> {
        match fs::read_to_string(&self.path) {
            Ok(text) => Ok(Ledger::parse(&self.path, &text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Ok(Ledger::default())),
            Err(e) => Err(e).with_context(|| format!("cannot read `{}`", self.path.display())),
        }
    }

    /// Replaces the ledger atomically.
    pub(crate) fn write(&self, ledger: &Ledger) -> Result<()> {
        write_atomically(&self.path, &ledger.to_yaml())
    }
}

/// Writes `text` to `path` through a temporary file in the same directory, fsynced, then renamed.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    write_replacing(path, text, true)
}

/// Like [`write_atomically`], without fsync: readers never see half a file, but a power cut may
/// lose it. For regenerable outputs (rendered configurations), where thousands of fsyncs cost
/// minutes.
pub(crate) fn write_replacing(path: &Path, text: &str, durable: bool) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp.{}",
        path.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let result = (|| -> Result<()> {
        let mut f =
            File::create(&tmp).with_context(|| format!("cannot create `{}`", tmp.display()))?;
        f.write_all(text.as_bytes())?;
        if durable {
            f.sync_all()?;
        }
        fs::rename(&tmp, path).with_context(|| format!("cannot replace `{}`", path.display()))?;
        if durable && let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
