//! The Procfile at the root of the source bundle. When it has a `web`
//! process, Beanstalk runs that command and ignores WSGIPath, so labcheck
//! reads the app the command starts (gunicorn's `module:callable`, with its
//! `--chdir` and `--pythonpath`), as the platform would.

use crate::files::{MAX_FILE, read_text};
use std::path::{Path, PathBuf};

/// The `web` process of a Procfile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Web {
    /// `Procfile:LINE`.
    pub at: String,
    /// The process's command line, as written.
    pub command: String,
    /// The program that serves the app (gunicorn, uvicorn, daphne, ...).
    pub server: String,
    /// `module:callable` as written, when labcheck could find it.
    pub app: Option<String>,
    /// Folders (relative to the bundle root) where the module is looked for:
    /// the working folder first, then `--pythonpath` entries.
    pub bases: Vec<PathBuf>,
    /// Why the app could not be read, when it could not.
    pub unread: Option<String>,
    /// The web process is Django's development server (`manage.py runserver`).
    pub runserver: bool,
}

/// Whether `w` is an ordinary word (not a `;`, `&`, `|` separator).
fn in_word_before(w: &str) -> bool {
    !w.chars().all(|c| matches!(c, ';' | '&' | '|'))
}

/// Splits a command line like a POSIX shell, without expansions.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (Some(_), c) => cur.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                    in_word = true;
                }
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (None, ';' | '&' | '|') => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
                // `&&` and `||` become one separator word.
                match out.last_mut() {
                    Some(w) if !in_word_before(w) => w.push(c),
                    _ => out.push(c.to_string()),
                }
            }
            (None, c) => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

/// gunicorn options that take no value.
const GUNICORN_FLAGS: &[&str] = &[
    "--preload",
    "--reload",
    "--daemon",
    "-D",
    "--capture-output",
    "--enable-stdio-inheritance",
    "--proxy-protocol",
    "--spew",
    "--check-config",
    "--print-config",
    "--initgroups",
    "--no-sendfile",
    "--reuse-port",
    "--strip-header-spaces",
    "--paste",
    "-R",
];

fn is_app(word: &str) -> bool {
    let (module, callable) = word.split_once(':').unwrap_or((word, "application"));
    let ident = |p: &str| !p.is_empty() && p.chars().all(|c| c.is_alphanumeric() || c == '_');
    module.split('.').all(module_part) && callable.split('.').all(|p| ident(p.trim_end_matches("()")))
}

/// A part of a module path as importlib takes it: a folder named
/// `ERP-Template` imports by that name (gunicorn and Django use
/// importlib.import_module), though no `import` statement could name it.
pub fn module_part(p: &str) -> bool {
    !p.is_empty() && !p.starts_with('-') && p.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// Reads the `web` line of a Procfile's text.
pub fn parse(text: &str) -> Option<Web> {
    let (n, command) = text.lines().enumerate().find_map(|(i, l)| {
        let (name, cmd) = l.split_once(':')?;
        (name.trim() == "web").then(|| (i + 1, cmd.trim().to_string()))
    })?;
    let all = words(&command);
    let mut web = Web {
        at: format!("Procfile:{n}"),
        command: command.clone(),
        server: String::new(),
        app: None,
        bases: vec![PathBuf::new()],
        unread: None,
        runserver: false,
    };
    // `cd DIR && SERVER ...`: the folder the server starts in.
    let mut i = 0;
    while i < all.len() {
        let w = all[i].as_str();
        if w == "cd" && i + 1 < all.len() {
            web.bases[0] = web.bases[0].join(&all[i + 1]);
            i += 2;
            continue;
        }
        if !in_word_before(w) || matches!(w, "exec" | "env") || (w.contains('=') && !w.starts_with('-')) {
            i += 1;
            continue;
        }
        break;
    }
    let mut rest: Vec<&str> = all[i.min(all.len())..].iter().map(String::as_str).collect();
    if let Some(end) = rest.iter().position(|w| !in_word_before(w)) {
        rest.truncate(end);
    }
    // `python -m gunicorn ...`
    if rest.len() >= 3 && rest[0].starts_with("python") && rest[1] == "-m" {
        rest.remove(0);
        rest.remove(0);
    }
    let Some(program) = rest.first() else {
        web.unread = Some("the web process runs no command".into());
        return Some(web);
    };
    let server = Path::new(program)
        .file_name()
        .map(|f| f.to_string_lossy().to_string())
        .unwrap_or_default();
    web.server = server.clone();
    let args = &rest[1..];
    // `python manage.py runserver`, `./manage.py runserver`, `django-admin runserver`.
    let manage = |w: &str| w.ends_with("manage.py") || w == "django-admin" || w == "django-admin.py";
    let runs_manage = manage(program) || server.starts_with("python") && args.first().is_some_and(|a| manage(a));
    if runs_manage && rest.contains(&"runserver") {
        web.runserver = true;
        web.server = "manage.py runserver".into();
        return Some(web);
    }
    match server.as_str() {
        "gunicorn" => {
            let mut positional = Vec::new();
            let mut k = 0;
            while k < args.len() {
                let a = args[k];
                let (name, inline) = match a.split_once('=') {
                    Some((n, v)) if a.starts_with("--") => (n, Some(v)),
                    _ => (a, None),
                };
                if !a.starts_with('-') {
                    positional.push(a);
                    k += 1;
                    continue;
                }
                if GUNICORN_FLAGS.contains(&name) {
                    k += 1;
                    continue;
                }
                let value = match inline {
                    Some(v) => v,
                    None => {
                        k += 1;
                        args.get(k).copied().unwrap_or("")
                    }
                };
                match name {
                    "--chdir" => web.bases[0] = web.bases[0].join(value),
                    "--pythonpath" => {
                        for p in value.split(',').filter(|p| !p.is_empty()) {
                            web.bases.push(PathBuf::from(p));
                        }
                    }
                    "-c" | "--config" if positional.is_empty() => {
                        web.unread = Some(format!("gunicorn reads its settings from {value}"));
                    }
                    _ => {}
                }
                k += 1;
            }
            match positional.first() {
                Some(app) if is_app(app) => {
                    web.app = Some(app.to_string());
                    web.unread = None;
                }
                Some(other) => web.unread = Some(format!("gunicorn's argument {other} is not a module:callable")),
                None if web.unread.is_some() => {}
                None => web.unread = Some("gunicorn is given no module:callable".into()),
            }
        }
        "uvicorn" | "daphne" | "hypercorn" => {
            let app = args
                .iter()
                .enumerate()
                .find(|(k, a)| {
                    !a.starts_with('-')
                        && (*k == 0 || !args[k - 1].starts_with('-') || args[k - 1].contains('='))
                        && a.contains(':')
                        && is_app(a)
                })
                .map(|(_, a)| a.to_string());
            match app {
                Some(a) => web.app = Some(a),
                None => web.unread = Some(format!("labcheck cannot tell which app {server} serves")),
            }
        }
        _ => web.unread = Some(format!("the web process runs {server}, which labcheck does not read")),
    }
    Some(web)
}

/// The Procfile of the bundle, if it has a `web` process. Errors name the
/// file and why it could not be read.
pub fn read(bundle: &Path) -> Result<Option<Web>, String> {
    let path = bundle.join("Procfile");
    if !path.exists() {
        return Ok(None);
    }
    let text = read_text(&path, MAX_FILE).map_err(|e| format!("Procfile: cannot read: {e}"))?;
    Ok(parse(&text.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gunicorn_lines_are_read_as_the_platform_would() {
        let w = parse("web: gunicorn --bind :8000 --workers 3 --threads 2 mysite.wsgi:application\n").unwrap();
        assert_eq!((w.at.as_str(), w.server.as_str()), ("Procfile:1", "gunicorn"));
        assert_eq!(w.app.as_deref(), Some("mysite.wsgi:application"));
        assert_eq!(w.bases, vec![PathBuf::new()]);
        let w = parse("release: python manage.py migrate\nweb: gunicorn --chdir=src -w 2 --pythonpath lib,vendor --preload config.wsgi\n").unwrap();
        assert_eq!(w.at, "Procfile:2");
        assert_eq!(w.app.as_deref(), Some("config.wsgi"));
        assert_eq!(
            w.bases,
            vec![PathBuf::from("src"), PathBuf::from("lib"), PathBuf::from("vendor")]
        );
        let w = parse("web: cd backend && exec gunicorn 'core.wsgi:application' -b 0.0.0.0:8000\n").unwrap();
        assert_eq!(w.app.as_deref(), Some("core.wsgi:application"));
        assert_eq!(w.bases, vec![PathBuf::from("backend")]);
        let w = parse("web: python -m gunicorn app.wsgi\n").unwrap();
        assert_eq!(w.app.as_deref(), Some("app.wsgi"));
        let w = parse("web: gunicorn -c gunicorn.conf.py\n").unwrap();
        assert_eq!(
            (w.app, w.unread.as_deref()),
            (None, Some("gunicorn reads its settings from gunicorn.conf.py"))
        );
        let w = parse("web: daphne -b 0.0.0.0 -p 8000 chat.asgi:application\n").unwrap();
        assert_eq!(w.app.as_deref(), Some("chat.asgi:application"));
        let w = parse("web: uwsgi --http :8000 --module x.wsgi\n").unwrap();
        assert!(w.unread.unwrap().contains("uwsgi"));
        assert_eq!(parse("worker: celery -A x worker\n"), None);
        let w = parse("web: python manage.py runserver 0.0.0.0:$PORT\n").unwrap();
        assert!(w.runserver && w.app.is_none() && w.unread.is_none(), "{w:?}");
        assert!(parse("web: cd src && ./manage.py runserver\n").unwrap().runserver);
        assert!(!parse("web: python -m gunicorn app.wsgi\n").unwrap().runserver);
    }
}
