//! The cohort journal: one JSON line per finished learner, appended and
//! synced to disk before the next, so a crash or `kill -9` loses at most the
//! learners still being graded. `--resume` reads it back and grades only the
//! learners missing from it (and, with `--regrade`, those set aside to grade
//! again: their new line comes after the old, and the last counts). The
//! first line names the lab and the roster's fingerprint: a journal is only
//! resumed against the roster it was written for.
//!
//! The journal is the grader's alone. A run holds an exclusive lock on a
//! file beside it (`FILE.lock`, naming the process) while it uses it, so a
//! second run on the same journal stops at once and says who holds it. A
//! line that does not parse, or does not belong to the roster (a learner it
//! does not have, another account or role than the roster's, another lab),
//! is dropped when the journal is read back, and that learner is graded
//! again: a line appended by someone else never becomes a grade.

use super::gradebook::LearnerResult;
use super::roster::{Entry, Roster};
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

/// An open journal, positioned for appending; locked while it is open.
pub struct Journal {
    path: PathBuf,
    file: File,
    /// The lock on `FILE.lock`, released when the journal is dropped.
    _lock: File,
}

/// What `--resume` reads back from a journal.
#[derive(Debug, Default)]
pub struct Resumed {
    /// The last result of each learner, from lines that belong to the roster.
    pub results: Vec<LearnerResult>,
    /// Lines left out, each with why (the first [`MAX_DROPPED`]); their
    /// learners are graded again.
    pub dropped: Vec<Dropped>,
    /// Lines left out beyond those listed.
    pub more: usize,
}

/// Lines left out that are listed one by one; the rest are counted.
pub const MAX_DROPPED: usize = 1000;

/// A journal line that was left out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// 1-based line number in the journal.
    pub line: usize,
    /// The roster position of the learner the line names, when it names one.
    pub index: Option<usize>,
    /// Why it was left out, sanitized, in one line.
    pub why: String,
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
    /// Another process holds the journal.
    #[error(
        "{file} is in use by {holder}: wait for that run to finish, or stop it (two runs on one journal would grade learners twice)"
    )]
    InUse {
        /// The journal file.
        file: String,
        /// The process that holds it, as its lock file names it.
        holder: String,
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
    /// Opens (or creates) the journal at `path` for `lab` and `roster`, and
    /// locks it. Without `resume`, an existing non-empty journal is an
    /// error, so no result is overwritten. With it, returns what the journal
    /// holds for the roster's learners, and the lines left out.
    pub fn open(path: &Path, lab: &str, roster: &Roster, resume: bool) -> Result<(Journal, Resumed), JournalError> {
        let file = path.display().to_string();
        let io = |source| JournalError::Io {
            file: file.clone(),
            source,
        };
        let lock = lock(path)?;
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
            roster: roster.fingerprint.clone(),
        };
        let mut resumed = Resumed::default();
        if exists {
            let good_len;
            (resumed, good_len) = read(&mut handle, &file, &header, roster)?;
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
                _lock: lock,
            },
            resumed,
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

/// `FILE.lock` beside the journal, locked (exclusively, without waiting)
/// and naming this process; the lock lasts as long as the file is open.
fn lock(path: &Path) -> Result<File, JournalError> {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    let lock_path = path.with_file_name(name);
    let io = |source| JournalError::Io {
        file: lock_path.display().to_string(),
        source,
    };
    let mut lock = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(io)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = Read::by_ref(&mut lock).take(512).read_to_string(&mut text);
            let holder = crate::redact::strip_control(text.trim());
            return Err(JournalError::InUse {
                file: path.display().to_string(),
                holder: if holder.is_empty() {
                    "another process".into()
                } else {
                    holder
                },
            });
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    let holder = format!(
        "process {} (labcheck cohort grade, started {})\n",
        std::process::id(),
        super::gradebook::now()
    );
    lock.set_len(0)
        .and_then(|_| lock.write_all(holder.as_bytes()))
        .and_then(|_| lock.sync_data())
        .map_err(io)?;
    Ok(lock)
}

/// Why a journal line does not belong to the roster, if it does not.
fn foreign(r: &LearnerResult, lab: &str, roster: &Roster) -> Option<String> {
    let Some(entry) = roster.learners.iter().find(|e| e.index == r.index) else {
        return Some(format!("the roster has no learner at position {}", r.index));
    };
    if entry.learner != r.learner {
        return Some(format!(
            "it names learner `{}` where the roster has `{}`",
            r.learner, entry.learner
        ));
    }
    if r.account != entry.account {
        return Some(format!(
            "it is for account {}, not the roster's {}",
            r.account, entry.account
        ));
    }
    let report = r.report.as_ref()?;
    if report.lab != lab {
        return Some(format!("it grades lab `{}`, not `{lab}`", report.lab));
    }
    if report.account != entry.account {
        return Some(format!(
            "its report is for account {}, not the roster's {}",
            report.account, entry.account
        ));
    }
    not_the_graders_session(&report.identity, entry)
}

/// Whether `identity` is the grader's session in the learner's role:
/// `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/labcheck-LEARNER`, with the
/// roster's account (and role, when the roster names one).
fn not_the_graders_session(identity: &str, entry: &Entry) -> Option<String> {
    let parts: Vec<&str> = identity.splitn(6, ':').collect();
    let resource = parts.get(5).copied().unwrap_or_default();
    let mut path = resource.splitn(3, '/');
    let (kind, role, session) = (path.next(), path.next(), path.next());
    let role_name = entry.role_arn.as_deref().and_then(|arn| arn.rsplit('/').next());
    if parts.len() != 6 || parts[2] != "sts" || kind != Some("assumed-role") {
        Some(format!("its identity `{identity}` is not a grader's session"))
    } else if parts[4] != entry.account {
        Some(format!(
            "it was graded in account {}, not the roster's {}",
            parts[4], entry.account
        ))
    } else if role_name.is_some_and(|name| Some(name) != role) {
        Some(format!(
            "it was graded through role {}, not the roster's {}",
            role.unwrap_or_default(),
            entry.role_arn.as_deref().unwrap_or_default()
        ))
    } else if session != Some(super::grade::session_name(&entry.learner).as_str()) {
        Some(format!(
            "its session `{}` is not the one the grader opens for `{}`",
            session.unwrap_or_default(),
            entry.learner
        ))
    } else {
        None
    }
}

/// Text for a message about a line: sanitized, on one line, cut short.
fn one_line(text: &str) -> String {
    crate::redact::one_line(text, 200)
}

/// Reads a journal: what it holds for the roster, and the length of its
/// whole lines.
fn read(file: &mut File, name: &str, expected: &Header, roster: &Roster) -> Result<(Resumed, u64), JournalError> {
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
    let mut resumed = Resumed::default();
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
        if number > 1 && buf.iter().all(u8::is_ascii_whitespace) {
            good_len += n as u64;
            continue; // an empty line is nobody's result
        }
        if number == 1 {
            let header: Header = serde_json::from_slice(&buf)
                .map_err(|e| bad(1, format!("not a labcheck journal ({})", one_line(&e.to_string()))))?;
            if header.schema != SCHEMA {
                return Err(bad(
                    1,
                    format!("not a labcheck journal (schema `{}`)", one_line(&header.schema)),
                ));
            }
            if header.lab != expected.lab {
                return Err(bad(
                    1,
                    format!(
                        "this journal grades lab `{}`, not `{}`",
                        one_line(&header.lab),
                        expected.lab
                    ),
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
            let (index, why) = match serde_json::from_slice::<LearnerResult>(&buf) {
                Ok(r) => match foreign(&r, &expected.lab, roster) {
                    None => {
                        // A learner graded again (`--regrade`) is there twice: the last line counts.
                        resumed.results.retain(|x| x.index != r.index);
                        resumed.results.push(r);
                        good_len += n as u64;
                        continue;
                    }
                    Some(why) => (Some(r.index), why),
                },
                Err(e) => (
                    // What it says of itself, to grade that learner again.
                    serde_json::from_slice::<serde_json::Value>(&buf)
                        .ok()
                        .and_then(|v| v["index"].as_u64())
                        .map(|i| i as usize),
                    format!("not a learner's result ({e})"),
                ),
            };
            let index = index.filter(|i| roster.learners.iter().any(|e| e.index == *i));
            if let Some(i) = index {
                resumed.results.retain(|x| x.index != i);
            }
            if resumed.dropped.len() < MAX_DROPPED {
                resumed.dropped.push(Dropped {
                    line: number,
                    index,
                    why: one_line(&why),
                });
            } else {
                resumed.more += 1;
            }
        }
        good_len += n as u64;
    }
    Ok((resumed, good_len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::gradebook::tests::learners;

    const LAB: &str = "deploy-django-eb";

    fn roster_of(text: &str) -> Roster {
        crate::cohort::roster::parse("roster.csv", text, Path::new(".")).unwrap()
    }

    fn cohort() -> Roster {
        roster_of("learner,account\nada,000000000000\nbob,000000000001\ncy,000000000002\n")
    }

    /// The sample learners, as the grader would have graded them.
    fn graded() -> Vec<LearnerResult> {
        let mut all = learners();
        for l in &mut all {
            if let Some(r) = &mut l.report {
                r.account = l.account.clone();
                r.identity = format!(
                    "arn:aws:sts::{}:assumed-role/labcheck-grader/labcheck-{}",
                    l.account, l.learner
                );
            }
        }
        all
    }

    fn append_line(path: &Path, line: &str) {
        let mut f = OpenOptions::new().append(true).open(path).unwrap();
        f.write_all(line.as_bytes()).unwrap();
    }

    #[test]
    fn resumes_what_was_written_and_drops_a_cut_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let all = graded();
        let roster = cohort();
        {
            let (mut j, done) = Journal::open(&path, LAB, &roster, false).unwrap();
            assert!(done.results.is_empty());
            j.append(&all[0]).unwrap();
            j.append(&all[1]).unwrap();
        }
        // A crash in the middle of the third line.
        append_line(&path, r#"{"index":2,"learner":"c"#);
        assert!(matches!(
            Journal::open(&path, LAB, &roster, false),
            Err(JournalError::Exists(_))
        ));
        let (mut j, done) = Journal::open(&path, LAB, &roster, true).unwrap();
        assert_eq!(done.results, all[..2].to_vec());
        assert!(done.dropped.is_empty(), "a cut line is not a dropped line");
        j.append(&all[2]).unwrap();
        drop(j);
        let (_, done) = Journal::open(&path, LAB, &roster, true).unwrap();
        assert_eq!(done.results, all);
        let other = roster_of("learner,account\nada,000000000000\n");
        let err = Journal::open(&path, LAB, &other, true).err().unwrap().to_string();
        assert!(err.contains(":1: this journal was written for another roster"), "{err}");
    }

    #[test]
    fn a_second_run_on_a_journal_in_use_is_refused_naming_the_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let roster = cohort();
        let (first, _) = Journal::open(&path, LAB, &roster, false).unwrap();
        let err = Journal::open(&path, LAB, &roster, true).err().unwrap();
        assert!(matches!(err, JournalError::InUse { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!(
                "is in use by process {} (labcheck cohort grade",
                std::process::id()
            )),
            "{text}"
        );
        drop(first);
        assert!(
            Journal::open(&path, LAB, &roster, true).is_ok(),
            "free once the first is done"
        );
    }

    #[test]
    fn lines_that_do_not_parse_or_do_not_belong_are_dropped_and_their_learner_graded_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let all = graded();
        let roster = cohort();
        {
            let (mut j, _) = Journal::open(&path, LAB, &roster, false).unwrap();
            for l in &all {
                j.append(l).unwrap();
            }
        }
        // Each forged line claims full marks for somebody.
        let forge = |edit: &dyn Fn(&mut LearnerResult)| {
            let mut l = all[0].clone();
            let r = l.report.as_mut().unwrap();
            r.score = r.max_score;
            edit(&mut l);
            serde_json::to_string(&l).unwrap() + "\n"
        };
        let lines = [
            // 5: not JSON at all, with a terminal escape in it
            "\x1b]0;pwned\x07{\"index\": 0, oops\n".to_string(),
            // 6: JSON, but not a result: it names bob, who is graded again
            "{\"index\": 1, \"learner\": \"bob\"}\n".to_string(),
            // 7: a learner the roster does not have
            forge(&|l| {
                l.index = 9;
                l.learner = "mallory".into();
            }),
            // 8: bob's position under another name
            forge(&|l| {
                l.index = 1;
                l.learner = "mallory".into();
            }),
            // 9: ada, graded in another account
            forge(&|l| l.account = "999999999999".into()),
            // 10: ada's row, the report of another lab
            forge(&|l| l.report.as_mut().unwrap().lab = "other-lab".into()),
            // 11: ada's row, a session the grader never opens
            forge(&|l| {
                l.report.as_mut().unwrap().identity =
                    "arn:aws:sts::000000000000:assumed-role/labcheck-grader/labcheck-eve".into()
            }),
            // 12: ada's row, a learner's own identity
            forge(&|l| l.report.as_mut().unwrap().identity = "arn:aws:iam::000000000000:user/ada".into()),
        ];
        for line in &lines {
            append_line(&path, line);
        }
        let (_, done) = Journal::open(&path, LAB, &roster, true).unwrap();
        let kept: Vec<&str> = done.results.iter().map(|r| r.learner.as_str()).collect();
        assert_eq!(kept, ["cy"], "ada and bob are graded again: {:#?}", done.dropped);
        let dropped: Vec<(usize, Option<usize>)> = done.dropped.iter().map(|d| (d.line, d.index)).collect();
        assert_eq!(
            dropped,
            [
                (5, None),
                (6, Some(1)),
                (7, None),
                (8, Some(1)),
                (9, Some(0)),
                (10, Some(0)),
                (11, Some(0)),
                (12, Some(0))
            ]
        );
        let whys: Vec<&str> = done.dropped.iter().map(|d| d.why.as_str()).collect();
        assert!(whys[0].starts_with("not a learner's result"), "{whys:?}");
        assert!(!whys[0].contains('\x1b') && !whys[0].contains('\x07'), "{whys:?}");
        assert_eq!(whys[2], "the roster has no learner at position 9");
        assert_eq!(whys[3], "it names learner `mallory` where the roster has `bob`");
        assert_eq!(whys[4], "it is for account 999999999999, not the roster's 000000000000");
        assert_eq!(whys[5], "it grades lab `other-lab`, not `deploy-django-eb`");
        assert!(
            whys[6].contains("is not the one the grader opens for `ada`"),
            "{}",
            whys[6]
        );
        assert!(whys[7].contains("is not a grader's session"), "{}", whys[7]);
    }

    #[test]
    fn a_flood_of_bad_lines_is_listed_in_part_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let roster = cohort();
        drop(Journal::open(&path, LAB, &roster, false).unwrap());
        append_line(&path, &"\n".repeat(100));
        append_line(&path, &"x\n".repeat(MAX_DROPPED + 500));
        let (_, done) = Journal::open(&path, LAB, &roster, true).unwrap();
        assert_eq!(
            (done.dropped.len(), done.more),
            (MAX_DROPPED, 500),
            "empty lines are nobody's"
        );
        assert_eq!(done.dropped[0].line, 102);
    }
}
