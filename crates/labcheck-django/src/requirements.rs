//! What pip installs on the Beanstalk instances, from `requirements.txt` at
//! the root of the source bundle, read and judged (the `project.requirements`
//! check reports it).
//!
//! The file is read the way pip reads it: a UTF-8 or UTF-16 byte order mark
//! is honoured (PowerShell's `pip freeze >` writes UTF-16); line
//! continuations are joined, then comments (`#` at the start or after
//! whitespace) removed; `-r` includes (relative to the including file) and
//! `-c` constraints are followed, with cycles stopped, depth and size
//! bounded; `-e`, index and other options pip accepts are accepted; local
//! archives and URLs are named from their file name or `#egg=`; each other
//! line is a PEP 508 specifier (`pep508_rs`), its environment markers
//! evaluated for the platform's Python on Amazon Linux.

use crate::files::{MAX_FILE, ReadError, read_text};
use pep508_rs::pep440_rs::Operator;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, Requirement, VersionOrUrl};
use regex::Regex;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::LazyLock;

/// One requirement, where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Req {
    /// Normalized (PEP 503): lower case, runs of `-_.` as one `-`.
    pub name: String,
    /// As written in the file.
    pub written: String,
    /// The file it is in, as shown.
    pub file: String,
    /// 1-based line (the first of a continued line).
    pub line: usize,
    /// The exact version when pinned with `==` (or `===`), or what a
    /// direct reference (URL, archive) names.
    pub pinned: Option<String>,
    /// The version specifier as written, or `@ URL`.
    pub spec: String,
    /// The environment marker, as written.
    pub marker: Option<String>,
    /// The marker is false on the platform: pip skips the line there.
    pub skipped: bool,
}

/// What the requirement files (and those they include) say.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The requirements, in file order.
    pub reqs: Vec<Req>,
    /// Pins from `-c` constraint files.
    pub constraints: Vec<Req>,
    /// `file:line: ...` problems that make the file wrong.
    pub problems: Vec<String>,
    /// `file:line: ...` lines that were not read as requirements.
    pub ignored: Vec<String>,
    /// Every file read, as shown.
    pub files: Vec<String>,
    /// How each file was encoded, when not plain UTF-8.
    pub encodings: Vec<String>,
}

/// pip's comment rule: `#` at the start of a line or after whitespace.
static COMMENT: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(^|\s+)#.*$").expect("regex"));
/// Per-requirement options pip accepts after a specifier.
static REQ_OPTIONS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\s+(--hash|--config-settings|--global-option|--install-option|-C)\b.*$").expect("regex")
});
/// `name-1.2.3.tar.gz`, `name-1.2.3-py3-none-any.whl`, `name-1.2.3.zip`.
static ARCHIVE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^([A-Za-z0-9][A-Za-z0-9._]*?)-(\d[A-Za-z0-9.+!]*?)(?:-[^/]*)?\.(?:whl|zip|tar\.gz|tgz|tar\.bz2|tbz|tar\.xz|txz|tar)$").expect("regex")
});

/// `name @ URL` (PEP 508 direct reference), with optional extras.
static DIRECT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@").expect("regex"));

/// The Python of the lab's Beanstalk platform (Amazon Linux 2023).
pub const PLATFORM_PYTHON: &str = "3.11";

/// The marker environment of the platform's Python on Amazon Linux.
fn platform(python: &str) -> Option<MarkerEnvironment> {
    let full = format!("{python}.0");
    MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: &full,
        os_name: "posix",
        platform_machine: "x86_64",
        platform_python_implementation: "CPython",
        platform_release: "6.1.0",
        platform_system: "Linux",
        platform_version: "#1 SMP",
        python_full_version: &full,
        python_version: python,
        sys_platform: "linux",
    })
    .ok()
}

/// Options pip accepts in a requirements file that take a value.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--only-binary",
    "--no-binary",
    "--use-feature",
];
/// ... and that take none.
const FLAGS: &[&str] = &["--no-index", "--pre", "--prefer-binary", "--require-hashes"];

/// PEP 503 normalization.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Logical lines (continuations joined, comments gone) with the number of
/// their first physical line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let is_comment = COMMENT.is_match(line);
        if line.ends_with('\\') && !is_comment {
            let part = line.trim_end_matches('\\');
            match &mut pending {
                Some((_, acc)) => acc.push_str(part),
                None => pending = Some((i + 1, part.to_string())),
            }
            continue;
        }
        // pip keeps a comment line that ends a continuation as a comment.
        let line = if is_comment {
            format!(" {line}")
        } else {
            line.to_string()
        };
        match pending.take() {
            Some((n, mut acc)) => {
                acc.push_str(&line);
                out.push((n, acc));
            }
            None => out.push((i + 1, line)),
        }
    }
    if let Some(p) = pending {
        out.push(p);
    }
    out.into_iter()
        .map(|(n, l)| (n, COMMENT.replace(&l, "").trim().to_string()))
        .filter(|(_, l)| !l.is_empty())
        .collect()
}

/// The argument of an option that takes a file (`-r FILE`, `-rFILE`,
/// `--requirement FILE`, `--requirement=FILE`), for `short`/`long`.
fn option_arg<'a>(line: &'a str, short: &str, long: &str) -> Option<&'a str> {
    let rest = if let Some(r) = line.strip_prefix(long) {
        if !(r.starts_with('=') || r.starts_with(char::is_whitespace)) {
            return None;
        }
        r.trim_start_matches('=')
    } else {
        line.strip_prefix(short)?
    };
    let target = rest.trim();
    (!target.is_empty()).then_some(target)
}

/// Nested includes deeper than this are refused.
const MAX_INCLUDE_DEPTH: usize = 8;
/// More included files than this are refused.
const MAX_FILES: usize = 50;

/// The requirements of the bundle, read without complaint (for telling a
/// missing package from a missing app).
pub fn quick(bundle: &Path) -> Vec<Req> {
    let mut parsed = Parsed::default();
    let shown = |p: &Path| p.display().to_string();
    let _ = parse_file(
        &bundle.join("requirements.txt"),
        &shown,
        bundle,
        &mut parsed,
        &mut Vec::new(),
        Kind::Requirements,
    );
    parsed.reqs
}

/// The version of `package` pinned with `==` in the project's
/// requirements.txt (and what it includes), if any.
pub fn pinned_version(project_dir: &Path, package: &str) -> Option<String> {
    let l = crate::layout::find(project_dir);
    let wanted = normalize(package);
    quick(&l.bundle)
        .into_iter()
        .find(|r| r.name == wanted && !r.skipped)
        .and_then(|r| r.pinned)
}

/// What a file given to pip is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Requirements (`-r`, or requirements.txt itself).
    Requirements,
    /// Constraints (`-c`): pins, nothing installed.
    Constraints,
}

/// A requirement named by a local archive, a URL or an editable VCS line.
fn named_reference(target: &str) -> Option<(String, Option<String>)> {
    if let Some(egg) = target.split("#egg=").nth(1) {
        let name = egg.split(['&', '[']).next().unwrap_or(egg);
        let pinned = target.contains('@').then(|| "a VCS reference".to_string());
        return Some((name.to_string(), pinned.or(Some("a direct URL".into()))));
    }
    let file = target.split(['?', '#']).next()?.rsplit('/').next()?;
    let c = ARCHIVE.captures(file)?;
    Some((c[1].to_string(), Some(c[2].to_string())))
}

fn looks_like_path(s: &str) -> bool {
    s.starts_with('.') || s.starts_with('/') || s.starts_with('~') || s.contains('/') || ARCHIVE.is_match(s)
}

/// Reads `file` (and what it includes) into `parsed`. `shown` turns a path
/// into the name used in messages; `bundle` is where pip runs on the
/// instances (local paths are relative to it); `stack` holds the files
/// being read, to stop include cycles.
pub fn parse_file(
    file: &Path,
    shown: &dyn Fn(&Path) -> String,
    bundle: &Path,
    parsed: &mut Parsed,
    stack: &mut Vec<PathBuf>,
    kind: Kind,
) -> Result<(), ReadError> {
    let read = read_text(file, MAX_FILE)?;
    let name = shown(file);
    parsed.files.push(name.clone());
    if read.encoding != "UTF-8" {
        parsed.encodings.push(format!("{name}: {}", read.encoding));
    }
    if read.cut {
        parsed.problems.push(format!(
            "{name} is larger than {} KB: only its beginning was read (the input was cut)",
            MAX_FILE / 1024
        ));
    }
    let env = platform(PLATFORM_PYTHON);
    stack.push(file.canonicalize().unwrap_or_else(|_| file.to_path_buf()));
    for (n, line) in logical_lines(&read.text) {
        let at = format!("{name}:{n}");
        let include = option_arg(&line, "-r", "--requirement")
            .map(|t| (t, Kind::Requirements))
            .or_else(|| option_arg(&line, "-c", "--constraint").map(|t| (t, Kind::Constraints)));
        if let Some((target, include_kind)) = include {
            let include_kind = if kind == Kind::Constraints {
                Kind::Constraints
            } else {
                include_kind
            };
            let path = file.parent().unwrap_or(Path::new(".")).join(target);
            let canonical = path.canonicalize().unwrap_or_else(|_| path.clone());
            if stack.contains(&canonical) {
                parsed.ignored.push(format!(
                    "{at}: includes {target} again (an include cycle): not read twice"
                ));
            } else if stack.len() >= MAX_INCLUDE_DEPTH {
                parsed
                    .problems
                    .push(format!("{at}: includes nest deeper than {MAX_INCLUDE_DEPTH} files"));
            } else if parsed.files.len() >= MAX_FILES {
                parsed.problems.push(format!(
                    "{at}: more than {MAX_FILES} included files: {target} was not read"
                ));
            } else if let Err(e) = parse_file(&path, shown, bundle, parsed, stack, include_kind) {
                parsed
                    .problems
                    .push(format!("{at}: cannot read the included file {target}: {e}"));
            }
            continue;
        }
        let option = line.split(|c: char| c.is_whitespace() || c == '=').next().unwrap_or("");
        if let Some(target) = option_arg(&line, "-e", "--editable") {
            match named_reference(target) {
                Some((written, pinned)) if !looks_like_path(target) || target.contains("#egg=") => {
                    parsed.reqs.push(Req {
                        name: normalize(&written),
                        written,
                        file: name.clone(),
                        line: n,
                        pinned,
                        spec: "@ URL".into(),
                        marker: None,
                        skipped: false,
                    });
                }
                _ => parsed
                    .ignored
                    .push(format!("{at}: -e {target}, installed from the bundle")),
            }
            continue;
        }
        if line.starts_with('-') {
            if OPTIONS_WITH_VALUE.contains(&option)
                || FLAGS.contains(&option)
                || option.starts_with("-i")
                || option.starts_with("-f")
            {
                parsed.ignored.push(format!("{at}: option {option}"));
            } else {
                parsed.problems.push(format!(
                    "{at}: {option} is not an option pip accepts in a requirements file: pip on the instances would stop"
                ));
            }
            continue;
        }
        let spec_text = REQ_OPTIONS.replace(&line, "");
        let spec_text = spec_text.trim();
        let (target, marker_text) = match spec_text.split_once(';') {
            Some((t, m)) if !spec_text.contains(" @ ") && !spec_text.contains("://") => (t.trim(), Some(m.trim())),
            _ => (spec_text, None),
        };
        let named_direct = DIRECT.is_match(target);
        let is_url = !named_direct && (target.contains("://") || target.starts_with("file:"));
        if !named_direct && (is_url || looks_like_path(target)) {
            // A URL, or a local path pip installs from the bundle.
            if !is_url && !target.starts_with('~') {
                let local = if Path::new(target).is_absolute() {
                    PathBuf::from(target)
                } else {
                    bundle.join(target)
                };
                if !local.exists() {
                    parsed.problems.push(format!(
                        "{at}: {target} is not in the source bundle: pip on the instances would stop"
                    ));
                    continue;
                }
            }
            match named_reference(target) {
                Some((written, pinned)) => parsed.reqs.push(Req {
                    name: normalize(&written),
                    written,
                    file: name.clone(),
                    line: n,
                    pinned,
                    spec: format!("@ {target}"),
                    marker: marker_text.map(str::to_string),
                    skipped: false,
                }),
                None => parsed
                    .ignored
                    .push(format!("{at}: {target}, a path or URL that names no package")),
            }
            continue;
        }
        // A requirement is ASCII but for quoted marker values and URLs, and
        // pep508_rs panics when it reports an error past a character of more
        // than one byte (`a; python_version != '3.4'x｢`): such a line is
        // named here instead. (pip would accept one in a quoted marker value
        // or a URL; no real requirements file has one, and a URL is
        // percent-encoded.)
        if let Some((col, c)) = spec_text.char_indices().find(|(_, c)| !c.is_ascii()) {
            let col = spec_text[..col].chars().count() + 1;
            parsed.problems.push(format!(
                "{at}: not a valid requirement (`{}` at column {col} of the requirement: write it in ASCII, and percent-encode a URL)",
                c.escape_debug()
            ));
            continue;
        }
        // pep508_rs panics on a name or an extra that ends in `-`, `.` or `_`
        // when more follows (`django- ==4.2`, `django[bcrypt.]`): those are
        // named here instead.
        let name_end = spec_text
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
            .unwrap_or(spec_text.len());
        let bad_extra = spec_text[name_end..].trim_start().strip_prefix('[').and_then(|extras| {
            let extras = extras.split(']').next().unwrap_or(extras);
            extras
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter_map(|extra| extra.chars().last())
                .find(|c| matches!(c, '.' | '-' | '_'))
        });
        let bad_name = spec_text[..name_end]
            .chars()
            .last()
            .filter(|c| matches!(c, '.' | '-' | '_') && name_end < spec_text.len());
        if let Some(last) = bad_name.or(bad_extra) {
            parsed.problems.push(format!(
                "{at}: not a valid requirement (a package or extra name ends with a letter or digit, not `{last}`)"
            ));
            continue;
        }
        match Requirement::<pep508_rs::VerbatimUrl>::from_str(spec_text) {
            Ok(req) => {
                let (pinned, spec) = match &req.version_or_url {
                    None => (None, String::new()),
                    Some(VersionOrUrl::VersionSpecifier(specs)) => {
                        let pinned = match specs.iter().collect::<Vec<_>>().as_slice() {
                            [one] if matches!(one.operator(), Operator::Equal | Operator::ExactEqual) => {
                                Some(one.version().to_string())
                            }
                            _ => None,
                        };
                        (pinned, specs.to_string())
                    }
                    // A direct reference names one exact artifact.
                    Some(VersionOrUrl::Url(_)) => (Some("a direct URL".to_string()), "@ URL".to_string()),
                };
                let marker = req.marker.contents().map(|m| m.to_string());
                let skipped = env.as_ref().is_some_and(|env| !req.evaluate_markers(env, &[]));
                let written = spec_text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
                    .next()
                    .unwrap_or_default()
                    .to_string();
                let r = Req {
                    name: normalize(req.name.as_ref()),
                    written,
                    file: name.clone(),
                    line: n,
                    pinned,
                    spec,
                    marker,
                    skipped,
                };
                if kind == Kind::Constraints {
                    parsed.constraints.push(r);
                } else {
                    parsed.reqs.push(r);
                }
            }
            Err(e) => {
                let reason = e.message.to_string();
                parsed.problems.push(format!(
                    "{at}: not a valid requirement ({})",
                    reason.lines().next().unwrap_or("")
                ));
            }
        }
    }
    stack.pop();
    Ok(())
}

/// A package the app needs: alternatives that satisfy it, and a note for
/// alternatives outside the lab's default.
struct Needed {
    what: &'static str,
    any_of: &'static [&'static str],
    other_ok: &'static [&'static str],
    other_note: &'static str,
}

const NEEDED: &[Needed] = &[
    Needed {
        what: "django",
        any_of: &["django"],
        other_ok: &[],
        other_note: "",
    },
    Needed {
        what: "gunicorn",
        any_of: &["gunicorn"],
        other_ok: &[],
        other_note: "",
    },
    Needed {
        what: "django-storages",
        any_of: &["django-storages"],
        other_ok: &[],
        other_note: "",
    },
    Needed {
        what: "boto3",
        any_of: &["boto3"],
        other_ok: &[],
        other_note: "",
    },
    Needed {
        what: "redis",
        any_of: &["redis"],
        other_ok: &[],
        other_note: "",
    },
    Needed {
        what: "a MySQL driver (pymysql or mysqlclient)",
        any_of: &["pymysql", "mysqlclient"],
        other_ok: &["psycopg", "psycopg-binary", "psycopg2", "psycopg2-binary"],
        other_note: "is a PostgreSQL driver: fine if your RDS database runs PostgreSQL; the lab uses MySQL",
    },
    Needed {
        what: "pillow",
        any_of: &["pillow"],
        other_ok: &[],
        other_note: "",
    },
];

/// Development tools that must not be installed on the servers.
const DEV_ONLY: &[&str] = &["awsebcli"];

/// Packages that install only on Windows (what `pip freeze` on Windows
/// lists): pip on the Linux instances stops at them, unless a marker
/// keeps them to Windows.
const WINDOWS_ONLY: &[&str] = &["pywin32", "pypiwin32", "pywinpty", "pywin32-ctypes-win"];

/// The requirements judged.
#[derive(Debug, Default, PartialEq)]
pub struct Verdict {
    /// What the lab needs and no requirement installs.
    pub missing: Vec<String>,
    /// What is wrong with the files.
    pub problems: Vec<String>,
    /// The needed packages found pinned, with their versions.
    pub pinned: Vec<String>,
    /// What is worth saying about a package that stands in for a needed one.
    pub notes: Vec<String>,
}

/// Judges what the files say: the packages the lab needs, how they are
/// pinned, and what pip on the instances would stop at.
pub fn judge(parsed: &Parsed) -> Verdict {
    let mut v = Verdict {
        problems: parsed.problems.clone(),
        ..Verdict::default()
    };
    // What pip installs on the platform: lines whose marker is false are
    // skipped there; a constraint's == pin pins an unpinned requirement.
    let reqs: Vec<Req> = parsed
        .reqs
        .iter()
        .filter(|r| !r.skipped)
        .map(|r| {
            let mut r = r.clone();
            if r.pinned.is_none()
                && let Some(c) = parsed
                    .constraints
                    .iter()
                    .find(|c| c.name == r.name && c.pinned.is_some() && !c.skipped)
            {
                r.pinned = c.pinned.clone();
            }
            r
        })
        .collect();
    for need in NEEDED {
        let found: Vec<&Req> = reqs.iter().filter(|r| need.any_of.contains(&r.name.as_str())).collect();
        let found = if found.is_empty() {
            let others: Vec<&Req> = reqs
                .iter()
                .filter(|r| need.other_ok.contains(&r.name.as_str()))
                .collect();
            if let Some(r) = others.first() {
                v.notes.push(format!("{} {}", r.written, need.other_note));
            }
            others
        } else {
            found
        };
        if found.is_empty() {
            v.missing.push(need.what.to_string());
            continue;
        }
        for r in &found {
            match &r.pinned {
                Some(version) => v.pinned.push(format!("{} {version}", r.written)),
                None => {
                    let how = if r.spec.is_empty() {
                        "no version".to_string()
                    } else {
                        r.spec.clone()
                    };
                    v.problems.push(format!(
                        "{}:{}: {} is not pinned ({how}): pin it with ==",
                        r.file, r.line, r.name
                    ));
                }
            }
        }
        // Two different pins of one package make pip stop.
        let mut pins: Vec<(&str, &Req)> = found.iter().filter_map(|r| Some((r.pinned.as_deref()?, *r))).collect();
        pins.dedup_by_key(|(p, _)| *p);
        if let [(a, ra), (b, rb), ..] = pins.as_slice()
            && ra.name == rb.name
        {
            v.problems.push(format!(
                "{} is pinned twice, to {a} ({}:{}) and to {b} ({}:{})",
                ra.name, ra.file, ra.line, rb.file, rb.line
            ));
        }
    }
    for r in &reqs {
        if DEV_ONLY.contains(&r.name.as_str()) {
            v.problems.push(format!(
                "{}:{}: {} is a development tool: remove it",
                r.file, r.line, r.name
            ));
        }
        if WINDOWS_ONLY.contains(&r.name.as_str()) {
            v.problems.push(format!(
                "{}:{}: {} installs only on Windows, so pip on the Linux instances would stop: remove it, or add ; sys_platform == \"win32\"",
                r.file, r.line, r.written
            ));
        }
    }
    v.pinned.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(dir: &Path) -> Parsed {
        let shown = |p: &Path| p.strip_prefix(dir).unwrap().display().to_string();
        let mut parsed = Parsed::default();
        parse_file(
            &dir.join("requirements.txt"),
            &shown,
            dir,
            &mut parsed,
            &mut Vec::new(),
            Kind::Requirements,
        )
        .unwrap();
        parsed
    }

    /// Parses `text` as a project's only `requirements.txt`.
    fn parse_text(text: &str) -> Parsed {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", text);
        parse(dir.path())
    }

    fn write(dir: &Path, name: &str, text: &str) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn names_are_normalized() {
        assert_eq!(normalize("Django_Storages"), "django-storages");
        assert_eq!(normalize("PyMySQL"), "pymysql");
        assert_eq!(normalize("zope.interface"), "zope-interface");
        assert_eq!(normalize("a__-.b"), "a-b");
    }

    #[test]
    fn continuations_comments_markers_extras_and_options() {
        let p = parse_text(
            "# a comment\n\
             --index-url https://pypi.org/simple\n\
             \n\
             Django==5.2.19 \\\n    --hash=sha256:abc \\\n    --hash=sha256:def\n\
             PyMySQL[rsa]==1.2.4 ; python_version >= \"3.8\"  # driver\n\
             gunicorn>=22\n\
             django_storages == 1.14.6\n\
             pillow\n\
             https://example.com/pkg.tar.gz#egg=pkg\n\
             -e .\n\
             boto3 @ https://files.example/boto3-1.0-py3-none-any.whl\n",
        );
        let names: Vec<(&str, usize, Option<&str>)> = p
            .reqs
            .iter()
            .map(|r| (r.name.as_str(), r.line, r.pinned.as_deref()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("django", 4, Some("5.2.19")),
                ("pymysql", 7, Some("1.2.4")),
                ("gunicorn", 8, None),
                ("django-storages", 9, Some("1.14.6")),
                ("pillow", 10, None),
                ("pkg", 11, Some("a direct URL")),
                ("boto3", 13, Some("a direct URL")),
            ]
        );
        assert_eq!(p.reqs[1].marker.as_deref(), Some("python_full_version >= '3.8'"));
        assert_eq!(p.reqs[1].written, "PyMySQL");
        assert_eq!(p.reqs[2].spec, ">=22");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
        assert_eq!(p.ignored.len(), 2, "{:?}", p.ignored);
    }

    #[test]
    fn includes_are_followed_relative_and_cycles_stop() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", "-r reqs/base.txt\ngunicorn==23.0.0\n");
        write(
            dir.path(),
            "reqs/base.txt",
            "Django==5.2\n--requirement=../requirements.txt\n-r more.txt\n",
        );
        write(dir.path(), "reqs/more.txt", "redis==5.0\n-rbase.txt\n");
        let p = parse(dir.path());
        let names: Vec<(&str, &str, usize)> = p
            .reqs
            .iter()
            .map(|r| (r.name.as_str(), r.file.as_str(), r.line))
            .collect();
        assert_eq!(
            names,
            vec![
                ("django", "reqs/base.txt", 1),
                ("redis", "reqs/more.txt", 1),
                ("gunicorn", "requirements.txt", 2)
            ]
        );
        assert_eq!(p.files, vec!["requirements.txt", "reqs/base.txt", "reqs/more.txt"]);
        assert_eq!(
            p.ignored,
            vec![
                "reqs/base.txt:2: includes ../requirements.txt again (an include cycle): not read twice",
                "reqs/more.txt:2: includes base.txt again (an include cycle): not read twice",
            ]
        );
        write(dir.path(), "requirements.txt", "-r missing.txt\n");
        let p = parse(dir.path());
        assert!(
            p.problems[0].starts_with("requirements.txt:1: cannot read the included file missing.txt"),
            "{:?}",
            p.problems
        );
    }

    #[test]
    fn missing_unpinned_and_dev_only_are_named() {
        let v = judge(&parse_text(
            "Django>=5.0\nboto3==1.0\ndjango-storages==1.14\nredis==5.0\npsycopg2-binary==2.9.9\nPillow==10.0\nawsebcli==3.20.10\nnot a requirement!\n",
        ));
        assert_eq!(v.missing, vec!["gunicorn"]);
        assert_eq!(
            v.problems[1..],
            [
                "requirements.txt:1: django is not pinned (>=5.0): pin it with ==".to_string(),
                "requirements.txt:7: awsebcli is a development tool: remove it".to_string(),
            ]
        );
        assert!(
            v.problems[0].starts_with("requirements.txt:8: not a valid requirement"),
            "{:?}",
            v.problems
        );
        assert_eq!(
            v.notes,
            vec![
                "psycopg2-binary is a PostgreSQL driver: fine if your RDS database runs PostgreSQL; the lab uses MySQL"
            ]
        );
    }

    #[test]
    fn a_name_ending_in_a_dash_is_a_problem_not_a_panic() {
        let p =
            parse_text("django- ==4.2\npsycopg2-\0binary==2.9\ndjango[bcrypt.]==5.2\nfra[e0m.\npillow[a_b]==11.0\n");
        assert_eq!(p.problems.len(), 4, "{:?}", p.problems);
        assert!(
            p.problems[0].contains("requirements.txt:1: not a valid requirement"),
            "{:?}",
            p.problems
        );
        assert_eq!(p.reqs.len(), 1);
    }

    #[test]
    fn a_character_outside_ascii_is_a_problem_not_a_panic() {
        let p = parse_text(
            "urllib3==1.26.2; python_version != '3.4'oto3\u{ff62}\u{ffff}zoto==2.0\nDjango==5.2 ; os_name == 'p\u{e9}'\nboto3==1.35\n",
        );
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
        assert!(
            p.problems[0].starts_with("requirements.txt:1: not a valid requirement (`\u{ff62}` at column 45"),
            "{:?}",
            p.problems
        );
        assert!(p.problems[1].starts_with("requirements.txt:2: "), "{:?}", p.problems);
        assert_eq!(p.reqs.len(), 1, "{:?}", p.reqs);
    }

    #[test]
    fn conflicting_pins_are_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "requirements.txt", "Django==5.2\n-r other.txt\n");
        write(dir.path(), "other.txt", "django==5.1\n");
        let v = judge(&parse(dir.path()));
        assert!(
            v.problems
                .contains(&"django is pinned twice, to 5.2 (requirements.txt:1) and to 5.1 (other.txt:1)".to_string()),
            "{v:?}"
        );
    }

    #[test]
    fn the_reference_project_passes() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../labs/pets_project");
        let v = judge(&parse(&dir));
        assert_eq!((v.missing.len(), v.problems.len()), (0, 0), "{v:?}");
        assert_eq!(v.pinned.len(), 7, "{v:?}");
    }
}
