//! What the settings module's own text settles, read without running it:
//! the last value its top level gives `DEBUG`, `SECRET_KEY` and the default
//! database's `ENGINE` and `PASSWORD`, following `from X import *` where it
//! stands. Running the settings tells more, but it is the project's word (its
//! code can print any report); what the text shows plainly — a literal
//! `DEBUG = True`, a literal secret, a SQLite engine — fails whatever the
//! running code says.
//!
//! The reading is Python's own statement structure: logical lines (brackets,
//! strings and continuations joined), their indentation, and literal values
//! (strings, `True`/`False`, dict displays). Anything that could change a
//! name other than a plain top-level assignment — an assignment inside a
//! block, a star import inside `try`, `globals()`, `exec` — makes the name
//! unknown, and the text then settles nothing about it.

use crate::files::{MAX_FILE, read_text};
use crate::shown;
use std::path::{Path, PathBuf};

/// One token of a logical line.
#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A string literal (prefixes dropped); `formatted` for f-strings.
    Str {
        value: String,
        formatted: bool,
    },
    Name(String),
    Open(char),
    Close(char),
    Comma,
    Colon,
    /// `=` alone (not `==`, `<=`, `+=`, ...).
    Assign,
    Other(String),
}

/// A logical line: its first physical line, indentation and tokens (each
/// with its own line).
#[derive(Debug)]
struct Logical {
    line: usize,
    indent: usize,
    tokens: Vec<(Tok, usize)>,
}

/// Splits Python source into logical lines.
fn logical_lines(text: &str) -> Vec<Logical> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut current: Option<Logical> = None;
    let mut depth = 0usize;
    let mut line = 1;
    let mut at_line_start = true;
    let mut column = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\n' {
            line += 1;
            i += 1;
            if depth == 0
                && let Some(l) = current.take()
            {
                out.push(l);
            }
            at_line_start = true;
            column = 0;
            continue;
        }
        if at_line_start && (c == ' ' || c == '\t') {
            column += if c == '\t' { 8 - column % 8 } else { 1 };
            i += 1;
            continue;
        }
        if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        }
        if c == '\\' && chars.get(i + 1) == Some(&'\n') {
            line += 1;
            i += 2;
            at_line_start = false;
            continue;
        }
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let start_line = line;
        let logical = current.get_or_insert_with(|| Logical {
            line: start_line,
            indent: column,
            tokens: Vec::new(),
        });
        at_line_start = false;
        // A name, or the prefix of a string.
        if c.is_alphanumeric() || c == '_' {
            let from = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[from..i].iter().collect();
            let prefix = word.to_ascii_lowercase();
            if matches!(chars.get(i), Some('"' | '\''))
                && ["r", "u", "b", "f", "br", "rb", "fr", "rf"].contains(&prefix.as_str())
            {
                let (tok, next, lines) = string(&chars, i, prefix.contains('r'), prefix.contains('f'));
                logical.tokens.push((tok, start_line));
                line += lines;
                i = next;
            } else {
                logical.tokens.push((Tok::Name(word), start_line));
            }
            continue;
        }
        if c == '"' || c == '\'' {
            let (tok, next, lines) = string(&chars, i, false, false);
            logical.tokens.push((tok, start_line));
            line += lines;
            i = next;
            continue;
        }
        let tok = match c {
            '(' | '[' | '{' => {
                depth += 1;
                Tok::Open(c)
            }
            ')' | ']' | '}' => {
                depth = depth.saturating_sub(1);
                Tok::Close(c)
            }
            ',' => Tok::Comma,
            '=' if chars.get(i + 1) == Some(&'=') => {
                i += 1;
                Tok::Other("==".into())
            }
            '=' => Tok::Assign,
            ':' if chars.get(i + 1) == Some(&'=') => {
                i += 1;
                Tok::Other(":=".into())
            }
            ':' => Tok::Colon,
            _ if "+-*/%&|^<>!@".contains(c) && chars.get(i + 1) == Some(&'=') => {
                i += 1;
                Tok::Other(format!("{c}="))
            }
            _ => Tok::Other(c.to_string()),
        };
        logical.tokens.push((tok, start_line));
        i += 1;
    }
    out.extend(current);
    out
}

/// The string literal starting at the quote `chars[i]`: the token, the
/// index after it, and the newlines it spans.
fn string(chars: &[char], i: usize, raw: bool, formatted: bool) -> (Tok, usize, usize) {
    let q = chars[i];
    let triple = chars.get(i + 1) == Some(&q) && chars.get(i + 2) == Some(&q);
    let mut j = if triple { i + 3 } else { i + 1 };
    let mut value = String::new();
    let mut lines = 0;
    while j < chars.len() {
        let c = chars[j];
        if c == '\\' && j + 1 < chars.len() {
            // Even in a raw string, a backslash keeps the next quote inside.
            if raw {
                value.push(c);
            }
            value.push(chars[j + 1]);
            lines += usize::from(chars[j + 1] == '\n');
            j += 2;
            continue;
        }
        if c == q && (!triple || (chars.get(j + 1) == Some(&q) && chars.get(j + 2) == Some(&q))) {
            j += if triple { 3 } else { 1 };
            return (Tok::Str { value, formatted }, j, lines);
        }
        if c == '\n' {
            lines += 1;
            if !triple {
                break; // unterminated: Python would refuse the file
            }
        }
        value.push(c);
        j += 1;
    }
    (Tok::Str { value, formatted: true }, j, lines)
}

/// A value as far as the text alone tells it.
#[derive(Clone, Debug, PartialEq)]
enum Value {
    Str(String, usize),
    Bool(bool),
    /// A dict display: its literal entries, and whether it has others
    /// (`**spread`, computed keys).
    Dict(Vec<(String, Value)>, bool),
    /// Anything computed.
    Computed,
}

/// Parses the value in `toks` (all of it, or up to a comma or colon at
/// its level): returns it and the index after it.
fn value(toks: &[(Tok, usize)], mut i: usize) -> (Value, usize) {
    let start = i;
    if let Some((Tok::Open('{'), _)) = toks.get(i) {
        let mut entries = Vec::new();
        let mut other = false;
        i += 1;
        loop {
            match toks.get(i) {
                None => return (Value::Computed, i),
                Some((Tok::Close(_), _)) => {
                    i += 1;
                    break;
                }
                Some((Tok::Comma, _)) => i += 1,
                Some((Tok::Other(s), _)) if s == "*" => {
                    other = true;
                    let (_, next) = value(toks, i + 1);
                    i = next.max(i + 1);
                }
                _ => {
                    let (key, next) = value(toks, i);
                    i = next;
                    if let Some((Tok::Colon, _)) = toks.get(i) {
                        let (v, next) = value(toks, i + 1);
                        i = next;
                        match key {
                            Value::Str(k, _) => entries.push((k, v)),
                            _ => other = true,
                        }
                    } else {
                        return (Value::Computed, skip(toks, i));
                    }
                }
            }
        }
        // A dict followed by more (`{...} | x`, `{...}[k]`) is computed.
        return if ends(toks, i) {
            (Value::Dict(entries, other), i)
        } else {
            (Value::Computed, skip(toks, i))
        };
    }
    // Adjacent string literals are one string.
    let mut text = String::new();
    let mut line = 0;
    while let Some((Tok::Str { value, formatted }, l)) = toks.get(i) {
        if *formatted {
            return (Value::Computed, skip(toks, i));
        }
        text.push_str(value);
        if i == start {
            line = *l;
        }
        i += 1;
    }
    if i > start {
        return if ends(toks, i) {
            (Value::Str(text, line), i)
        } else {
            (Value::Computed, skip(toks, i))
        };
    }
    if let Some((Tok::Name(n), _)) = toks.get(i)
        && (n == "True" || n == "False")
        && ends(toks, i + 1)
    {
        return (Value::Bool(n == "True"), i + 1);
    }
    (Value::Computed, skip(toks, i))
}

/// Whether a value ends at `i` (the line's end, or a comma, colon or
/// closing bracket of its level).
fn ends(toks: &[(Tok, usize)], i: usize) -> bool {
    matches!(toks.get(i), None | Some((Tok::Comma | Tok::Colon | Tok::Close(_), _)))
}

/// The index of the comma, colon or closing bracket that ends the value
/// starting at `i`.
fn skip(toks: &[(Tok, usize)], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some((t, _)) = toks.get(i) {
        match t {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) if depth == 0 => return i,
            Tok::Close(_) => depth -= 1,
            Tok::Comma | Tok::Colon if depth == 0 => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// What the text says of one fact so far.
#[derive(Clone, Debug, Default, PartialEq)]
enum Known {
    /// Nothing assigns it (Django's default applies).
    #[default]
    Unset,
    /// The last top-level assignment gives this literal, at `file:line`.
    Literal(Value, String),
    /// Computed, or possibly changed where the text cannot tell.
    Unknown,
}

/// The facts the text settles.
#[derive(Debug, Default)]
struct Facts {
    debug: Known,
    secret_key: Known,
    engine: Known,
    password: Known,
}

/// Names whose use can change any setting behind the text's back.
const DYNAMIC: &[&str] = &["exec", "eval", "globals", "locals", "vars", "setattr", "__dict__"];

impl Facts {
    fn forget_all(&mut self) {
        *self = Facts {
            debug: Known::Unknown,
            secret_key: Known::Unknown,
            engine: Known::Unknown,
            password: Known::Unknown,
        };
    }

    fn forget(&mut self, name: &str) {
        match name {
            "DEBUG" => self.debug = Known::Unknown,
            "SECRET_KEY" => self.secret_key = Known::Unknown,
            "DATABASES" => {
                self.engine = Known::Unknown;
                self.password = Known::Unknown;
            }
            _ => {}
        }
    }

    fn assign(&mut self, name: &str, v: Value, at: &dyn Fn(usize) -> String, line: usize) {
        let literal = |v: Value, line: usize| Known::Literal(v, at(line));
        match (name, v) {
            ("DEBUG", v @ Value::Bool(_)) => self.debug = literal(v, line),
            ("SECRET_KEY", Value::Str(s, l)) => self.secret_key = literal(Value::Str(s, l), l),
            ("DATABASES", Value::Dict(entries, _)) => {
                let default = entries.iter().rev().find(|(k, _)| k == "default").map(|(_, v)| v);
                let field = |name: &str| match default {
                    Some(Value::Dict(fields, other)) => match fields.iter().rev().find(|(k, _)| k == name) {
                        Some((_, Value::Str(s, l))) => Known::Literal(Value::Str(s.clone(), *l), at(*l)),
                        Some(_) => Known::Unknown,
                        None if *other => Known::Unknown,
                        None => Known::Unset,
                    },
                    Some(_) => Known::Unknown,
                    None => Known::Unset,
                };
                self.engine = field("ENGINE");
                self.password = field("PASSWORD");
            }
            (name, _) => self.forget(name),
        }
    }
}

/// The file of `module` under `root`, if it is there.
pub fn module_file(root: &Path, module: &str) -> Option<PathBuf> {
    let base = root.join(module.replace('.', "/"));
    [base.with_extension("py"), base.join("__init__.py")]
        .into_iter()
        .find(|p| p.is_file())
}

const TRACKED: &[&str] = &["DEBUG", "SECRET_KEY", "DATABASES"];

/// The settings' text, read from `module`'s file under `django`.
#[derive(Debug, Default)]
pub struct Reading {
    /// The files read, in the order Python would import them.
    pub files: Vec<PathBuf>,
    facts: Facts,
}

/// Reads `module` and what it star-imports from the project.
pub fn read(django: &Path, module: &str) -> Reading {
    let mut r = Reading::default();
    walk(django, module, &mut r);
    r
}

fn walk(django: &Path, module: &str, r: &mut Reading) {
    let Some(file) = module_file(django, module) else {
        // Not in the project: a package's module (or none); it could set anything.
        r.facts.forget_all();
        return;
    };
    if r.files.contains(&file) || r.files.len() > 20 {
        return;
    }
    r.files.push(file.clone());
    let text = read_text(&file, MAX_FILE).map(|t| t.text).unwrap_or_default();
    let package: Vec<&str> = {
        let parts: Vec<&str> = module.split('.').collect();
        if file.ends_with("__init__.py") {
            parts
        } else {
            parts[..parts.len() - 1].to_vec()
        }
    };
    let name = shown(&file, django);
    let at = |line: usize| format!("{name}:{line}");
    for l in logical_lines(&text) {
        let toks = &l.tokens;
        if toks
            .iter()
            .any(|(t, _)| matches!(t, Tok::Name(n) if DYNAMIC.contains(&n.as_str())))
        {
            r.facts.forget_all();
            continue;
        }
        let first = toks.first().map(|(t, _)| t);
        // `from X import *` / `from X import NAME`.
        if first == Some(&Tok::Name("from".into())) {
            let Some(import) = toks.iter().position(|(t, _)| *t == Tok::Name("import".into())) else {
                continue;
            };
            let star = toks.get(import + 1).map(|(t, _)| t) == Some(&Tok::Other("*".into()));
            if !star {
                for (t, _) in &toks[import + 1..] {
                    if let Tok::Name(n) = t {
                        r.facts.forget(n);
                    }
                }
                continue;
            }
            if l.indent > 0 {
                r.facts.forget_all();
                continue;
            }
            let target: String = toks[1..import]
                .iter()
                .map(|(t, _)| match t {
                    Tok::Name(n) => n.clone(),
                    Tok::Other(o) => o.clone(),
                    _ => String::new(),
                })
                .collect();
            let dots = target.chars().take_while(|c| *c == '.').count();
            let rest = &target[dots..];
            let full = if dots == 0 {
                rest.to_string()
            } else {
                let keep = package.len().saturating_sub(dots - 1);
                let mut parts: Vec<&str> = package[..keep].to_vec();
                if !rest.is_empty() {
                    parts.push(rest);
                }
                parts.join(".")
            };
            walk(django, &full, r);
            continue;
        }
        // Every name bound by an assignment on this line (`A = B = v`,
        // `A: T = v`, `A += v`, `A[k] = v`, `A.x = v`).
        let assigns: Vec<usize> = top_level(toks, |t| *t == Tok::Assign);
        let augmented = top_level(toks, |t| matches!(t, Tok::Other(o) if o.ends_with('=') && o != "=="));
        let targets: Vec<&[(Tok, usize)]> = {
            let mut from = 0;
            let mut out = Vec::new();
            for &a in &assigns {
                out.push(&toks[from..a]);
                from = a + 1;
            }
            out
        };
        for t in &targets {
            let Some((Tok::Name(n), _)) = t.first() else { continue };
            if !TRACKED.contains(&n.as_str()) {
                continue;
            }
            let plain = t.len() == 1 || matches!(t.get(1), Some((Tok::Colon, _)));
            if l.indent > 0 || !plain {
                r.facts.forget(n);
                continue;
            }
            let from = assigns.last().map_or(toks.len(), |a| a + 1);
            let (v, end) = value(toks, from);
            let v = if end == toks.len() { v } else { Value::Computed };
            r.facts.assign(n, v, &at, l.line);
        }
        if let Some(&a) = augmented.first()
            && let Some((Tok::Name(n), _)) = toks.first()
            && a > 0
        {
            r.facts.forget(n);
        }
        // `del NAME`, `NAME.update(...)`, `NAME["default"].update(...)`.
        if first == Some(&Tok::Name("del".into())) {
            for (t, _) in toks {
                if let Tok::Name(n) = t {
                    r.facts.forget(n);
                }
            }
        } else if assigns.is_empty()
            && let Some((Tok::Name(n), _)) = toks.first()
            && toks.len() > 1
        {
            r.facts.forget(n);
        }
    }
}

/// Indexes of the tokens at bracket depth 0 that `pick` picks.
fn top_level(toks: &[(Tok, usize)], pick: impl Fn(&Tok) -> bool) -> Vec<usize> {
    let mut depth = 0usize;
    let mut out = Vec::new();
    for (i, (t, _)) in toks.iter().enumerate() {
        match t {
            Tok::Open(_) => depth += 1,
            Tok::Close(_) => depth = depth.saturating_sub(1),
            _ if depth == 0 && pick(t) => out.push(i),
            _ => {}
        }
    }
    out
}

/// A fault the text shows plainly, whatever running the settings reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    /// What is wrong.
    pub what: FaultKind,
    /// `file:line`, relative to the Django folder.
    pub at: String,
}

/// The kinds of plain faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// `DEBUG = True`.
    DebugTrue,
    /// A secret key written in the text.
    SecretKey,
    /// The database is SQLite.
    Sqlite,
    /// A database password written in the text.
    DatabasePassword,
}

impl Reading {
    /// The plain faults of the settings read.
    pub fn faults(&self) -> Vec<Fault> {
        let f = &self.facts;
        let mut out = Vec::new();
        let mut push = |what, known: &Known, bad: &dyn Fn(&Value) -> bool| {
            if let Known::Literal(v, at) = known
                && bad(v)
            {
                out.push(Fault { what, at: at.clone() });
            }
        };
        push(FaultKind::DebugTrue, &f.debug, &|v| *v == Value::Bool(true));
        push(
            FaultKind::SecretKey,
            &f.secret_key,
            &|v| matches!(v, Value::Str(s, _) if !s.is_empty()),
        );
        push(
            FaultKind::Sqlite,
            &f.engine,
            &|v| matches!(v, Value::Str(s, _) if s.contains("sqlite")),
        );
        push(
            FaultKind::DatabasePassword,
            &f.password,
            &|v| matches!(v, Value::Str(s, _) if !s.is_empty()),
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_all(dir: &Path, files: &[(&str, &str)]) {
        for (name, text) in files {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    }

    fn faults_of(files: &[(&str, &str)], module: &str) -> Vec<(FaultKind, String)> {
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), files);
        read(dir.path(), module)
            .faults()
            .into_iter()
            .map(|f| (f.what, f.at))
            .collect()
    }

    #[test]
    fn literal_faults_at_the_top_level_are_seen() {
        let settings = r#"
import os
DEBUG = True
SECRET_KEY = 'django-insecure-' \
    "abc"
DATABASES = {
    "default": {
        # a comment with "quotes"
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(BASE_DIR, "db.sqlite3"),
        'PASSWORD': """pw""",
    },
}
"#;
        assert_eq!(
            faults_of(&[("mysite/settings.py", settings)], "mysite.settings"),
            vec![
                (FaultKind::DebugTrue, "mysite/settings.py:3".into()),
                (FaultKind::SecretKey, "mysite/settings.py:4".into()),
                (FaultKind::Sqlite, "mysite/settings.py:9".into()),
                (FaultKind::DatabasePassword, "mysite/settings.py:11".into()),
            ]
        );
    }

    #[test]
    fn what_the_text_cannot_settle_is_no_fault() {
        // The reference project: everything read from the environment.
        let reference = include_str!("../../../labs/pets_project/pets_project/settings.py");
        assert_eq!(faults_of(&[("p/settings.py", reference)], "p.settings"), vec![]);
        let cases = [
            // A later plain assignment wins.
            "DEBUG = True\nDEBUG = False\nSECRET_KEY = 'x'\nSECRET_KEY = os.environ['K']\n",
            // Changed inside a block, or computed.
            "DEBUG = True\nif os.environ.get('PROD'):\n    DEBUG = False\n",
            "DEBUG = os.environ.get('DEBUG') == 'True'\nSECRET_KEY = f'{x}'\n",
            "DEBUG = True if X else False\nSECRET_KEY = 'a' + os.environ['B']\n",
            // Changed behind the text's back.
            "DEBUG = True\nglobals().update(load())\n",
            "DEBUG = True\ntry:\n    from .local import *\nexcept ImportError:\n    pass\n",
            "DEBUG = True\nfrom .overrides import DEBUG\n",
            // DATABASES computed, changed, or spread.
            "DATABASES = {'default': dj_database_url.config(default='sqlite:///db')}\n",
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\nDATABASES['default'] = db()\n",
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.sqlite3'}}\nDATABASES.update(x)\n",
            "DATABASES = {'default': {**BASE, 'NAME': 'x'}}\n",
            "DATABASES = {'default': {'ENGINE': 'django.db.backends.mysql', 'PASSWORD': os.environ['P']}}\n",
            "DEBUG: bool = False\nSECRET_KEY = ''\n",
        ];
        for case in cases {
            assert_eq!(faults_of(&[("s.py", case)], "s"), vec![], "{case}");
        }
    }

    #[test]
    fn star_imports_are_read_where_they_stand() {
        let files = [
            ("mysite/__init__.py", ""),
            ("mysite/settings/__init__.py", ""),
            ("mysite/settings/base.py", "DEBUG = True\nSECRET_KEY = 'base-key'\n"),
            (
                "mysite/settings/production.py",
                "from .base import *  # noqa\nDEBUG = False\nfrom mysite.settings.extra import *\n",
            ),
            ("mysite/settings/extra.py", "X = 1\n"),
        ];
        assert_eq!(
            faults_of(&files, "mysite.settings.production"),
            vec![(FaultKind::SecretKey, "mysite/settings/base.py:2".into())]
        );
        let dir = tempfile::tempdir().unwrap();
        write_all(dir.path(), &files);
        let r = read(dir.path(), "mysite.settings.production");
        let names: Vec<String> = r.files.iter().map(|f| shown(f, dir.path())).collect();
        assert_eq!(
            names,
            vec![
                "mysite/settings/production.py",
                "mysite/settings/base.py",
                "mysite/settings/extra.py"
            ]
        );
        // A star import of a module the project does not hold could set anything.
        assert_eq!(
            faults_of(&[("s.py", "DEBUG = True\nfrom elsewhere import *\n")], "s"),
            vec![]
        );
    }

    #[test]
    fn odd_text_does_not_confuse_the_reader() {
        for text in [
            "",
            "DEBUG = (",
            "x = '''unterminated",
            "DEBUG = True \\",
            "{{{{",
            "DATABASES = {'default': {'ENGINE'",
            "é = 'ü'\nDEBUG = True\n",
        ] {
            let _ = faults_of(&[("s.py", text)], "s");
        }
        assert_eq!(
            faults_of(&[("s.py", "é = 'ü'\nDEBUG = True\n")], "s"),
            vec![(FaultKind::DebugTrue, "s.py:2".into())]
        );
    }
}
