//! The learner's own files on this machine, for the commands that keep
//! something between runs (`state`: the last results; `quiz::progress`: quiz
//! attempts): where each kind lives (an override variable, else an absolute
//! XDG base folder, else a folder of `HOME`), reading a JSON file (a missing
//! one is `None`; one that does not parse is an error naming it, never
//! overwritten), and updating one under a lock, atomically, so runs that
//! finish at once all land.

use crate::report::output::write_atomic;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

/// Where one kind of file lives.
#[derive(Clone, Copy, Debug)]
pub struct Place {
    /// What it holds, for the error when there is no place for it.
    pub what: &'static str,
    /// The variable that names the folder itself.
    pub var: &'static str,
    /// The XDG base folder variable; labcheck's folder is `labcheck` in it.
    pub xdg: &'static str,
    /// The XDG default below `HOME`, used when the variable is not set.
    pub home: &'static str,
}

/// The last results of `labcheck check` (`state`).
pub const STATE: Place = Place {
    what: "labcheck's state",
    var: "LABCHECK_STATE_DIR",
    xdg: "XDG_STATE_HOME",
    home: ".local/state",
};

/// The quiz progress file (`quiz::progress`).
pub const DATA: Place = Place {
    what: "the progress file",
    var: "LABCHECK_DATA_DIR",
    xdg: "XDG_DATA_HOME",
    home: ".local/share",
};

/// Why a file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Neither the place's variable, its XDG variable nor `HOME` names a usable folder.
    #[error("no place for {what}: set {var} (or {xdg}, or HOME) to a folder labcheck may write to")]
    NoDir {
        /// What the folder holds.
        what: &'static str,
        /// The variable naming the folder.
        var: &'static str,
        /// The XDG variable.
        xdg: &'static str,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// A file is not valid JSON of its schema.
    #[error("{path} is not a labcheck {kind} file ({source}); fix it or move it away")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Its kind, in words (`results`, `progress`).
        kind: &'static str,
        /// Why it could not be parsed.
        source: serde_json::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
}

impl Place {
    /// The folder: the place's variable, else `labcheck` in an absolute XDG
    /// folder, else `labcheck` in the XDG default below an absolute `HOME`.
    pub fn dir(&self) -> Result<PathBuf, StoreError> {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(dir) = var(self.var) {
            return Ok(dir);
        }
        if let Some(dir) = var(self.xdg).filter(|d| d.is_absolute()) {
            return Ok(dir.join("labcheck"));
        }
        var("HOME")
            .filter(|d| d.is_absolute())
            .map(|home| home.join(self.home).join("labcheck"))
            .ok_or(StoreError::NoDir {
                what: self.what,
                var: self.var,
                xdg: self.xdg,
            })
    }
}

/// Parses the text of a `kind` file read from `path`.
fn parse<T: DeserializeOwned>(path: &Path, kind: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|source| StoreError::Corrupt {
        path: path.to_path_buf(),
        kind,
        source,
    })
}

/// Reads a JSON file of `kind`; `None` when it does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path, kind: &'static str) -> Result<Option<T>, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, kind, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Updates a JSON file of `kind` under its lock: `update` gets what the file
/// holds (`None` when it does not exist yet) and returns what it holds next.
/// A file that does not parse is left as it is, and the error names it.
pub fn update_json<T>(path: &Path, kind: &'static str, update: impl FnOnce(Option<T>) -> T) -> Result<(), StoreError>
where
    T: Serialize + DeserializeOwned,
{
    locked_update(path, |text| {
        let current = text.map(|t| parse::<T>(path, kind, t)).transpose()?;
        let mut out = serde_json::to_string_pretty(&update(current)).expect("serializes");
        out.push('\n');
        Ok(out)
    })
}

/// Read-modify-write of a file that several labcheck processes may update
/// at once. An exclusive lock on `<file>.lock` (a sidecar: the file itself
/// is replaced by a rename, so a lock on it would guard the old copy) is held
/// from the read to the atomic rename. `update` gets the current text
/// (`None` when the file does not exist) and returns the new text; its error
/// leaves the file as it was. The folder is created when missing.
fn locked_update<E>(path: &Path, update: impl FnOnce(Option<&str>) -> Result<String, E>) -> Result<(), E>
where
    E: From<StoreError>,
{
    let write_err = |p: &Path, source: std::io::Error| StoreError::Write {
        path: p.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    let mut lock_name = path.file_name().unwrap_or_default().to_os_string();
    lock_name.push(".lock");
    let lock_path = dir.join(lock_name);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| write_err(&lock_path, e))?;
    lock.lock().map_err(|e| write_err(&lock_path, e))?;
    let current = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(StoreError::Read {
                path: path.to_path_buf(),
                source,
            }
            .into());
        }
    };
    let text = update(current.as_deref())?;
    write_atomic(path, text.as_bytes()).map_err(|e| write_err(path, e))?;
    // Dropping the file releases the lock.
    drop(lock);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_updates_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.json");
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..10 {
                        update_json::<u64>(&path, "counter", |n| n.unwrap_or(0) + 1).unwrap();
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(read_json::<u64>(&path, "counter").unwrap(), Some(160));
    }

    #[test]
    fn a_file_that_does_not_parse_is_named_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = update_json::<u64>(&path, "progress", |_| 1).unwrap_err();
        assert!(err.to_string().contains("is not a labcheck progress file"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{ not json");
    }
}
