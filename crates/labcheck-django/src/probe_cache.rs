//! The probe's answers, kept between runs: re-checking a project whose
//! files, interpreter and environment have not changed starts no Python.
//! `labcheck check`, `watch` and the book's "Check my progress" all go
//! through here.
//!
//! An answer is stored under a digest of how the probe was started: the
//! interpreter (its path, the file it resolves to and that file's size,
//! modification time and inode), the folder it ran in, its arguments (the
//! probe's own source among them), the whole environment it was given (the
//! inherited one too, for the learner's own project), and whose code it is
//! ([`LearnerCode`]: a sandboxed or trusted run never reuses the other's
//! answer, nor the learner's own). With the answer are kept the files and
//! folders the probe read (it lists them: every file opened, every module
//! imported, every folder listed, see probe.py), each with a fingerprint:
//! a SHA-256 of the contents for files inside the project, size,
//! modification time and inode for the others (the standard library,
//! site-packages), modification time and inode for folders (a file added
//! or removed changes it). The answer is reused only when every one of
//! them is as it was.
//!
//! Where: the folder the run names (labcheck's `probe-cache/`, in its
//! state folder), private to its owner; one file per digest, the oldest
//! removed beyond `KEEP` of them. The environment is only ever hashed: no
//! variable's value is written.

use crate::isolation::LearnerCode;
use crate::process::Ran;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The `schema` of a cache file.
const SCHEMA: &str = "labcheck/probe-cache-v1";
/// Answers kept (one per project, interpreter and environment).
const KEEP: usize = 16;
/// Files inside the project larger than this are fingerprinted by their
/// size and times instead of their contents.
const HASHED_UP_TO: u64 = 4 << 20;

/// How one probe is started, digested.
#[derive(Clone, Debug)]
pub struct Key {
    digest: String,
    /// The cache's folder.
    folder: PathBuf,
    /// The project's folder: files inside it are fingerprinted by contents.
    project: PathBuf,
}

/// What the probe said it read (the `read` field of its answer).
#[derive(Debug, Default, Deserialize)]
struct Read {
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    dirs: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Said {
    read: Option<Read>,
}

/// A cache file.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    schema: String,
    /// (path, fingerprint) of every file and folder the probe read.
    read: Vec<(String, String)>,
    /// The probe's answer: its JSON line.
    answer: String,
}

/// How the probe was started, as [`Key::new`] takes it.
pub struct Start<'a> {
    /// The interpreter.
    pub python: &'a Path,
    /// The project's folder (the bundle).
    pub project: &'a Path,
    /// The folder the probe runs in.
    pub dir: &'a Path,
    /// Its arguments.
    pub args: &'a [&'a str],
    /// The variables it is given on top of its base environment.
    pub env: &'a [(String, String)],
    /// Variables that differ on every run and say nothing of the project
    /// (the marker's nonce).
    pub volatile: &'a [&'a str],
    /// Whose code it is.
    pub code: LearnerCode,
    /// The cache's folder (none: nothing is kept or reused).
    pub folder: Option<&'a Path>,
    /// It inherits labcheck's own environment (the learner's shell).
    pub inherits: bool,
}

impl Key {
    /// The key of a probe started as `start` says; `None` when the
    /// interpreter cannot be identified or there is no cache folder (it is
    /// then run every time).
    pub fn new(start: &Start) -> Option<Key> {
        let folder = start.folder?.to_path_buf();
        let mut h = Sha256::new();
        let mut part = |label: &str, value: &[u8]| {
            h.update(label.as_bytes());
            h.update((value.len() as u64).to_le_bytes());
            h.update(value);
        };
        part("schema", SCHEMA.as_bytes());
        part("labcheck", env!("CARGO_PKG_VERSION").as_bytes());
        part("code", format!("{:?}", start.code).as_bytes());
        let program = which(start.python)?;
        let real = std::fs::canonicalize(&program).ok()?;
        part("python", program.as_os_str().as_encoded_bytes());
        part("python-real", real.as_os_str().as_encoded_bytes());
        part("python-file", meta_print(&real)?.as_bytes());
        part("dir", start.dir.as_os_str().as_encoded_bytes());
        for arg in start.args {
            part("arg", arg.as_bytes());
        }
        let mut env: Vec<(String, String)> = if start.inherits {
            std::env::vars_os()
                .map(|(k, v)| (k.to_string_lossy().into_owned(), v.to_string_lossy().into_owned()))
                .collect()
        } else {
            // The base environment of a cleared or sandboxed start holds PATH.
            vec![("PATH".to_string(), std::env::var("PATH").unwrap_or_default())]
        };
        for (k, v) in start.env {
            env.retain(|(n, _)| n != k);
            env.push((k.clone(), v.clone()));
        }
        env.retain(|(k, _)| !start.volatile.contains(&k.as_str()));
        env.sort();
        for (k, v) in &env {
            part("env-name", k.as_bytes());
            part("env-value", v.as_bytes());
        }
        Some(Key {
            digest: hex(&h.finalize()),
            folder,
            project: start.project.to_path_buf(),
        })
    }
}

/// The interpreter's file: the path itself when it names one, else found on PATH.
fn which(python: &Path) -> Option<PathBuf> {
    if python.components().count() > 1 {
        return python.is_file().then(|| python.to_path_buf());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(python))
        .find(|p| p.is_file())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Size, modification time (ns) and inode: what changes when a file is
/// rewritten or replaced.
fn meta_print(path: &Path) -> Option<String> {
    print_of(&std::fs::metadata(path).ok()?)
}

/// [`meta_print`] of metadata already read.
fn print_of(m: &std::fs::Metadata) -> Option<String> {
    let mtime = m
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    #[cfg(unix)]
    let ino = std::os::unix::fs::MetadataExt::ino(m);
    #[cfg(not(unix))]
    let ino = 0u64;
    let kind = if m.is_dir() { "dir" } else { "file" };
    Some(format!("{kind}:{}:{mtime}:{ino}", m.len()))
}

/// A path's fingerprint now (`missing` when it is gone).
fn fingerprint(path: &Path, project: &Path) -> String {
    // One stat per path: the fingerprint and whether to hash come from it.
    let Some((meta, small)) = std::fs::metadata(path)
        .ok()
        .and_then(|m| Some((print_of(&m)?, m.is_file() && m.len() <= HASHED_UP_TO)))
    else {
        return "missing".into();
    };
    if small
        && path.starts_with(project)
        && let Ok(bytes) = std::fs::read(path)
    {
        return format!("sha256:{}", hex(&Sha256::digest(&bytes)));
    }
    meta
}

fn file_of(key: &Key) -> PathBuf {
    key.folder.join(format!("{}.json", key.digest))
}

/// The kept answer for `key`, when everything it read is as it was.
pub fn find(key: &Key) -> Option<String> {
    let text = std::fs::read_to_string(file_of(key)).ok()?;
    let entry: Entry = serde_json::from_str(&text).ok()?;
    if entry.schema != SCHEMA {
        return None;
    }
    let unchanged = entry
        .read
        .iter()
        .all(|(path, print)| &fingerprint(Path::new(path), &key.project) == print);
    unchanged.then_some(entry.answer)
}

/// What a run that printed `answer` would have given, for the code that
/// reads the probe's output (`marker` is this run's).
pub fn as_ran(marker: &str, answer: &str) -> Ran {
    Ran {
        success: true,
        code: Some(0),
        stdout: format!("\n{marker}{answer}\n"),
        stderr: String::new(),
        cut: false,
    }
}

/// Keeps `answer` (the probe's JSON line) under `key`, with the
/// fingerprints of what it read. An answer that does not say what it read
/// (a Python older than 3.8 has no audit hooks) is not kept. Failures to
/// write are ignored: the cache only saves time.
pub fn keep(key: &Key, answer: &str) {
    let Ok(Said { read: Some(read) }) = serde_json::from_str::<Said>(answer) else {
        return;
    };
    if read.files.is_empty() {
        return;
    }
    let mut paths: Vec<&String> = read.files.iter().chain(&read.dirs).collect();
    paths.sort();
    paths.dedup();
    let entry = Entry {
        schema: SCHEMA.into(),
        read: paths
            .into_iter()
            .map(|p| (p.clone(), fingerprint(Path::new(p), &key.project)))
            .collect(),
        answer: answer.to_string(),
    };
    if private_folder(&key.folder).is_err() {
        return;
    }
    let text = serde_json::to_string(&entry).expect("an entry serializes");
    if write_whole(&key.folder, &file_of(key), text.as_bytes()).is_ok() {
        prune(&key.folder);
    }
}

/// Writes `file` in `dir` whole or not at all: a reader in another run sees
/// the old answer or the new one. The folder is the cache's own (private,
/// only regular files), so a temporary file renamed over it is all it takes.
fn write_whole(dir: &Path, file: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(contents)?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// The cache's folder, readable by its owner only.
fn private_folder(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Removes the oldest answers beyond [`KEEP`].
fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    if files.len() <= KEEP {
        return;
    }
    files.sort();
    for (_, path) in &files[..files.len() - KEEP] {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start<'a>(python: &'a Path, project: &'a Path, env: &'a [(String, String)], code: LearnerCode) -> Start<'a> {
        Start {
            python,
            project,
            dir: project,
            args: &["-c", "print(1)"],
            env,
            volatile: &["NONCE"],
            code,
            folder: Some(project),
            inherits: false,
        }
    }

    #[test]
    fn the_key_follows_the_interpreter_the_environment_and_whose_code() {
        let dir = tempfile::tempdir().unwrap();
        let python = dir.path().join("python");
        std::fs::write(&python, "#!/bin/sh\n").unwrap();
        let env = vec![
            ("A".to_string(), "1".to_string()),
            ("NONCE".to_string(), "x".to_string()),
        ];
        let key = |env: &[(String, String)], code| Key::new(&start(&python, dir.path(), env, code)).unwrap().digest;
        let base = key(&env, LearnerCode::Own);
        let other_nonce = vec![env[0].clone(), ("NONCE".to_string(), "y".to_string())];
        assert_eq!(key(&other_nonce, LearnerCode::Own), base, "the nonce is not part of it");
        let other_value = vec![("A".to_string(), "2".to_string())];
        assert_ne!(key(&other_value, LearnerCode::Own), base);
        assert_ne!(key(&env, LearnerCode::Sandboxed), base);
        assert_ne!(key(&env, LearnerCode::Trusted), base);
        assert_ne!(key(&env, LearnerCode::Trusted), key(&env, LearnerCode::Sandboxed));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&python, "#!/bin/sh\n# another interpreter\n").unwrap();
        assert_ne!(key(&env, LearnerCode::Own), base, "a changed interpreter");
        assert!(Key::new(&start(&dir.path().join("none"), dir.path(), &env, LearnerCode::Own)).is_none());
    }

    #[test]
    fn inside_the_project_contents_count_outside_size_and_times() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("p");
        std::fs::create_dir(&project).unwrap();
        let inside = project.join("settings.py");
        std::fs::write(&inside, "DEBUG = False\n").unwrap();
        assert!(fingerprint(&inside, &project).starts_with("sha256:"));
        let outside = dir.path().join("lib.py");
        std::fs::write(&outside, "x = 1\n").unwrap();
        assert!(fingerprint(&outside, &project).starts_with("file:6:"));
        assert!(fingerprint(&project, &project).starts_with("dir:"));
        assert_eq!(fingerprint(&dir.path().join("gone"), &project), "missing");
    }
}
