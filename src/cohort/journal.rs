//! The cohort journal: one JSON line per finished learner, appended and
//! synced to disk before the next, so a crash or `kill -9` loses at most the
//! learners still being graded. `--resume` reads it back and grades only the
//! learners missing from it (and, with `--regrade`, those set aside to grade
//! again: their new line comes after the old, and the last counts). The
//! first line names the lab and the roster's fingerprint: a journal is only
//! resumed against the roster it was written for.

use super::gradebook::LearnerResult;
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// The `schema` value of a journal's first line.
pub const SCHEMA: &str = "labcheck/journal-v1";

/// Longest journal line read back: a learner's report is a few kilobytes.
const MAX_LINE: usize = 8 * 1024 * 1024;

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Header {
    schema: String,
    lab: String,
    roster: String,
}

/// An open journal, positioned for appending.
pub struct Journal {
    path: PathBuf,
    file: File,
}

/// Why a journal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error(
        "{0} already holds a journal; pass --resume to grade only the learners missing from it, or remove it to start over"
    )]
    /// The journal file already exists and `--resume` was not given.
    Exists(String),
    /// A line of the journal cannot be used.
    #[error("{file}:{line}: {message}")]
    Bad {
        /// The journal file.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The journal could not be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The journal file.
        file: String,
        /// What the operating system reported.
        source: std::io::Error,
    },
}

impl Journal {
    /// Opens (or creates) the journal at `path`. Without `resume`, an
    /// existing non-empty journal is an error, so no result is overwritten.
    /// With it, returns the learners already graded.
    pub fn open(
        path: &Path,
        lab: &str,
        roster: &str,
        resume: bool,
    ) -> Result<(Journal, Vec<LearnerResult>), JournalError> {
        let file = path.display().to_string();
        let io = |source| JournalError::Io {
            file: file.clone(),
            source,
        };
        let exists = path.metadata().map(|m| m.len() > 0).unwrap_or(false);
        if exists && !resume {
            return Err(JournalError::Exists(file));
        }
        let mut handle = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(io)?;
        let header = Header {
            schema: SCHEMA.into(),
            lab: lab.into(),
            roster: roster.into(),
        };
        let mut done = Vec::new();
        if exists {
            let (results, good_len) = read(&mut handle, &file, &header)?;
            done = results;
            // A line cut short by a crash is dropped, so appends stay whole lines.
            if good_len < handle.metadata().map_err(io)?.len() {
                handle.set_len(good_len).map_err(io)?;
            }
            handle.seek(SeekFrom::End(0)).map_err(io)?;
        } else {
            let mut line = serde_json::to_string(&header).expect("header serializes");
            line.push('\n');
            handle.write_all(line.as_bytes()).map_err(io)?;
            handle.sync_data().map_err(io)?;
        }
        Ok((
            Journal {
                path: path.to_path_buf(),
                file: handle,
            },
            done,
        ))
    }

    /// Appends one learner's result and syncs it to disk.
    pub fn append(&mut self, result: &LearnerResult) -> Result<(), JournalError> {
        let mut line = serde_json::to_string(result).expect("a result serializes");
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|_| self.file.sync_data())
            .map_err(|source| JournalError::Io {
                file: self.path.display().to_string(),
                source,
            })
    }
}

/// Reads a journal: its results, and the length of its whole lines.
fn read(file: &mut File, name: &str, expected: &Header) -> Result<(Vec<LearnerResult>, u64), JournalError> {
    file.seek(SeekFrom::Start(0)).map_err(|source| JournalError::Io {
        file: name.into(),
        source,
    })?;
    let bad = |line: usize, message: String| JournalError::Bad {
        file: name.into(),
        line,
        message,
    };
    let mut reader = BufReader::new(file);
    let mut results: Vec<LearnerResult> = Vec::new();
    let mut good_len = 0u64;
    let mut buf = Vec::new();
    let mut number = 0;
    loop {
        buf.clear();
        let n = Read::by_ref(&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|source| JournalError::Io {
                file: name.into(),
                source,
            })?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = buf.ends_with(b"\n");
        if !complete {
            if n > MAX_LINE {
                return Err(bad(number, format!("a line is longer than {} MB", MAX_LINE >> 20)));
            }
            break; // cut short by a crash: not graded, graded again
        }
        if number == 1 {
            let header: Header =
                serde_json::from_slice(&buf).map_err(|e| bad(1, format!("not a labcheck journal ({e})")))?;
            if header.schema != SCHEMA {
                return Err(bad(1, format!("not a labcheck journal (schema `{}`)", header.schema)));
            }
            if header.lab != expected.lab {
                return Err(bad(
                    1,
                    format!("this journal grades lab `{}`, not `{}`", header.lab, expected.lab),
                ));
            }
            if header.roster != expected.roster {
                return Err(bad(
                    1,
                    "this journal was written for another roster (or the roster changed since); grade into a new journal"
                        .into(),
                ));
            }
        } else {
            match serde_json::from_slice::<LearnerResult>(&buf) {
                Ok(r) => {
                    // A learner graded again (`--regrade`) is there twice: the last line counts.
                    results.retain(|x| x.index != r.index);
                    results.push(r);
                }
                Err(e) => return Err(bad(number, format!("not a learner's result ({e})"))),
            }
        }
        good_len += n as u64;
    }
    Ok((results, good_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::gradebook::tests::learners;

    #[test]
    fn resumes_what_was_written_and_drops_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let all = learners();
        {
            let (mut j, done) = Journal::open(&path, "lab", "fp", false).unwrap();
            assert!(done.is_empty());
            j.append(&all[0]).unwrap();
            j.append(&all[1]).unwrap();
        }
        // A crash in the middle of the third line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"index":2,"learner":"c"#).unwrap();
        drop(f);
        assert!(matches!(
            Journal::open(&path, "lab", "fp", false),
            Err(JournalError::Exists(_))
        ));
        let (mut j, done) = Journal::open(&path, "lab", "fp", true).unwrap();
        assert_eq!(done, all[..2].to_vec());
        j.append(&all[2]).unwrap();
        drop(j);
        let (_, done) = Journal::open(&path, "lab", "fp", true).unwrap();
        assert_eq!(done, all);
        let err = Journal::open(&path, "lab", "other", true).err().unwrap().to_string();
        assert!(err.contains(":1: this journal was written for another roster"), "{err}");
    }
}
