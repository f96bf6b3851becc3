//! The book: `labcheck book build` on the real book and on a small fixture,
//! quizzes embedded, lab callouts, the checker reference, errors for broken
//! quiz references, the mdBook preprocessor protocol, and the same pages from
//! a reader's own `mdbook build`.

use mdbook_preprocessor::PreprocessorContext;
use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::config::Config;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn fixture() -> PathBuf {
    root().join("tests/fixtures/book")
}

fn labcheck() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labcheck"));
    cmd.env("NO_COLOR", "1");
    cmd
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn build(course: &Path, dest: &Path) -> Output {
    labcheck()
        .arg("book")
        .arg("build")
        .arg("--course-dir")
        .arg(course)
        .arg("--dest")
        .arg(dest)
        .output()
        .unwrap()
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The JSON of every quiz embedded in a page.
fn embedded_quizzes(html: &str) -> Vec<serde_json::Value> {
    let open = "<script type=\"application/json\" class=\"labcheck-quiz-data\">";
    html.split(open)
        .skip(1)
        .map(|rest| {
            let json = &rest[..rest.find("</script>").expect("closed script")];
            serde_json::from_str(json).expect("quiz JSON parses")
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The lab's check ids, from `labcheck list`.
fn check_ids(course: &Path) -> Vec<String> {
    let out = labcheck()
        .args(["list", "--format", "json", "--course-dir"])
        .arg(course)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap().iter())
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_real_book_builds_with_quizzes_callouts_reference_and_search() {
    let dest = tempfile::tempdir().unwrap();
    let out = build(&root(), dest.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dest = dest.path();

    // Every quiz of the course: the page of the same name embeds the quiz
    // file's questions under the file's title.
    let course = labcheck::course::Course::embedded(&labcheck::checks::kind_ids()).unwrap();
    assert!(!course.quizzes.is_empty());
    for q in &course.quizzes {
        let name = q.id.as_str();
        let html = read(dest.join(format!("{name}.html")));
        let quizzes = embedded_quizzes(&html);
        assert_eq!(quizzes.len(), 1, "{name}.html embeds its quiz");
        let quiz = &quizzes[0];
        assert_eq!(quiz["id"], name);
        assert_eq!(quiz["title"], q.title.as_str(), "{name}");
        let file = read(root().join(format!("quizzes/{name}.toml")));
        let expected = file.lines().filter(|l| l.trim() == "[[questions]]").count();
        assert_eq!(quiz["questions"].as_array().unwrap().len(), expected, "{name}");
        assert!(!html.contains("{{#quiz"), "{name}.html has no directive left");
    }

    // The lab page: its title first, then the chapter's note, then the guide.
    let lab = read(dest.join("lab.html"));
    let main = &lab[lab.find("<main>").expect("main")..];
    let title = main.find("<h1").expect("the lab's title");
    let note = main.find("About this chapter").expect("the chapter's note");
    assert!(title < note, "the title comes before the note");
    assert_eq!(main.matches("<h1").count(), 1, "one title");
    assert!(main.contains("What you will build"));

    // The lab page: a callout per check, no raw check block.
    let ids = check_ids(&root());
    assert!(ids.len() >= 20, "{ids:?}");
    assert!(lab.contains("labcheck check s3.cors"));
    for id in &ids {
        assert!(lab.contains(&format!("labcheck check {id}</code>")), "callout for {id}");
    }
    assert_eq!(lab.matches("class=\"labcheck-callout\"").count(), ids.len());
    assert!(!lab.contains("language-check"), "no check block left as code");
    assert!(!lab.contains("kind = "), "no check TOML left");

    // The reference: every check id, its IAM actions, a link to its callout.
    let reference = read(dest.join("checker-reference.html"));
    for id in &ids {
        assert!(
            reference.contains(&format!("<code>{id}</code>")),
            "reference lists {id}"
        );
    }
    assert!(reference.contains("href=\"lab.html#check-s3-cors\""));
    assert!(reference.contains("s3:GetBucketCORS"));
    assert!(reference.contains("yes: run inside the VPC"));
    assert!(!reference.contains("{{#labcheck-reference}}"));

    // The book's own script and style, and the search index, all local.
    let theme: Vec<String> = std::fs::read_dir(dest.join("theme"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(
        theme.iter().any(|f| f.starts_with("quiz") && f.ends_with(".js")),
        "{theme:?}"
    );
    assert!(
        theme.iter().any(|f| f.starts_with("labcheck") && f.ends_with(".css")),
        "{theme:?}"
    );
    assert!(lab.contains("id=\"mdbook-searchbar\""), "search is on");
    let index = std::fs::read_dir(dest)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .find(|f| f.starts_with("searchindex") && f.ends_with(".js"))
        .expect("searchindex*.js (works from file://)");
    assert!(read(dest.join(index)).contains("presigned"));
    for page in ["lab.html", "media-s3.html", "checker-reference.html", "index.html"] {
        let html = read(dest.join(page));
        for attr in ["src=\"http", "href=\"http://fonts", "src=\"//"] {
            assert!(!html.contains(attr), "{page} loads nothing from elsewhere ({attr})");
        }
    }
}

#[test]
fn the_fixture_book_builds_and_leaves_directives_in_code_alone() {
    let dest = tempfile::tempdir().unwrap();
    let out = build(&fixture(), dest.path());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let quiz = read(dest.path().join("quiz.html"));
    let quizzes = embedded_quizzes(&quiz);
    assert_eq!(quizzes.len(), 1);
    assert_eq!(quizzes[0]["title"], "A tiny quiz");
    let q = &quizzes[0]["questions"];
    assert_eq!(q[0]["type"], "MultipleChoice");
    assert_eq!(q[0]["prompt"], "<p>Where do <strong>media</strong> files go?</p>");
    assert_eq!(q[0]["options"].as_array().unwrap().len(), 3);
    assert_eq!(q[1]["accepted"], serde_json::json!(["rediss", "rediss://"]));
    // Markup inside the JSON is escaped, so nothing can close the script early.
    let script = quiz.split("class=\"labcheck-quiz-data\">").nth(1).unwrap();
    assert!(!script[..script.find("</script>").unwrap()].contains('<'));
    assert_eq!(
        q[0]["context"],
        "<p>The instance's disk is replaced on every deploy; <code>&lt;/script&gt;</code> stays text.</p>"
    );
    // In inline code and in a fenced block the directive is shown, not run.
    assert_eq!(quiz.matches("{{#quiz ../../quizzes/mini.toml}}").count(), 2);
    assert!(quiz.contains("<p>Text after the quiz is <em>Markdown</em> again.</p>"));

    let lab = read(dest.path().join("lab.html"));
    assert!(lab.contains("id=\"check-s3-cors\""));
    assert!(lab.contains("labcheck check s3.cors"));
    assert!(lab.contains("1 point<"));
    assert!(lab.contains("runs after <code>s3.bucket</code>"));
    // The callout inside the list item stays inside it.
    let main = &lab[lab.find("<main>").unwrap()..];
    let item = &main[main.find("<li>").unwrap()..main.find("</li>").unwrap()];
    assert!(item.contains("check-s3-cors"), "{item}");

    let reference = read(dest.path().join("reference.html"));
    assert!(reference.contains("<code>s3.bucket</code>") && reference.contains("<code>s3.cors</code>"));
    assert!(reference.contains("href=\"lab.html#check-s3-bucket\""));
}

#[test]
fn a_missing_quiz_fails_the_build_naming_the_chapter_and_the_path() {
    let course = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), course.path());
    let chapter = course.path().join("book/src/quiz.md");
    let text_of = read(&chapter).replace(
        "\n{{#quiz ../../quizzes/mini.toml}}\n",
        "\n{{#quiz ../../quizzes/missing.toml}}\n",
    );
    std::fs::write(&chapter, text_of).unwrap();
    let dest = course.path().join("out");
    let out = build(course.path(), &dest);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("chapter `A quiz` (quiz.md), line 10"), "{all}");
    assert!(all.contains("{{#quiz ../../quizzes/missing.toml}}"), "{all}");
    assert!(all.contains("cannot read quiz quizzes/missing.toml"), "{all}");
}

#[test]
fn an_invalid_quiz_fails_the_build_with_file_and_line() {
    let course = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), course.path());
    let quiz = course.path().join("quizzes/mini.toml");
    let broken = read(&quiz).replace("answer.answer = \"Amazon S3\"\n", "");
    std::fs::write(&quiz, broken).unwrap();
    let out = build(course.path(), &course.path().join("out"));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("chapter `A quiz` (quiz.md)"), "{all}");
    assert!(all.contains("quizzes/mini.toml:3:"), "file:line of the question: {all}");
}

/// The book reads check blocks with the checker's own parser: a block that
/// `labcheck check` would reject (here a misspelt field, which a lenient
/// reader would ignore) fails the build, naming the chapter and the line.
#[test]
fn a_check_block_the_checker_rejects_fails_the_build() {
    let course = tempfile::tempdir().unwrap();
    copy_dir(&fixture(), course.path());
    let lab = course.path().join("labs/deploy-django-eb.md");
    let guide = read(&lab);
    assert!(guide.contains("needs = [\"s3.bucket\"]"), "the fixture has s3.cors");
    std::fs::write(
        &lab,
        guide.replacen("needs = [\"s3.bucket\"]", "needs = [\"s3.bucket\"]\n   pionts = 3", 1),
    )
    .unwrap();
    let out = build(course.path(), &course.path().join("out"));
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("bad check block"), "{all}");
    assert!(all.contains("pionts"), "the unknown field is named: {all}");
}

#[test]
fn a_course_dir_without_a_book_says_so_and_no_course_dir_builds_the_book_built_in() {
    let empty = tempfile::tempdir().unwrap();
    let out = labcheck()
        .args(["book", "build", "--course-dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("names a checkout of the course"), "{all}");
    assert!(all.contains("--course-dir"), "{all}");

    // A learner's folder, with no checkout: the book built into labcheck.
    let out = labcheck()
        .args(["book", "build"])
        .current_dir(empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lab = read(empty.path().join("labcheck-book/lab.html"));
    assert!(lab.contains("id=\"progress-s3\""), "the lab's panels");
    assert!(read(empty.path().join("labcheck-book/media-s3.html")).contains("labcheck-quiz-data"));
}

#[test]
fn the_preprocessor_speaks_the_mdbook_protocol() {
    let supports = |renderer: &str| {
        labcheck()
            .args(["mdbook", "supports", renderer])
            .status()
            .unwrap()
            .code()
    };
    assert_eq!(supports("html"), Some(0));
    assert_eq!(supports("latex"), Some(1));

    let book_root = fixture().join("book");
    let ctx = PreprocessorContext::new(book_root.clone(), Config::default(), "html".to_string());
    let mut book = Book::new();
    book.push_item(Chapter::new(
        "A quiz",
        "# A quiz\n\n{{#quiz ../../quizzes/mini.toml}}\n".to_string(),
        "quiz.md",
        Vec::new(),
    ));
    let input = serde_json::to_vec(&(&ctx, &book)).unwrap();
    let mut child = labcheck()
        .arg("mdbook")
        .current_dir(&book_root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let book: Book = serde_json::from_slice(&out.stdout).expect("a book comes back");
    let BookItem::Chapter(chapter) = &book.items[0] else {
        panic!("a chapter")
    };
    assert!(!chapter.content.contains("{{#quiz"), "{}", chapter.content);
    assert_eq!(embedded_quizzes(&chapter.content)[0]["id"], "mini");

    // Bad input is an error, not a half-written book.
    let mut child = labcheck()
        .arg("mdbook")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"not json").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

/// A reader's `mdbook build book`, with labcheck on PATH as the
/// `labcheck mdbook` preprocessor, gives the same pages as `labcheck book
/// build`: byte for byte, nothing normalized.
#[test]
fn mdbook_build_gives_the_same_pages_as_labcheck_book_build() {
    let version = Command::new("mdbook").arg("--version").output();
    let version = match version {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => panic!(
            "mdbook is not on PATH: run scripts/test, which installs it, or \
             `cargo install mdbook --version 0.5.4 --locked`"
        ),
    };
    assert_eq!(
        version, "mdbook v0.5.4",
        "this test compares with mdBook 0.5.4: `cargo install mdbook --version 0.5.4 --locked`"
    );
    let ours = tempfile::tempdir().unwrap();
    let out = build(&root(), ours.path());
    assert!(out.status.success(), "{}", text(&out));

    let theirs = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_labcheck")).parent().unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin_dir.to_path_buf())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let out = Command::new("mdbook")
        .arg("build")
        .arg(root().join("book"))
        .arg("--dest-dir")
        .arg(theirs.path())
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(out.status.success(), "mdbook build failed:\n{}", text(&out));

    let mut pages: Vec<String> = std::fs::read_dir(ours.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|f| f.ends_with(".html"))
        .collect();
    pages.sort();
    assert!(pages.len() >= 10, "{pages:?}");
    let mut differ = Vec::new();
    for page in &pages {
        let theirs = theirs.path().join(page);
        if !theirs.exists() || read(ours.path().join(page)) != read(&theirs) {
            differ.push(page.clone());
        }
    }
    assert!(
        differ.is_empty(),
        "pages that differ between `labcheck book build` and `mdbook build`: {differ:?}\n\
         (if only the searchindex-*.js name differs, Cargo.lock no longer pins the versions of \
         mdBook 0.5.4's own lock file: elasticlunr-rs 3.0.2, handlebars 6.4.2, pulldown-cmark 0.13.4)"
    );
}
