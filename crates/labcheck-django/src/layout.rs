//! Where the project is. The source bundle Beanstalk receives (the folder
//! with `.ebextensions/`, `requirements.txt`, `Procfile`) and the Django
//! project (the folder with `manage.py`) are often not the same folder:
//! manage.py sits in `web/` or `src/app/` below the bundle root. From
//! `project_dir`, labcheck looks for manage.py there and up to two levels
//! below it, and for the bundle root there and up to two levels above it
//! (the nearest folder with `.ebextensions` or a Procfile, not above a git
//! repository's root). Each file is then graded where it is.

use crate::{absolute, shown};
use std::path::{Path, PathBuf};

/// Where the project is: the folder given, the source bundle's root, and
/// the Django project (the folder of manage.py) in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// `project_dir` as given, made absolute.
    pub given: PathBuf,
    /// The root of the source bundle.
    pub bundle: PathBuf,
    /// The folder that holds manage.py, when there is one.
    pub django: Option<PathBuf>,
    /// Other folders below `given` that hold a manage.py.
    pub other_django: Vec<PathBuf>,
}

/// Folders never searched: virtual environments, dependencies, hidden ones.
pub fn skipped_dir(name: &str) -> bool {
    name.starts_with('.')
        || matches!(
            name,
            "venv"
                | "env"
                | "virtualenv"
                | "node_modules"
                | "site-packages"
                | "__pycache__"
                | "static"
                | "staticfiles"
                | "media"
                | "build"
                | "dist"
        )
}

fn is_bundle_root(dir: &Path) -> bool {
    dir.join(".ebextensions").exists() || dir.join("Procfile").is_file()
}

/// Folders under `dir` (depth 1 and 2) that hold manage.py, nearest first.
fn manage_py_below(dir: &Path) -> Vec<PathBuf> {
    let subdirs = |d: &Path| -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(d)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter(|e| !skipped_dir(&e.file_name().to_string_lossy()))
            .map(|e| e.path())
            .take(500)
            .collect();
        out.sort();
        out
    };
    let first = subdirs(dir);
    let second: Vec<PathBuf> = first.iter().flat_map(|d| subdirs(d)).collect();
    first
        .into_iter()
        .chain(second)
        .filter(|d| d.join("manage.py").is_file())
        .collect()
}

/// Finds the bundle root and the Django folder from `given`.
pub fn find(given: &Path) -> Layout {
    let given = absolute(given);
    if given.join("manage.py").is_file() {
        // Run from the Django folder: is the bundle root above it?
        let mut bundle = given.clone();
        if !is_bundle_root(&given) && !given.join(".git").exists() {
            let mut up = given.parent();
            for _ in 0..2 {
                let Some(dir) = up else { break };
                if is_bundle_root(dir) {
                    bundle = dir.to_path_buf();
                    break;
                }
                if dir.join(".git").exists() {
                    break;
                }
                up = dir.parent();
            }
        }
        return Layout {
            given: given.clone(),
            bundle,
            django: Some(given),
            other_django: Vec::new(),
        };
    }
    let mut below = manage_py_below(&given);
    let django = if below.is_empty() { None } else { Some(below.remove(0)) };
    Layout {
        given: given.clone(),
        bundle: given,
        django,
        other_django: below,
    }
}

impl Layout {
    /// The Django folder relative to the bundle ("." when the same).
    pub fn django_shown(&self) -> Option<String> {
        self.django.as_ref().map(|d| shown(d, &self.bundle))
    }

    /// Whether the bundle root and the Django folder differ.
    pub fn split(&self) -> bool {
        self.django.as_ref().is_some_and(|d| *d != self.bundle)
    }

    /// "source bundle /p (Django project in web/)", for messages.
    pub fn describe(&self) -> String {
        match &self.django {
            Some(d) if *d != self.bundle => format!(
                "source bundle {}, Django project (manage.py) in {}/",
                self.bundle.display(),
                shown(d, &self.bundle)
            ),
            Some(_) => format!("project folder {}", self.bundle.display()),
            None => format!("folder {}", self.bundle.display()),
        }
    }

    /// Why there is no Django folder, for the checks that need one.
    pub fn no_django(&self) -> (String, String) {
        (
            format!(
                "no manage.py in {} nor in the folders up to two levels below it: labcheck cannot find the Django project",
                self.given.display()
            ),
            "Run labcheck from your project folder (the one that holds manage.py, or the source bundle above it), or point it there with --set project_dir=PATH.".to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(dir: &Path, rel: &str) {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "").unwrap();
    }

    #[test]
    fn manage_py_below_the_bundle_root_is_found_from_either_folder() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        touch(&root, ".ebextensions/django.config");
        touch(&root, "requirements.txt");
        touch(&root, "web/manage.py");
        touch(&root, "venv/lib/manage.py");
        let from_root = find(&root);
        assert_eq!(from_root.bundle, root);
        assert_eq!(from_root.django, Some(root.join("web")));
        assert_eq!(from_root.django_shown().as_deref(), Some("web"));
        let from_web = find(&root.join("web"));
        assert_eq!(
            from_web,
            Layout {
                given: root.join("web"),
                ..from_root.clone()
            }
        );
        assert!(from_web.split());
    }

    #[test]
    fn two_levels_down_and_the_nearest_wins() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        touch(&root, "Procfile");
        touch(&root, "src/app/manage.py");
        touch(&root, "tools/x/manage.py");
        touch(&root, "src/app/deeper/still/manage.py");
        let l = find(&root);
        assert_eq!(l.django, Some(root.join("src/app")));
        assert_eq!(l.other_django, vec![root.join("tools/x")]);
        // From src/app, the bundle is two levels up.
        assert_eq!(find(&root.join("src/app")).bundle, root);
    }

    #[test]
    fn a_plain_project_is_its_own_bundle_and_git_roots_stop_the_search() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        touch(&root, ".ebextensions/django.config");
        touch(&root, "proj/.git/HEAD");
        touch(&root, "proj/manage.py");
        let l = find(&root.join("proj"));
        assert_eq!(
            (l.bundle.clone(), l.django.clone()),
            (root.join("proj"), Some(root.join("proj")))
        );
        assert!(!l.split());
        let empty = find(&root.join("nothing"));
        assert_eq!(empty.django, None);
    }
}
