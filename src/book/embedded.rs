//! The book's sources compiled into the binary: `book.toml`, the chapters
//! and their images, and the theme (the quiz and progress scripts, the
//! style). With the lab and quiz files of [`crate::course::embedded`] they
//! make a course folder, written out where the book is built from, so an
//! installed labcheck builds and serves the same book a checkout does.

use include_dir::{Dir, include_dir};
use std::path::Path;

/// `book/src`: the chapters, `SUMMARY.md` and the images.
static SRC: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/book/src");
/// `book/theme`: the scripts and the style the book ships.
static THEME: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/book/theme");
/// `book/book.toml`.
const BOOK_TOML: &str = include_str!("../../book/book.toml");

/// Every embedded file of the book, as (path relative to the course
/// folder, contents), in a stable order.
pub fn files() -> Vec<(String, &'static [u8])> {
    let mut out = vec![("book/book.toml".to_string(), BOOK_TOML.as_bytes())];
    for (prefix, dir) in [("book/src", &SRC), ("book/theme", &THEME)] {
        collect(dir, prefix, &mut out);
    }
    out.sort();
    out
}

fn collect(dir: &'static Dir<'static>, prefix: &str, out: &mut Vec<(String, &'static [u8])>) {
    for file in dir.files() {
        out.push((format!("{prefix}/{}", file.path().display()), file.contents()));
    }
    for sub in dir.dirs() {
        collect(sub, prefix, out);
    }
}

/// Writes the embedded course into `dir` as a checkout holds it: `labs/`,
/// `quizzes/` and `book/`.
pub fn write_course(dir: &Path) -> std::io::Result<()> {
    let course = crate::course::embedded::LABS
        .iter()
        .chain(crate::course::embedded::QUIZZES)
        .map(|(path, text)| (path.to_string(), text.as_bytes()));
    for (path, contents) in course.chain(files()) {
        let path = dir.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, contents)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    //! The embedded copy is the checkout's book: a file added to `book/`
    //! and not yet compiled in fails here (cargo rebuilds on the next build,
    //! see build.rs).

    use std::path::{Path, PathBuf};

    fn on_disk(root: &Path, rel: &str, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(root.join(rel)).expect("a folder of the book") {
            let entry = entry.expect("an entry");
            let rel = format!("{rel}/{}", entry.file_name().to_string_lossy());
            if entry.file_type().expect("a type").is_dir() {
                on_disk(root, &rel, out);
            } else {
                out.push(rel);
            }
        }
    }

    #[test]
    fn every_file_of_the_book_is_embedded_as_it_is() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let mut expected = vec!["book/book.toml".to_string()];
        on_disk(&root, "book/src", &mut expected);
        on_disk(&root, "book/theme", &mut expected);
        expected.sort();
        let embedded = super::files();
        let names: Vec<String> = embedded.iter().map(|(p, _)| p.clone()).collect();
        assert_eq!(names, expected);
        for (path, contents) in embedded {
            assert_eq!(std::fs::read(root.join(&path)).unwrap(), contents, "{path}");
        }
    }

    #[test]
    fn the_written_course_builds_the_book() {
        let dir = tempfile::tempdir().unwrap();
        super::write_course(dir.path()).unwrap();
        assert!(dir.path().join("labs/deploy-django-eb.md").is_file());
        assert!(dir.path().join("quizzes/media-s3.toml").is_file());
        assert!(dir.path().join("book/src/images/presigned-url.svg").is_file());
        let course = crate::course::Course::from_dir(dir.path(), &crate::checks::kind_ids()).unwrap();
        assert!(!course.quizzes.is_empty());
    }
}
