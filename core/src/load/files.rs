//! Finding inventory files and reading them safely: only regular files (a FIFO, socket or
//! device named `*.yaml` is refused at once, never opened in a way that could block), within
//! the size limit, as UTF-8.
//!
//! Symbolic links follow one rule: a link to a regular file is read under the link's path; a
//! link to a directory is not followed (no loops, nothing outside the tree); a link to anything
//! else, or to nothing, is refused like the special file itself.

use std::fs;
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::file_location;
use crate::diag::{Diagnostic, Location};

/// Problems that stop loading before any file is read.
#[derive(Debug, Error)]
pub enum LoadError {
    /// A path given by the user does not exist or cannot be listed.
    #[error("cannot read `{path}`: {source}")]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A directory holds no inventory file.
    #[error("no inventory files (*.yaml, *.yml) under `{0}`")]
    Empty(PathBuf),
}

/// Whether a file name is an inventory document (ledgers and hidden files are not).
fn is_inventory_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.')
        && !name.ends_with(".lock.yaml")
        && (name.ends_with(".yaml") || name.ends_with(".yml"))
}

/// Lists inventory files under `paths`: files as given, directories recursively, sorted by path.
/// Symbolic links to directories are not followed (no loops); hidden entries are skipped.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut out = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|source| LoadError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            let before = out.len();
            walk(path, &mut out)?;
            if out.len() == before {
                return Err(LoadError::Empty(path.clone()));
            }
        } else {
            out.push(path.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = fs::read_dir(dir).map_err(|source| LoadError::Unreadable {
        path: dir.to_owned(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| LoadError::Unreadable {
            path: dir.to_owned(),
            source,
        })?;
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        let file_type = entry.file_type().map_err(|source| LoadError::Unreadable {
            path: path.clone(),
            source,
        })?;
        if file_type.is_dir() {
            if !hidden {
                walk(&path, out)?;
            }
        } else if is_inventory_file(&path) && !(file_type.is_symlink() && path.is_dir()) {
            // Directory links are not followed; every other entry with an inventory name is
            // listed, so that reading refuses a special file by name instead of skipping it.
            out.push(path);
        }
    }
    Ok(())
}

/// What a file that is not a regular file is, in words.
fn special_kind(file_type: &fs::FileType) -> &'static str {
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_fifo() {
        "a FIFO (named pipe)"
    } else if file_type.is_socket() {
        "a socket"
    } else if file_type.is_char_device() {
        "a character device"
    } else if file_type.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

/// Reads a file as UTF-8 text within `max_bytes`. Problems come back as diagnostics.
pub(super) fn read_text(path: &Path, max_bytes: u64) -> (Option<String>, Vec<Diagnostic>) {
    let fail = |code, msg: String, hint: &str| {
        (
            None,
            vec![
                Diagnostic::error(code, msg)
                    .at(file_location(path))
                    .hint(hint.to_owned()),
            ],
        )
    };
    let not_regular = |what: &str| {
        fail(
            "not-a-regular-file",
            format!("`{}` is {what}, not a regular file", path.display()),
            "inventory files must be regular files (or symbolic links to regular files); remove it or rename it so it does not end in .yaml/.yml",
        )
    };
    // Judged before opening: opening a FIFO for reading waits for a writer, and opening a
    // device can have effects of its own.
    match fs::metadata(path) {
        Ok(meta) if !meta.is_file() => return not_regular(special_kind(&meta.file_type())),
        Ok(_) => {}
        Err(e) => {
            return fail(
                "unreadable-file",
                format!("cannot open file: {e}"),
                "check the path and permissions (a symbolic link must point to an existing file)",
            );
        }
    }
    // The file may be swapped for a special one between the check and the open: opened
    // without blocking and without becoming a controlling terminal, and judged again by the
    // opened descriptor, so a race cannot make loading wait.
    let file = match fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(f) => f,
        Err(e) => {
            return fail(
                "unreadable-file",
                format!("cannot open file: {e}"),
                "check the path and permissions",
            );
        }
    };
    match file.metadata() {
        Ok(meta) if !meta.is_file() => return not_regular(special_kind(&meta.file_type())),
        Ok(_) => {}
        Err(e) => {
            return fail(
                "unreadable-file",
                format!("cannot read file: {e}"),
                "check the path and permissions",
            );
        }
    }
    // Read at most one byte past the limit, so a huge file costs no more than the limit.
    let mut bytes = Vec::new();
    if let Err(e) = file.take(max_bytes + 1).read_to_end(&mut bytes) {
        return fail(
            "unreadable-file",
            format!("cannot read file: {e}"),
            "check the path and permissions",
        );
    }
    if bytes.len() as u64 > max_bytes {
        return fail(
            "file-too-large",
            format!("file is larger than the limit of {max_bytes} bytes"),
            "split the inventory into several files, or raise --max-file-size",
        );
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    match std::str::from_utf8(body) {
        Ok(text) => (Some(text.to_owned()), Vec::new()),
        Err(e) => {
            let valid = &body[..e.valid_up_to()];
            // The prefix is valid UTF-8 by construction.
            let prefix = std::str::from_utf8(valid).unwrap_or_default();
            let line = prefix.matches('\n').count() as u32 + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
            (
                None,
                vec![
                    Diagnostic::error(
                        "invalid-utf8",
                        format!("file is not valid UTF-8 (bad byte 0x{:02x})", body[e.valid_up_to()]),
                    )
                    .at(Location {
                        file: path.display().to_string(),
                        line,
                        column,
                    })
                    .hint("save the file as UTF-8; Vietnamese text in legacy encodings (TCVN3, VNI, Windows-1258) must be converted"),
                ],
            )
        }
    }
}
