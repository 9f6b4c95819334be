//! The run directory of one transaction: the journal (rewritten atomically and fsynced before
//! every step), the local backups and candidates, and the audit record.
//!
//! Layout of `<state>/<id>/`: `journal.json`, `record.json`, and per device
//! `devices/<device>/{running.before,saved.before,candidate.conf,running.after}`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use hatang_core::apply::{AuditRecord, Journal, JournalError, Outcome};

use super::ApplyError;

/// File names inside a device's directory.
pub const RUNNING_BEFORE: &str = "running.before";
/// The saved configuration file as it was (absent when the device had none).
pub const SAVED_BEFORE: &str = "saved.before";
/// The candidate pushed.
pub const CANDIDATE: &str = "candidate.conf";
/// The running configuration after commit.
pub const RUNNING_AFTER: &str = "running.after";
/// The journal's file name.
pub const JOURNAL: &str = "journal.json";
/// The audit record's file name.
pub const RECORD: &str = "record.json";

/// One transaction's directory and its journal.
#[derive(Debug)]
pub struct RunStore {
    dir: PathBuf,
    journal: Mutex<Journal>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ApplyError + '_ {
    move |source| ApplyError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new file, and the new
/// one is on disk when this returns: temporary file, fsync, rename, fsync of the directory.
pub fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), ApplyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut tmp_name = path.file_name().unwrap_or_default().to_owned();
    tmp_name.push(".hatang-tmp");
    let tmp = path.with_file_name(tmp_name);
    // Backups may hold secrets (BGP passwords, keys): readable by their owner only.
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    Ok(())
}

impl RunStore {
    /// Creates `dir` and writes the first journal.
    pub fn create(dir: &Path, journal: Journal) -> Result<RunStore, ApplyError> {
        if dir.join(JOURNAL).exists() {
            return Err(ApplyError::Exists(dir.display().to_string()));
        }
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io(dir))?;
        let store = RunStore {
            dir: dir.to_owned(),
            journal: Mutex::new(journal),
        };
        store.update(|_| Ok(()))?;
        Ok(store)
    }

    /// Opens the run whose journal is `journal_path`.
    pub fn open(journal_path: &Path) -> Result<RunStore, ApplyError> {
        let text = std::fs::read_to_string(journal_path).map_err(io(journal_path))?;
        let journal = Journal::parse(&text).map_err(|source| ApplyError::BadJournal {
            path: journal_path.display().to_string(),
            source,
        })?;
        let dir = journal_path.parent().unwrap_or(Path::new(".")).to_owned();
        Ok(RunStore {
            dir,
            journal: Mutex::new(journal),
        })
    }

    /// The run directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A copy of the journal as last written.
    pub fn journal(&self) -> Journal {
        self.journal.lock().expect("journal lock").clone()
    }

    /// Changes the journal and writes it durably before returning; on a refused change nothing
    /// is written.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&mut Journal) -> Result<R, JournalError>,
    ) -> Result<R, ApplyError> {
        let mut j = self.journal.lock().expect("journal lock");
        let mut next = j.clone();
        let r = change(&mut next)?;
        let text = serde_json::to_string_pretty(&next).expect("journal serializes");
        write_durably(&self.dir.join(JOURNAL), text.as_bytes())?;
        *j = next;
        Ok(r)
    }

    fn device_file(&self, device: &str, file: &str) -> PathBuf {
        self.dir.join("devices").join(device).join(file)
    }

    /// Keeps a device's file (durably).
    pub fn put(&self, device: &str, file: &str, text: &str) -> Result<(), ApplyError> {
        write_durably(&self.device_file(device, file), text.as_bytes())
    }

    /// Reads a device's file.
    pub fn get(&self, device: &str, file: &str) -> Result<String, ApplyError> {
        let path = self.device_file(device, file);
        std::fs::read_to_string(&path).map_err(io(&path))
    }

    /// Writes the audit record of the finished transaction; its path.
    pub fn write_record(&self, finished: &str) -> Result<PathBuf, ApplyError> {
        let journal = self.journal();
        let mut diffs = BTreeMap::new();
        for d in &journal.devices {
            let (Ok(before), Ok(candidate)) = (
                self.get(&d.name, RUNNING_BEFORE),
                self.get(&d.name, CANDIDATE),
            ) else {
                continue;
            };
            use hatang_core::apply::{canonical, unified_diff};
            diffs.insert(
                d.name.clone(),
                unified_diff(
                    &canonical(&before),
                    &canonical(&candidate),
                    &format!("{}/running (before)", d.name),
                    &format!("{}/candidate", d.name),
                ),
            );
        }
        let record = AuditRecord::of(&journal, finished, &diffs);
        let path = self.dir.join(RECORD);
        let text = serde_json::to_string_pretty(&record).expect("record serializes");
        write_durably(&path, text.as_bytes())?;
        Ok(path)
    }
}

/// The journals of a state directory.
#[derive(Debug, Default)]
pub struct Journals {
    /// Each journal read, with its path, oldest first.
    pub read: Vec<(PathBuf, Journal)>,
    /// Each journal that could not be read, with why.
    pub unreadable: Vec<(PathBuf, ApplyError)>,
}

/// The journals under `state_dir` (one per run directory), oldest first, and the ones that
/// could not be read: what a new transaction must look at before it starts.
pub fn journals(state_dir: &Path) -> Journals {
    let mut out = Journals::default();
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return out;
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path().join(JOURNAL))
        .filter(|p| p.is_file())
        .collect();
    // Ids start with a UTC timestamp.
    paths.sort();
    for path in paths {
        match RunStore::open(&path) {
            Ok(store) => out.read.push((path, store.journal())),
            Err(e) => out.unreadable.push((path, e)),
        }
    }
    out
}

/// For each device, the candidate of the newest committed transaction under `state_dir` that
/// saved it: what the device was last successfully given. Runs without a readable record are
/// skipped.
pub fn last_applied(state_dir: &Path) -> BTreeMap<String, (String, String)> {
    let mut out = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return out;
    };
    let mut runs: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    // Ids start with a UTC timestamp: newest last, so later runs overwrite earlier ones.
    runs.sort();
    for run in runs {
        let Ok(text) = std::fs::read_to_string(run.join(RECORD)) else {
            continue;
        };
        let Ok(record) = serde_json::from_str::<AuditRecord>(&text) else {
            continue;
        };
        if record.outcome != Outcome::Committed {
            continue;
        }
        for d in &record.devices {
            let path = run.join("devices").join(&d.name).join(CANDIDATE);
            if let Ok(candidate) = std::fs::read_to_string(path) {
                out.insert(d.name.clone(), (record.id.clone(), candidate));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use hatang_core::apply::{DeviceEndpoint, DeviceStep};

    const T: &str = "2026-11-23T00:00:00Z";

    fn journal(id: &str) -> Journal {
        Journal::new(
            id,
            "u",
            "inv",
            T,
            false,
            vec![DeviceEndpoint {
                name: "a".into(),
                host: "h".into(),
                port: 22,
                host_key: None,
            }],
        )
    }

    #[test]
    fn journal_is_on_disk_after_each_update_and_refused_changes_are_not_written() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run");
        let store = RunStore::create(&dir, journal("1")).unwrap();
        store
            .update(|j| j.advance("a", DeviceStep::BackedUp, T))
            .unwrap();
        let reopened = RunStore::open(&dir.join(JOURNAL)).unwrap();
        assert_eq!(reopened.journal().devices[0].step, DeviceStep::BackedUp);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        store.put("a", RUNNING_BEFORE, "password secret\n").unwrap();
        assert_eq!(mode(&dir.join("devices/a").join(RUNNING_BEFORE)), 0o600);
        assert!(
            store
                .update(|j| j.advance("a", DeviceStep::Committed, T))
                .is_err()
        );
        let reopened = RunStore::open(&dir.join(JOURNAL)).unwrap();
        assert_eq!(reopened.journal(), store.journal());
        assert!(matches!(
            RunStore::create(&dir, journal("1")),
            Err(ApplyError::Exists(_))
        ));
    }

    #[test]
    fn journals_lists_every_run_oldest_first_and_names_the_unreadable() {
        let tmp = tempfile::tempdir().unwrap();
        RunStore::create(&tmp.path().join("20261123T000002Z-1"), journal("2")).unwrap();
        RunStore::create(&tmp.path().join("20261123T000001Z-1"), journal("1")).unwrap();
        let broken = tmp.path().join("20261123T000003Z-1");
        std::fs::create_dir(&broken).unwrap();
        std::fs::write(broken.join(JOURNAL), "{").unwrap();
        std::fs::create_dir(tmp.path().join("not-a-run")).unwrap();
        let found = journals(tmp.path());
        let ids: Vec<&str> = found.read.iter().map(|(_, j)| j.id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
        assert_eq!(found.unreadable.len(), 1);
        assert_eq!(found.unreadable[0].0, broken.join(JOURNAL));
        assert!(journals(&tmp.path().join("missing")).read.is_empty());
    }

    #[test]
    fn last_applied_takes_the_newest_committed_run_per_device() {
        let tmp = tempfile::tempdir().unwrap();
        let commit = |id: &str, text: &str, outcome| {
            let store = RunStore::create(&tmp.path().join(id), journal(id)).unwrap();
            store.put("a", CANDIDATE, text).unwrap();
            store.put("a", RUNNING_BEFORE, "hostname a\n").unwrap();
            store
                .update(|j| {
                    j.outcome = Some(outcome);
                    Ok(())
                })
                .unwrap();
            store.write_record(T).unwrap();
        };
        commit("20261123T000001Z-1", "hostname one\n", Outcome::Committed);
        commit("20261123T000002Z-1", "hostname two\n", Outcome::Committed);
        commit(
            "20261123T000003Z-1",
            "hostname three\n",
            Outcome::RolledBack,
        );
        let last = last_applied(tmp.path());
        assert_eq!(last["a"].1, "hostname two\n");
        assert_eq!(last["a"].0, "20261123T000002Z-1");
        let record: AuditRecord = serde_json::from_str(
            &std::fs::read_to_string(tmp.path().join("20261123T000002Z-1").join(RECORD)).unwrap(),
        )
        .unwrap();
        assert!(
            record.devices[0].diff.contains("+hostname two"),
            "{record:?}"
        );
    }
}
