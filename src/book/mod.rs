//! The book: labcheck's mdBook preprocessor and the in-process build.
//!
//! One preprocessor, used two ways: in process by `labcheck book build|serve`
//! (through mdbook-driver), and as an external command by a reader's own
//! `mdbook build book` (`[preprocessor.labcheck] command = "labcheck mdbook"`,
//! the JSON protocol in [`protocol`]). Both give the same pages.
//!
//! It rewrites each chapter after mdBook's `links` preprocessor (so an
//! `{{#include}}`d lab's check blocks are there):
//!
//! - `{{#quiz PATH}}` (PATH relative to the chapter's file) → an interactive
//!   quiz, its questions embedded as JSON ([`quiz`]);
//! - a ```` ```check ```` block → a callout: the check's title, id, points,
//!   what passes, and `labcheck check ID` ([`lab`]);
//! - `{{#labcheck-reference}}` → a table of every check of the lab, joined
//!   with the check kinds' metadata ([`lab::reference`]);
//! - the end of each step of a lab (a level-2 heading with an `{#id}` whose
//!   section holds check blocks) → a "Check my progress" panel, and one for
//!   the whole lab after the last ([`panel`]): the command in the published
//!   book, a button and the results when `labcheck book serve` serves it
//!   ([`server`]).
//!
//! The book's own sources are built into labcheck too ([`embedded`]), so
//! `labcheck book build|serve` need no checkout; `--course-dir` builds a
//! checkout's.
//!
//! Directives inside code (fenced blocks, `inline code`) are left as they are,
//! so the book can show them.

pub mod embedded;
pub mod lab;
pub mod panel;
pub mod protocol;
pub mod quiz;
pub mod server;

use crate::course::path::normalize;
use anyhow::{Context, bail};
use mdbook_preprocessor::book::{Book, BookItem, Chapter};
use mdbook_preprocessor::{Preprocessor, PreprocessorContext};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};
use regex::Regex;
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// The preprocessor's name, as in `[preprocessor.labcheck]`.
pub const NAME: &str = "labcheck";

/// Why the book could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    #[error(
        "no book in {0}: --course-dir names a checkout of the course (a folder with book/book.toml, \
         labs/ and quizzes/); without it, labcheck builds the book built into it"
    )]
    /// The course folder has no `book/book.toml`.
    NoBook(PathBuf),
    /// The book built into labcheck could not be written out to build it.
    #[error("cannot write the book's sources to {}: {source}", path.display())]
    Write {
        /// The folder.
        path: PathBuf,
        /// What the operating system reported.
        source: std::io::Error,
    },
    /// mdBook failed to build the book.
    #[error("{0:#}")]
    Build(anyhow::Error),
}

/// labcheck's preprocessor.
#[derive(Default)]
pub struct Labcheck;

impl Preprocessor for Labcheck {
    fn name(&self) -> &str {
        NAME
    }

    fn run(&self, ctx: &PreprocessorContext, mut book: Book) -> anyhow::Result<Book> {
        let settings = Settings::from_context(ctx)?;
        // Where each check's callout lands, so the reference can link to it.
        let mut anchors = HashMap::new();
        for chapter in book.chapters() {
            if let Some(path) = &chapter.path {
                for block in check_blocks(&chapter.content) {
                    // A bad block is reported by `rewrite`, with its place.
                    if let Ok(check) = lab::parse_block(&chapter.content, block.range.start, &block.body, "") {
                        anchors.entry(check.id.clone()).or_insert_with(|| html_path(path));
                    }
                }
            }
        }
        let mut errors = Vec::new();
        let mut course = None;
        book.for_each_mut(|item| {
            if let BookItem::Chapter(chapter) = item
                && let Err(e) = rewrite(chapter, &settings, &anchors, &mut course)
            {
                errors.push(e);
            }
        });
        if !errors.is_empty() {
            let all: Vec<String> = errors.iter().map(|e| format!("{e:#}")).collect();
            bail!("{}", all.join("\nerror: "));
        }
        Ok(book)
    }

    fn supports_renderer(&self, renderer: &str) -> anyhow::Result<bool> {
        Ok(supports(renderer))
    }
}

/// Renderers whose output the preprocessor's HTML fits.
pub fn supports(renderer: &str) -> bool {
    renderer == "html"
}

/// What the preprocessor reads from the book: its folders and
/// `[preprocessor.labcheck]` settings.
struct Settings {
    /// The book's `src` folder.
    src: PathBuf,
    /// The course folder (labs/, quizzes/): `course-dir`, default the folder
    /// above the book.
    course_dir: PathBuf,
    /// The lab the reference table lists: `lab`, default deploy-django-eb.
    lab: Option<String>,
}

impl Settings {
    fn from_context(ctx: &PreprocessorContext) -> anyhow::Result<Settings> {
        let course_dir: Option<PathBuf> = ctx
            .config
            .get("preprocessor.labcheck.course-dir")
            .context("book.toml: preprocessor.labcheck.course-dir")?;
        let lab: Option<String> = ctx
            .config
            .get("preprocessor.labcheck.lab")
            .context("book.toml: preprocessor.labcheck.lab")?;
        Ok(Settings {
            src: ctx.root.join(&ctx.config.book.src),
            course_dir: normalize(&ctx.root.join(course_dir.unwrap_or_else(|| PathBuf::from("..")))),
            lab,
        })
    }

    /// A path as shown in messages: relative to the course folder when inside it.
    fn show(&self, path: &Path) -> String {
        let path = normalize(path);
        path.strip_prefix(&self.course_dir)
            .unwrap_or(&path)
            .display()
            .to_string()
    }
}

static QUIZ: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{\{#quiz\s+([^}]*?)\s*\}\}").expect("regex"));
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\{\{#labcheck-reference\s*\}\}").expect("regex"));

/// A fenced ```` ```check ```` block in a chapter.
struct CheckBlock {
    /// The whole block, fences included.
    range: Range<usize>,
    body: String,
}

fn markdown_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
}

fn check_blocks(text: &str) -> Vec<CheckBlock> {
    let mut blocks = Vec::new();
    let mut current: Option<CheckBlock> = None;
    for (event, range) in Parser::new_ext(text, markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                if info.split_whitespace().next() == Some("check") =>
            {
                current = Some(CheckBlock {
                    range,
                    body: String::new(),
                });
            }
            Event::Text(t) if current.is_some() => current.as_mut().expect("some").body.push_str(&t),
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => blocks.extend(current.take()),
            _ => {}
        }
    }
    blocks
}

/// Byte ranges of code (blocks and spans), where directives are not expanded.
fn code_ranges(text: &str) -> Vec<Range<usize>> {
    Parser::new_ext(text, markdown_options())
        .into_offset_iter()
        .filter(|(e, _)| matches!(e, Event::Start(Tag::CodeBlock(_)) | Event::Code(_)))
        .map(|(_, r)| r)
        .collect()
}

fn rewrite(
    chapter: &mut Chapter,
    settings: &Settings,
    anchors: &HashMap<String, String>,
    course: &mut Option<crate::course::Course>,
) -> anyhow::Result<()> {
    let text = &chapter.content;
    let source = chapter
        .source_path
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("{}.md", chapter.name)));
    let here = format!("chapter `{}` ({})", chapter.name, source.display());
    let line_of = |offset: usize| text[..offset].matches('\n').count() + 1;
    let code = code_ranges(text);
    let in_code = |r: &Range<usize>| code.iter().any(|c| c.start <= r.start && r.end <= c.end);
    let mut edits: Vec<(Range<usize>, String)> = Vec::new();

    let mut checks = Vec::new();
    for block in check_blocks(text) {
        let check = lab::parse_block(text, block.range.start, &block.body, &source.display().to_string())
            .map_err(|d| anyhow::anyhow!("{here}, line {}: bad check block:\n{d}", line_of(block.range.start)))?;
        edits.push((
            block.range.clone(),
            block_html(text, &block.range, &lab::callout(&check)),
        ));
        checks.push((block.range.start, check.points));
    }
    edits.extend(progress_panels(text, &checks));
    for m in QUIZ.captures_iter(text) {
        let whole = m.get(0).expect("match");
        if in_code(&whole.range()) {
            continue;
        }
        let target = m[1].trim();
        let dir = source.parent().unwrap_or(Path::new(""));
        let path = settings.src.join(dir).join(target);
        let shown = settings.show(&path);
        let quiz = quiz::load(&path, &shown)
            .map_err(|e| anyhow::anyhow!("{here}, line {}: {{{{#quiz {target}}}}}: {e}", line_of(whole.start())))?;
        edits.push((whole.range(), block_html(text, &whole.range(), &quiz::html(&quiz))));
    }
    for m in REFERENCE.find_iter(text) {
        if in_code(&m.range()) {
            continue;
        }
        if course.is_none() {
            let loaded =
                crate::course::Course::from_dir(&settings.course_dir, &crate::checks::kind_ids()).map_err(|e| {
                    anyhow::anyhow!(
                        "{here}: {{{{#labcheck-reference}}}} cannot load the course in {}:\n{e}",
                        settings.course_dir.display()
                    )
                })?;
            *course = Some(loaded);
        }
        let lab = course
            .as_ref()
            .expect("loaded")
            .lab(settings.lab.as_deref())
            .map_err(|e| anyhow::anyhow!("{here}: {{{{#labcheck-reference}}}}: {e}"))?;
        let from = chapter.path.as_deref().map(html_path).unwrap_or_default();
        let links: HashMap<String, String> = anchors
            .iter()
            .map(|(id, page)| (id.clone(), relative_link(&from, page)))
            .collect();
        edits.push((m.range(), block_html(text, &m.range(), &lab::reference(lab, &links))));
    }

    if edits.is_empty() {
        return Ok(());
    }
    edits.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0;
    for (range, html) in edits {
        if range.start < at {
            continue; // overlapping (a directive inside a check block): the block wins
        }
        out.push_str(&text[at..range.start]);
        out.push_str(&html);
        at = range.end;
    }
    out.push_str(&text[at..]);
    chapter.content = out;
    Ok(())
}

/// "Check my progress" panels ([`panel`]): one at the end of each step
/// section holding some of `checks` (each check block's offset and points),
/// and one for the whole lab after the last of them.
fn progress_panels(text: &str, checks: &[(usize, u32)]) -> Vec<(Range<usize>, String)> {
    let mut edits = Vec::new();
    let (mut all, mut all_points, mut last) = (0, 0, None);
    for section in panel::sections(text) {
        let inside: Vec<u32> = checks
            .iter()
            .filter(|(at, _)| section.range.contains(at))
            .map(|(_, points)| *points)
            .collect();
        if inside.is_empty() {
            continue;
        }
        let points = inside.iter().sum();
        let scope = panel::Scope::Step {
            id: &section.id,
            title: &section.title,
        };
        let at = section.range.end;
        edits.push((at..at, format!("\n\n{}\n\n", panel::html(&scope, inside.len(), points))));
        (all, all_points, last) = (all + inside.len(), all_points + points, Some(at));
    }
    if let Some(at) = last {
        edits.push((
            at..at,
            format!("{}\n\n", panel::html(&panel::Scope::Lab, all, all_points)),
        ));
    }
    edits
}

/// Places an HTML block where `range` was: later lines get the indentation
/// of the first (inside a list item or a block quote), and a blank line
/// follows, so Markdown after it is Markdown again.
fn block_html(text: &str, range: &Range<usize>, html: &str) -> String {
    let line_start = text[..range.start].rfind('\n').map_or(0, |i| i + 1);
    let prefix: String = text[line_start..range.start]
        .chars()
        .map(|c| if c == '>' { '>' } else { ' ' })
        .collect();
    let mut out = html.replace('\n', &format!("\n{prefix}"));
    out.push('\n');
    out.push_str(prefix.trim_end());
    out.push('\n');
    if !text[..range.end].ends_with('\n') && !text[range.end..].starts_with('\n') {
        out.push_str(&prefix);
    }
    out
}

/// `lab.md` → `lab.html`, with `/` separators.
fn html_path(path: &Path) -> String {
    let mut s = path.with_extension("html").to_string_lossy().replace('\\', "/");
    if s.ends_with("/README.html") || s == "README.html" {
        s.replace_range(s.len() - "README.html".len().., "index.html");
    }
    s
}

/// A link from page `from` to page `to` (both relative to the book's root).
fn relative_link(from: &str, to: &str) -> String {
    let depth = from.matches('/').count();
    format!("{}{to}", "../".repeat(depth))
}

/// Escapes text for HTML content and attribute values (one escaper for
/// every page labcheck writes).
pub use crate::report::html::escape;

/// Builds the book built into labcheck ([`embedded`]) into `dest`: its
/// sources are written to a temporary folder and built from there, as a
/// checkout's are. Returns the folder the HTML went to.
pub fn build_embedded(dest: &Path) -> Result<PathBuf, BookError> {
    let dest = std::path::absolute(dest).map_err(|source| BookError::Write {
        path: dest.to_path_buf(),
        source,
    })?;
    let sources = tempfile::Builder::new()
        .prefix("labcheck-book-src-")
        .tempdir()
        .map_err(|source| BookError::Write {
            path: std::env::temp_dir(),
            source,
        })?;
    embedded::write_course(sources.path()).map_err(|source| BookError::Write {
        path: sources.path().to_path_buf(),
        source,
    })?;
    build(sources.path(), Some(&dest))
}

/// Builds the book of the course in `course_dir` (its `book/` folder) with
/// the preprocessor in process; returns the folder the HTML went to.
pub fn build(course_dir: &Path, dest: Option<&Path>) -> Result<PathBuf, BookError> {
    let root = course_dir.join("book");
    if !root.join("book.toml").is_file() {
        return Err(BookError::NoBook(course_dir.to_path_buf()));
    }
    let mut book = mdbook_driver::MDBook::load(&root).map_err(BookError::Build)?;
    if let Some(dest) = dest {
        let dest = std::path::absolute(dest)
            .with_context(|| format!("bad destination {}", dest.display()))
            .map_err(BookError::Build)?;
        book.config.build.build_dir = dest;
    }
    // Same name as the book.toml entry: replaces the external command in
    // place, so it still runs after `links`.
    book.with_preprocessor(Labcheck);
    book.build().map_err(BookError::Build)?;
    Ok(book.build_dir_for("html"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_check_blocks_and_code() {
        let text = "# T\n\n```check\nid = \"a.b\"\n```\n\nText `{{#quiz x.toml}}`.\n\n```md\n{{#quiz y.toml}}\n```\n";
        let blocks = check_blocks(text);
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].body, "id = \"a.b\"\n");
        assert!(text[blocks[0].range.clone()].starts_with("```check"));
        let code = code_ranges(text);
        let quiz_at = text.find("{{#quiz x").unwrap();
        assert!(code.iter().any(|r| r.contains(&quiz_at)));
        let quiz_at = text.find("{{#quiz y").unwrap();
        assert!(code.iter().any(|r| r.contains(&quiz_at)));
    }

    #[test]
    fn html_blocks_keep_indentation() {
        let text = "- item\n\n  {{#quiz a.toml}}\n- next\n";
        let start = text.find("{{").unwrap();
        let end = text.find("}}").unwrap() + 2;
        let out = block_html(text, &(start..end), "<div>\n</div>");
        assert_eq!(out, "<div>\n  </div>\n\n");
    }

    #[test]
    fn paths() {
        assert_eq!(html_path(Path::new("lab.md")), "lab.html");
        assert_eq!(html_path(Path::new("a/README.md")), "a/index.html");
        assert_eq!(relative_link("ref/x.html", "lab.html"), "../lab.html");
        assert_eq!(
            normalize(Path::new("/a/book/src/./../../quizzes/q.toml")),
            PathBuf::from("/a/quizzes/q.toml")
        );
    }
}
