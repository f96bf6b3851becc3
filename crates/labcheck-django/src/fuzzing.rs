//! The project step's parsers run on a bundle folder as the checks read it,
//! without the probe (the learner's Python) or an account: the entry points
//! of the fuzz targets (`fuzz/`) and of their regression fixtures. Each
//! returns the messages a report could show, so that a caller can bound them.

use std::path::Path;

/// `requirements.txt` in `bundle` (and what it includes), then the verdict.
pub fn requirements(bundle: &Path) -> Vec<String> {
    let mut parsed = crate::requirements::Parsed::default();
    let shown = |p: &Path| crate::shown(p, bundle);
    let read = crate::requirements::parse_file(
        &bundle.join("requirements.txt"),
        &shown,
        bundle,
        &mut parsed,
        &mut Vec::new(),
        crate::requirements::Kind::Requirements,
    );
    let v = crate::requirements::judge(&parsed);
    let mut out: Vec<String> = read.err().map(|e| e.to_string()).into_iter().collect();
    for r in parsed.reqs.iter().chain(&parsed.constraints) {
        out.push(format!(
            "{}:{}: {} {} {:?} {:?}",
            r.file, r.line, r.written, r.spec, r.pinned, r.marker
        ));
    }
    out.extend(parsed.ignored);
    out.extend(parsed.encodings);
    out.extend(v.problems.into_iter().chain(v.missing).chain(v.pinned).chain(v.notes));
    out
}

/// Every `.ebextensions/*.config` of `bundle`, then what the checks ask of them.
pub fn ebextensions(bundle: &Path) -> Vec<String> {
    let c = crate::ebextensions::read_configs(bundle);
    let layout = crate::layout::find(bundle);
    let mut out = c.errors.clone();
    out.extend(c.ignored.iter().cloned());
    out.extend(c.unreadable.iter().cloned());
    for s in &c.settings {
        out.push(format!("{}: {}:{} = {}", s.at(), s.namespace, s.name, s.value));
    }
    for cmd in &c.commands {
        out.push(format!("{}: {}", cmd.at(), cmd.command));
    }
    out.extend(c.env().iter().map(|s| s.at()));
    out.extend(c.python_path().iter().map(|p| p.display().to_string()));
    out.extend(c.collectstatic().map(|c| c.at()));
    if let Some((path, at)) = crate::ebextensions::wsgi_file(&layout, &c) {
        out.push(format!("{}: {at}", path.display()));
    }
    out
}

/// The `web` process of a Procfile's text, and of the Procfile in `bundle`.
pub fn procfile(text: &str, bundle: &Path) -> Vec<String> {
    let web = |w: crate::procfile::Web| {
        let bases: Vec<String> = w.bases.iter().map(|b| b.display().to_string()).collect();
        format!(
            "{}: {} ({}; {:?}; {bases:?}; {:?})",
            w.at, w.command, w.server, w.app, w.unread
        )
    };
    let mut out: Vec<String> = crate::procfile::parse(text).map(web).into_iter().collect();
    match crate::procfile::read(bundle) {
        Ok(w) => out.extend(w.map(web)),
        Err(e) => out.push(e),
    }
    out
}
