//! Paths worked out from their text alone, without the file system.

use std::path::{Component, Path, PathBuf};

/// Removes `.` and `..` components without touching the file system: `..`
/// takes off the component before it, stays at the root of an absolute path
/// (`/..` is `/`), and is kept at the start of a relative one (`../x`).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let at_start = matches!(out.components().next_back(), None | Some(Component::ParentDir));
                if at_start {
                    out.push("..");
                } else if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dots_go_without_the_file_system() {
        assert_eq!(normalize(Path::new("/a/b/./../c")), PathBuf::from("/a/c"));
        assert_eq!(
            normalize(Path::new("/a/book/src/./../../quizzes/q.toml")),
            PathBuf::from("/a/quizzes/q.toml")
        );
        assert_eq!(normalize(Path::new("/..")), PathBuf::from("/"));
        assert_eq!(normalize(Path::new("/a/../../b")), PathBuf::from("/b"));
        assert_eq!(normalize(Path::new("../x/./y")), PathBuf::from("../x/y"));
        assert_eq!(normalize(Path::new("a/../../x")), PathBuf::from("../x"));
        assert_eq!(normalize(Path::new("./a")), PathBuf::from("a"));
    }
}
