//! The last running configurations the drift audit read, kept per device on the state volume:
//! `<state-dir>/backups/<device>/<UTC time>-<sha256 prefix>.conf`, the same text `hatang backup`
//! saves. A configuration equal to the newest kept one is not written again; beyond `keep`
//! files the oldest go.

use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// Backups kept per device by default.
pub const KEEP: usize = 10;

/// A kept backup: its file and the SHA-256 (hex) of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// The file under the state directory.
    pub path: PathBuf,
    /// SHA-256 of the configuration, lowercase hex.
    pub sha256: String,
    /// False when the newest backup already held this text (nothing was written).
    pub written: bool,
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The kept backups of one device, oldest first (names sort by time).
fn listed(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "conf"))
            .collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    files.sort();
    Ok(files)
}

/// Keeps `text`, read from `device` at `at`, under `state_dir/backups/<device>/` (written to a
/// temporary name and renamed, so a reader never sees half a file), then removes all but the
/// newest `keep` files.
pub fn keep(
    state_dir: &Path,
    device: &str,
    text: &str,
    at: DateTime<Utc>,
    keep: usize,
) -> io::Result<Kept> {
    let dir = state_dir.join("backups").join(device);
    std::fs::create_dir_all(&dir)?;
    let sha256 = sha256_hex(text);
    let existing = listed(&dir)?;
    if let Some(newest) = existing.last()
        && std::fs::read_to_string(newest).is_ok_and(|t| sha256_hex(&t) == sha256)
    {
        return Ok(Kept {
            path: newest.clone(),
            sha256,
            written: false,
        });
    }
    let name = format!("{}-{}.conf", at.format("%Y%m%dT%H%M%S%.3fZ"), &sha256[..12]);
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, &path)?;
    let all = listed(&dir)?;
    for old in &all[..all.len().saturating_sub(keep.max(1))] {
        std::fs::remove_file(old)?;
    }
    Ok(Kept {
        path,
        sha256,
        written: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(second: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 8, 0, second).unwrap()
    }

    #[test]
    fn the_newest_backups_are_kept_and_a_repeat_is_not_written() {
        let tmp = tempfile::tempdir().unwrap();
        let first = keep(tmp.path(), "cpe-00001", "hostname a\n", at(0), 2).unwrap();
        assert!(first.written);
        let again = keep(tmp.path(), "cpe-00001", "hostname a\n", at(1), 2).unwrap();
        assert_eq!((again.written, &again.path), (false, &first.path));
        let b = keep(tmp.path(), "cpe-00001", "hostname b\n", at(2), 2).unwrap();
        let c = keep(tmp.path(), "cpe-00001", "hostname c\n", at(3), 2).unwrap();
        let dir = tmp.path().join("backups/cpe-00001");
        assert_eq!(listed(&dir).unwrap(), vec![b.path.clone(), c.path.clone()]);
        assert_eq!(std::fs::read_to_string(&c.path).unwrap(), "hostname c\n");
        assert_eq!(c.sha256, sha256_hex("hostname c\n"));
        assert!(
            c.path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("20261123T080003.000Z-")
        );
        // Other devices are kept apart.
        keep(tmp.path(), "hub-001", "hostname h\n", at(4), 2).unwrap();
        assert_eq!(listed(&dir).unwrap().len(), 2);
    }
}
