//! The architecture holds: no cycle between modules. Data flows one way
//! (command → engine → checks → course/report → params/aws); a module that
//! uses a sibling which uses it back is a cycle, and this test names it with
//! the lines that make it.
//!
//! Each crate of the workspace is read from its roots (`lib.rs`, `main.rs`)
//! through its `mod NAME;` declarations; every `crate::…` and `super::…`
//! path outside `#[cfg(test)]` code is a use of the module it names. A use
//! between two modules counts between their ancestors that are siblings
//! (`engine::account` using `aws` is `engine` → `aws`); a module using its
//! own parent or child does not count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type ModPath = Vec<String>;

/// One crate's modules: path → (file, its source without test code).
fn modules(root: &Path) -> BTreeMap<ModPath, (PathBuf, String)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![(Vec::new(), root.to_path_buf())];
    let decl = regex::Regex::new(r"(?m)^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_][a-z0-9_]*)\s*;").unwrap();
    while let Some((path, file)) = todo.pop() {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let text = match text.find("#[cfg(test)]") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        // Children live beside a root or mod.rs, else in a folder named after the file.
        let stem = file.file_stem().unwrap().to_string_lossy().to_string();
        let dir = if path.is_empty() || stem == "mod" {
            file.parent().unwrap().to_path_buf()
        } else {
            file.parent().unwrap().join(&stem)
        };
        for c in decl.captures_iter(&text) {
            let name = c[1].to_string();
            let child = [dir.join(format!("{name}.rs")), dir.join(&name).join("mod.rs")]
                .into_iter()
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("{}: mod {name}; has no file", file.display()));
            let mut p = path.clone();
            p.push(name);
            todo.push((p, child));
        }
        out.insert(path, (file, text));
    }
    out
}

/// The module a path names: its longest prefix that is a module.
fn target(known: &BTreeMap<ModPath, (PathBuf, String)>, path: &[String]) -> ModPath {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains_key(p))
        .unwrap_or_default()
}

/// Every use of one module by another, between sibling ancestors:
/// (from, to) → where (file:line).
fn uses(known: &BTreeMap<ModPath, (PathBuf, String)>) -> BTreeMap<(ModPath, ModPath), String> {
    let path_re =
        regex::Regex::new(r"\b(crate|super(?:::super)*)((?:::[a-z_][a-z0-9_]*)*)(?:::\{([^{}]*)\})?").unwrap();
    let mut edges = BTreeMap::new();
    for (module, (file, text)) in known {
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for c in path_re.captures_iter(code) {
                let mut base: ModPath = if &c[1] == "crate" {
                    Vec::new()
                } else {
                    let ups = c[1].matches("super").count();
                    // `super` in a mod.rs or a leaf file: the parent module.
                    module[..module.len().saturating_sub(ups)].to_vec()
                };
                base.extend(c[2].split("::").filter(|s| !s.is_empty()).map(str::to_string));
                let mut targets = vec![target(known, &base)];
                if let Some(list) = c.get(3) {
                    for item in list.as_str().split(',') {
                        let first = item.trim().split("::").next().unwrap_or("").trim();
                        if !first.is_empty() && first != "self" {
                            let mut p = base.clone();
                            p.push(first.to_string());
                            targets.push(target(known, &p));
                        }
                    }
                }
                for t in targets {
                    let common = module.iter().zip(&t).take_while(|(a, b)| a == b).count();
                    if common == module.len() || common == t.len() {
                        continue; // itself, a parent or a child
                    }
                    let from = module[..=common].to_vec();
                    let to = t[..=common].to_vec();
                    edges
                        .entry((from, to))
                        .or_insert_with(|| format!("{}:{}", file.display(), n + 1));
                }
            }
        }
    }
    edges
}

/// The strongly connected components with more than one module (Tarjan).
fn cycles(edges: &BTreeMap<(ModPath, ModPath), String>) -> Vec<Vec<ModPath>> {
    let nodes: BTreeSet<&ModPath> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let nodes: Vec<&ModPath> = nodes.into_iter().collect();
    let index_of = |m: &ModPath| nodes.iter().position(|n| *n == m).unwrap();
    let mut next: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (a, b) in edges.keys() {
        next[index_of(a)].push(index_of(b));
    }
    struct State {
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        counter: usize,
        found: Vec<Vec<usize>>,
    }
    fn visit(v: usize, next: &[Vec<usize>], s: &mut State) {
        s.index[v] = Some(s.counter);
        s.low[v] = s.counter;
        s.counter += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in &next[v] {
            match s.index[w] {
                None => {
                    visit(w, next, s);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(i) if s.on_stack[w] => s.low[v] = s.low[v].min(i),
                _ => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                s.found.push(scc);
            }
        }
    }
    let n = nodes.len();
    let mut s = State {
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        counter: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(v, &next, &mut s);
        }
    }
    s.found
        .into_iter()
        .map(|scc| scc.into_iter().map(|i| nodes[i].clone()).collect())
        .collect()
}

/// The crate roots of the workspace: each crate's lib.rs and main.rs.
fn roots() -> Vec<PathBuf> {
    let repo = crate::common::repo();
    let mut dirs = vec![repo.join("src")];
    if let Ok(entries) = std::fs::read_dir(repo.join("crates")) {
        dirs.extend(entries.flatten().map(|e| e.path().join("src")));
    }
    dirs.iter()
        .flat_map(|d| [d.join("lib.rs"), d.join("main.rs")])
        .filter(|p| p.is_file())
        .collect()
}

#[test]
fn no_module_uses_a_sibling_that_uses_it_back() {
    let roots = roots();
    assert!(!roots.is_empty());
    let mut report = Vec::new();
    for root in &roots {
        let known = modules(root);
        assert!(
            known.len() > 1 || root.ends_with("main.rs"),
            "{}: no modules found",
            root.display()
        );
        let edges = uses(&known);
        for scc in cycles(&edges) {
            let name = |m: &ModPath| m.join("::");
            let members: BTreeSet<&ModPath> = scc.iter().collect();
            let lines: Vec<String> = edges
                .iter()
                .filter(|((a, b), _)| members.contains(a) && members.contains(b))
                .map(|((a, b), at)| format!("    {} uses {} ({at})", name(a), name(b)))
                .collect();
            report.push(format!(
                "{}: a cycle between {}:\n{}",
                root.display(),
                scc.iter().map(name).collect::<Vec<_>>().join(", "),
                lines.join("\n")
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let known: BTreeMap<ModPath, (PathBuf, String)> = [
        (vec![], "mod a;\nmod b;\n"),
        (vec!["a".to_string()], "use crate::b::thing;\n"),
        (vec!["b".to_string()], "fn f() { super::a::g(); }\n"),
    ]
    .into_iter()
    .map(|(p, t)| (p, (PathBuf::from("x.rs"), t.to_string())))
    .collect();
    let found = cycles(&uses(&known));
    assert_eq!(found.len(), 1, "{found:?}");
}

/// The crates of `crates/`, by package name.
fn workspace_crates() -> Vec<String> {
    let dir = crate::common::repo().join("crates");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

/// What each crate of `crates/` must not depend on, directly or through
/// another crate: none of them on the AWS SDK, and the course's parsers not
/// on an async runtime either.
const BANNED: &[(&str, &[&str])] = &[
    ("labcheck-course", &["aws-", "tokio"]),
    ("labcheck-django", &["aws-"]),
    ("labcheck-outcome", &["aws-"]),
];

#[test]
fn the_crates_pull_in_no_aws_sdk() {
    let crates = workspace_crates();
    let listed: Vec<String> = BANNED.iter().map(|(n, _)| n.to_string()).collect();
    assert_eq!(crates, listed, "every crate of crates/ says what it must not depend on");
    for (name, banned) in BANNED {
        let out = std::process::Command::new(env!("CARGO"))
            .args([
                "tree",
                "--locked",
                "--offline",
                "-e",
                "normal",
                "--prefix",
                "none",
                "-p",
                name,
            ])
            .current_dir(crate::common::repo())
            .output()
            .expect("cargo tree runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains(name),
            "cargo tree -p {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let found: Vec<&str> = text
            .lines()
            .filter(|l| {
                let package = l.split(' ').next().unwrap_or("");
                banned.iter().any(|b| {
                    if b.ends_with('-') {
                        package.starts_with(b)
                    } else {
                        package == *b
                    }
                })
            })
            .collect();
        assert!(found.is_empty(), "{name} depends on: {found:?}");
    }
}
