//! Lab files: Markdown guides whose `check` code blocks declare the checks.
//!
//! A level-2 heading with an `{#id}` attribute starts a step; a fenced block
//! with info string `check` holds one check's TOML. Parsing is strict: every
//! problem is reported with file, line and column, and a lab with any problem
//! is rejected whole.

use super::diagnostic::{Diagnostic, Diagnostics, LineIndex};
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Deserialize;
use std::collections::{HashMap, HashSet};

/// A parsed, validated lab.
#[derive(Clone, Debug)]
pub struct Lab {
    /// The file stem: `deploy-django-eb` for `labs/deploy-django-eb.md`.
    pub id: String,
    /// The lab's level-1 heading.
    pub title: String,
    /// Where the lab came from, as shown in diagnostics.
    pub file: String,
    /// The steps, in file order.
    pub steps: Vec<Step>,
}

/// One step of a lab: a level-2 heading with an id.
#[derive(Clone, Debug)]
pub struct Step {
    /// The step's `{#id}` attribute.
    pub id: String,
    /// The heading's text.
    pub title: String,
    /// The step's checks, in file order.
    pub checks: Vec<CheckSpec>,
}

/// One check as declared in a lab file.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckSpec {
    /// Unique in the lab, like `s3.cors`; prefixed by the step's id.
    pub id: String,
    /// One line shown for the check.
    pub title: String,
    /// Which check implementation runs it, like `s3.cors` or `command`.
    pub kind: String,
    /// Points the check is worth.
    pub points: u32,
    /// Ids of checks that must pass first; if one does not, this check is skipped.
    pub needs: Vec<String>,
    /// What to look at when the check does not pass; `{param}` placeholders are filled in.
    pub hint: String,
    /// How to put it right; `{param}` placeholders are filled in.
    pub fix: String,
    /// The script of a `command` check.
    pub run: Option<String>,
    /// 1-based line of the block's opening fence.
    pub line: usize,
}

/// The kind of a check that runs the script its `run` field holds: the one
/// kind the lab format itself defines (the others are labcheck's checks).
pub const COMMAND_KIND: &str = "command";

/// The TOML inside a `check` block, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    id: String,
    title: String,
    kind: String,
    #[serde(default = "one")]
    points: u32,
    #[serde(default)]
    needs: Vec<String>,
    hint: String,
    #[serde(default)]
    fix: String,
    run: Option<String>,
}

fn one() -> u32 {
    1
}

/// What the parser needs to know about the rest of labcheck to validate a lab.
pub struct Vocabulary<'a> {
    /// Is this a check kind the binary can run?
    pub is_kind: &'a dyn Fn(&str) -> bool,
    /// All check kinds, to suggest in errors.
    pub kinds: Vec<&'a str>,
    /// Parameter names allowed in `{placeholders}`.
    pub params: &'a [&'a str],
}

impl Lab {
    /// All checks of all steps, in file order.
    pub fn checks(&self) -> impl Iterator<Item = (&Step, &CheckSpec)> {
        self.steps.iter().flat_map(|s| s.checks.iter().map(move |c| (s, c)))
    }

    /// The check with this id, in any step.
    pub fn check(&self, id: &str) -> Option<&CheckSpec> {
        self.checks().map(|(_, c)| c).find(|c| c.id == id)
    }

    /// The step with this id.
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// Parses and validates a lab file. `id` is the lab id (the file stem).
    pub fn parse(id: &str, file: &str, text: &str, vocab: &Vocabulary) -> Result<Lab, Diagnostics> {
        let index = LineIndex::new(text);
        let mut errors = Vec::new();
        let mut title = None;
        let mut steps: Vec<Step> = Vec::new();
        let mut step_ids: HashSet<String> = HashSet::new();
        // Whether the current level-2 section is a step (it has an id).
        let mut in_step = false;

        let options = Options::ENABLE_HEADING_ATTRIBUTES | Options::ENABLE_TABLES;
        let mut events = Parser::new_ext(text, options).into_offset_iter();
        while let Some((event, range)) = events.next() {
            match event {
                Event::Start(Tag::Heading {
                    level, id: heading_id, ..
                }) => {
                    let heading = collect_text(&mut events, |e| matches!(e, Event::End(TagEnd::Heading(_))));
                    match level {
                        HeadingLevel::H1 if title.is_none() => title = Some(heading),
                        HeadingLevel::H2 => match heading_id {
                            Some(step_id) => {
                                let step_id = step_id.to_string();
                                if !step_ids.insert(step_id.clone()) {
                                    errors.push(index.diagnostic_at(
                                        file,
                                        range.start,
                                        format!("duplicate step id `{step_id}`"),
                                    ));
                                }
                                steps.push(Step {
                                    id: step_id,
                                    title: heading,
                                    checks: Vec::new(),
                                });
                                in_step = true;
                            }
                            None => in_step = false,
                        },
                        _ => {}
                    }
                }
                Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info)))
                    if info.split_whitespace().next() == Some("check") =>
                {
                    let body = collect_text(&mut events, |e| matches!(e, Event::End(TagEnd::CodeBlock)));
                    let (fence_line, fence_col) = index.locate(range.start);
                    if !in_step {
                        errors.push(index.diagnostic(
                            file,
                            fence_line,
                            fence_col,
                            "a `check` block must be inside a step (a level-2 heading with an `{#id}` attribute)",
                        ));
                        continue;
                    }
                    let step = steps.last_mut().expect("in_step implies a step");
                    match parse_block(&body, file, &index, fence_line, fence_col) {
                        Ok(raw) => {
                            let spec = raw.into_spec(fence_line);
                            validate_block(&spec, Some(&step.id), vocab, &body, file, &index, &mut errors);
                            step.checks.push(spec);
                        }
                        Err(d) => errors.push(d),
                    }
                }
                _ => {}
            }
        }

        let Some(title) = title else {
            errors.insert(
                0,
                index.diagnostic(file, 1, 1, "a lab file must start with a level-1 heading: its title"),
            );
            return Err(Diagnostics(errors));
        };
        if steps.is_empty() {
            errors.push(index.diagnostic(
                file,
                1,
                1,
                "no steps: a step is a level-2 heading with an `{#id}` attribute",
            ));
        }
        let lab = Lab {
            id: id.to_string(),
            title,
            file: file.to_string(),
            steps,
        };
        validate_lab(&lab, &index, &mut errors);
        if errors.is_empty() {
            Ok(lab)
        } else {
            errors.sort_by_key(|d| (d.line, d.col));
            Err(Diagnostics(errors))
        }
    }
}

/// Parses one `check` block on its own, with the schema and the field checks
/// of [`Lab::parse`]: unknown fields, a missing `hint`, an unknown `kind`,
/// `run` without `command`, unknown `{placeholders}`. What only a whole lab
/// can tell (the step prefix of the id, `needs` that exist, cycles) is left
/// to [`Lab::parse`]. `text` is the whole document the block is in, and
/// `fence_start` the byte offset of its opening fence, so that errors point
/// at the document's line and column. The book's preprocessor uses this for
/// the check blocks of its chapters, so a block the checker would reject
/// does not render either.
pub fn parse_check(
    text: &str,
    fence_start: usize,
    body: &str,
    file: &str,
    vocab: &Vocabulary,
) -> Result<CheckSpec, Diagnostics> {
    let index = LineIndex::new(text);
    let (fence_line, fence_col) = index.locate(fence_start);
    let raw = parse_block(body, file, &index, fence_line, fence_col).map_err(|d| Diagnostics(vec![d]))?;
    let spec = raw.into_spec(fence_line);
    let mut errors = Vec::new();
    validate_block(&spec, None, vocab, body, file, &index, &mut errors);
    if errors.is_empty() {
        Ok(spec)
    } else {
        errors.sort_by_key(|d| (d.line, d.col));
        Err(Diagnostics(errors))
    }
}

impl RawCheck {
    fn into_spec(self, line: usize) -> CheckSpec {
        CheckSpec {
            id: self.id,
            title: self.title,
            kind: self.kind,
            points: self.points,
            needs: self.needs,
            hint: self.hint,
            fix: self.fix,
            run: self.run,
            line,
        }
    }
}

/// Concatenates the text events up to the end event.
fn collect_text<'a>(
    events: &mut impl Iterator<Item = (Event<'a>, std::ops::Range<usize>)>,
    is_end: impl Fn(&Event) -> bool,
) -> String {
    let mut out = String::new();
    for (event, _) in events.by_ref() {
        if is_end(&event) {
            break;
        }
        if let Event::Text(t) | Event::Code(t) = event {
            out.push_str(&t);
        }
    }
    out
}

/// Position in the file of a byte offset inside a block's body: the body
/// starts on the line after the fence, indented like the fence.
fn body_position(body: &str, offset: usize, fence_line: usize, fence_col: usize) -> (usize, usize) {
    let inner = LineIndex::new(body);
    let (line, col) = inner.locate(offset);
    (fence_line + line, col + fence_col - 1)
}

fn parse_block(
    body: &str,
    file: &str,
    index: &LineIndex,
    fence_line: usize,
    fence_col: usize,
) -> Result<RawCheck, Diagnostic> {
    toml::from_str::<RawCheck>(body).map_err(|e| {
        let (line, col) = match e.span() {
            Some(span) => body_position(body, span.start, fence_line, fence_col),
            None => (fence_line, fence_col),
        };
        index.diagnostic(
            file,
            line,
            col,
            format!("invalid check block: {}", e.message().trim_end()),
        )
    })
}

/// Position of `key = ` inside a block, for errors about one field.
fn field_position(body: &str, key: &str, fence_line: usize, fence_col: usize) -> (usize, usize) {
    let offset = body
        .match_indices(key)
        .find(|(i, _)| body[..*i].ends_with('\n') || *i == 0)
        .map_or(0, |(i, _)| i);
    body_position(body, offset, fence_line, fence_col)
}

fn validate_block(
    spec: &CheckSpec,
    step_id: Option<&str>,
    vocab: &Vocabulary,
    body: &str,
    file: &str,
    index: &LineIndex,
    errors: &mut Vec<Diagnostic>,
) {
    let (fence_line, fence_col) = (spec.line, index.locate_line_col_of_fence(spec.line));
    let at = |key: &str| field_position(body, key, fence_line, fence_col);
    let mut err = |key: &str, message: String| {
        let (line, col) = at(key);
        errors.push(index.diagnostic(file, line, col, message));
    };
    if let Some(step_id) = step_id
        && (!spec.id.starts_with(&format!("{step_id}.")) || spec.id.len() <= step_id.len() + 1)
    {
        err(
            "id",
            format!("check id `{}` must start with its step's id: `{step_id}.`", spec.id),
        );
    }
    if !(vocab.is_kind)(&spec.kind) {
        err(
            "kind",
            format!(
                "unknown check kind `{}` (known kinds: {}){}",
                spec.kind,
                vocab.kinds.join(", "),
                crate::suggest::did_you_mean(&spec.kind, vocab.kinds.iter().map(|k| k.as_ref()))
            ),
        );
    }
    match (&spec.run, spec.kind == COMMAND_KIND) {
        (None, true) => err(
            "kind",
            "a `command` check needs `run = \"...\"`: the script to run".into(),
        ),
        (Some(_), false) => err(
            "run",
            format!("`run` only goes with kind = \"command\", not `{}`", spec.kind),
        ),
        _ => {}
    }
    if spec.title.trim().is_empty() {
        err("title", "`title` is empty".into());
    }
    if spec.hint.trim().is_empty() {
        err("hint", "`hint` is empty: say what the learner should do".into());
    }
    for (key, text) in [("hint", &spec.hint), ("fix", &spec.fix), ("title", &spec.title)] {
        if let Err(bad) =
            crate::params::placeholders(text).try_for_each(|p| if vocab.params.contains(&p) { Ok(()) } else { Err(p) })
        {
            err(
                key,
                format!(
                    "unknown placeholder `{{{bad}}}` in `{key}` (parameters: {})",
                    vocab.params.join(", ")
                ),
            );
        }
    }
}

impl LineIndex<'_> {
    /// The column of the first non-blank character of a line (a fence's indentation).
    fn locate_line_col_of_fence(&self, line: usize) -> usize {
        let text = self.line_text(line);
        text.chars().take_while(|c| c.is_whitespace()).count() + 1
    }
}

/// Checks that span the whole lab: unique ids, existing prerequisites, no cycles.
fn validate_lab(lab: &Lab, index: &LineIndex, errors: &mut Vec<Diagnostic>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, check) in lab.checks() {
        if let Some(first) = seen.insert(&check.id, check.line) {
            errors.push(index.diagnostic(
                &lab.file,
                check.line,
                1,
                format!("duplicate check id `{}` (first declared on line {first})", check.id),
            ));
        }
    }
    for (_, check) in lab.checks() {
        for need in &check.needs {
            if need == &check.id {
                errors.push(index.diagnostic(&lab.file, check.line, 1, format!("check `{}` needs itself", check.id)));
            } else if !seen.contains_key(need.as_str()) {
                errors.push(index.diagnostic(
                    &lab.file,
                    check.line,
                    1,
                    format!(
                        "check `{}` needs `{need}`, which no check in this lab declares",
                        check.id
                    ),
                ));
            }
        }
    }
    if let Some(cycle) = find_cycle(lab) {
        let line = lab.check(&cycle[0]).map_or(1, |c| c.line);
        errors.push(index.diagnostic(
            &lab.file,
            line,
            1,
            format!("`needs` form a cycle: {}", shown_cycle(&cycle)),
        ));
    }
}

/// A cycle as `a → b → a`; a long one by its ends (it may run through
/// every check of a huge file).
fn shown_cycle(cycle: &[String]) -> String {
    const ENDS: usize = 5;
    if cycle.len() <= 3 * ENDS {
        return cycle.join(" → ");
    }
    format!(
        "{} → … ({} more) … → {}",
        cycle[..ENDS].join(" → "),
        cycle.len() - 2 * ENDS,
        cycle[cycle.len() - ENDS..].join(" → ")
    )
}

/// A cycle in the `needs` graph, as a list of ids that starts and ends with
/// the same id. Depth first, with its own stack: a chain of thousands of
/// `needs` must not exhaust the thread's.
fn find_cycle(lab: &Lab) -> Option<Vec<String>> {
    let needs: HashMap<&str, &[String]> = lab.checks().map(|(_, c)| (c.id.as_str(), c.needs.as_slice())).collect();
    // false: on the current path; true: done, no cycle through it.
    let mut state: HashMap<&str, bool> = HashMap::new();
    for (_, check) in lab.checks() {
        let start = check.id.as_str();
        if state.contains_key(start) {
            continue;
        }
        state.insert(start, false);
        // Each entry: a check on the path, and the index of its next need.
        let mut path: Vec<(&str, usize)> = vec![(start, 0)];
        while let Some(&(id, i)) = path.last() {
            let next = needs.get(id).copied().unwrap_or_default().get(i);
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            let Some(next) = next.map(String::as_str) else {
                state.insert(id, true);
                path.pop();
                continue;
            };
            match state.get(next) {
                Some(true) => {}
                Some(false) => {
                    let pos = path.iter().position(|(p, _)| *p == next).unwrap_or(0);
                    let mut cycle: Vec<String> = path[pos..].iter().map(|(p, _)| p.to_string()).collect();
                    cycle.push(next.to_string());
                    return Some(cycle);
                }
                None => {
                    state.insert(next, false);
                    path.push((next, 0));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const KINDS: &[&str] = &["s3.bucket", "s3.cors", "command"];
    const PARAMS: &[&str] = &["bucket", "region"];

    fn parse(text: &str) -> Result<Lab, Diagnostics> {
        let is_kind = |k: &str| KINDS.contains(&k);
        let vocab = Vocabulary {
            is_kind: &is_kind,
            kinds: KINDS.to_vec(),
            params: PARAMS,
        };
        Lab::parse("demo", "labs/demo.md", text, &vocab)
    }

    fn block(body: &str) -> String {
        format!("```check\n{body}\n```\n")
    }

    fn lab_with(blocks: &str) -> String {
        format!("# Demo lab\n\nIntro.\n\n## Before you begin\n\nProse.\n\n## Bucket {{#s3}}\n\nDo things.\n\n{blocks}")
    }

    const BUCKET: &str = "id = \"s3.bucket\"\ntitle = \"Bucket\"\nkind = \"s3.bucket\"\npoints = 2\nhint = \"Create {bucket}.\"\nfix = \"aws s3 mb s3://{bucket}\"";
    const CORS: &str =
        "id = \"s3.cors\"\ntitle = \"CORS\"\nkind = \"s3.cors\"\nneeds = [\"s3.bucket\"]\nhint = \"Add a rule.\"";

    fn only_error(text: &str) -> Diagnostic {
        let errs = parse(text).expect_err("should be rejected").0;
        assert_eq!(errs.len(), 1, "{errs:?}");
        errs.into_iter().next().unwrap()
    }

    #[test]
    fn parses_steps_and_checks() {
        let lab = parse(&lab_with(&(block(BUCKET) + "\nMore.\n\n" + &block(CORS)))).unwrap();
        assert_eq!(lab.title, "Demo lab");
        assert_eq!(lab.steps.len(), 1, "a heading without id is prose, not a step");
        let step = &lab.steps[0];
        assert_eq!((step.id.as_str(), step.title.as_str()), ("s3", "Bucket"));
        assert_eq!(step.checks[0].points, 2);
        assert_eq!(step.checks[1].points, 1, "points default to 1");
        assert_eq!(step.checks[1].needs, vec!["s3.bucket"]);
        assert_eq!(step.checks[0].line, 13);
    }

    #[test]
    fn bad_toml_points_into_the_block() {
        let d = only_error(&lab_with(&block("id = \"s3.bucket\"\ntitle = \"B\"\nkind = s3.bucket")));
        assert_eq!(d.file, "labs/demo.md");
        assert_eq!(d.line, 16, "{d}");
        assert!(d.message.starts_with("invalid check block"), "{d}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let d = only_error(&lab_with(&block(&format!("{BUCKET}\npionts = 3"))));
        assert_eq!(d.line, 20, "{d}");
        assert!(d.message.contains("pionts"), "{d}");
    }

    #[test]
    fn unknown_kind_names_line_and_known_kinds() {
        let d = only_error(&lab_with(&block(
            &BUCKET.replace("kind = \"s3.bucket\"", "kind = \"s3.bukket\""),
        )));
        assert_eq!((d.line, d.col), (16, 1), "{d}");
        assert!(
            d.message.contains("unknown check kind `s3.bukket`")
                && d.message.contains("s3.cors")
                && d.message.ends_with("; did you mean `s3.bucket`?"),
            "{d}"
        );
        assert_eq!(d.snippet.as_deref(), Some("kind = \"s3.bukket\""));
    }

    #[test]
    fn duplicate_id_is_rejected() {
        let d = only_error(&lab_with(&(block(BUCKET) + "\n" + &block(BUCKET))));
        assert!(
            d.message
                .contains("duplicate check id `s3.bucket` (first declared on line 13)"),
            "{d}"
        );
        assert_eq!(d.line, 22);
    }

    #[test]
    fn needs_naming_no_check_is_rejected() {
        let d = only_error(&lab_with(&block(&CORS.replace("s3.bucket", "s3.bukket"))));
        assert!(
            d.message
                .contains("needs `s3.bukket`, which no check in this lab declares"),
            "{d}"
        );
    }

    #[test]
    fn needs_cycle_is_rejected() {
        let a = BUCKET.to_string() + "\nneeds = [\"s3.cors\"]";
        let errs = parse(&lab_with(&(block(&a) + &block(CORS)))).unwrap_err().0;
        assert!(errs.iter().any(|d| d.message.contains("cycle")), "{errs:?}");
    }

    #[test]
    fn check_outside_a_step_is_rejected() {
        let text = format!("# Demo\n\n## Prose\n\n{}", block(BUCKET));
        let errs = parse(&text).unwrap_err().0;
        assert!(
            errs.iter()
                .any(|d| d.message.contains("must be inside a step") && d.line == 5),
            "{errs:?}"
        );
    }

    #[test]
    fn id_must_carry_the_step_prefix() {
        let d = only_error(&lab_with(&block(
            &BUCKET.replace("id = \"s3.bucket\"", "id = \"cache.bucket\""),
        )));
        assert!(d.message.contains("must start with its step's id: `s3.`"), "{d}");
    }

    #[test]
    fn unknown_placeholder_is_rejected() {
        let d = only_error(&lab_with(&block(&BUCKET.replace("{bucket}.", "{bukket}."))));
        assert!(d.message.contains("unknown placeholder `{bukket}` in `hint`"), "{d}");
    }

    #[test]
    fn command_kind_needs_run_and_others_refuse_it() {
        let cmd = "id = \"s3.script\"\ntitle = \"T\"\nkind = \"command\"\nhint = \"h\"";
        assert!(only_error(&lab_with(&block(cmd))).message.contains("needs `run"));
        let ok = format!("{cmd}\nrun = \"true\"");
        assert!(parse(&lab_with(&block(&ok))).is_ok());
        let d = only_error(&lab_with(&block(&format!("{BUCKET}\nrun = \"true\""))));
        assert!(d.message.contains("`run` only goes with kind = \"command\""), "{d}");
    }

    #[test]
    fn duplicate_step_and_missing_title_are_rejected() {
        let errs = parse("## A {#a}\n\n## B {#a}\n").unwrap_err().0;
        assert!(errs[0].message.contains("level-1 heading"), "{errs:?}");
        let errs = parse("# T\n\n## A {#a}\n\n## B {#a}\n").unwrap_err().0;
        assert!(
            errs.iter()
                .any(|d| d.message.contains("duplicate step id `a`") && d.line == 5),
            "{errs:?}"
        );
    }

    #[test]
    fn one_block_alone_gets_the_same_checks() {
        let is_kind = |k: &str| KINDS.contains(&k);
        let vocab = Vocabulary {
            is_kind: &is_kind,
            kinds: KINDS.to_vec(),
            params: PARAMS,
        };
        let text = format!("# Chapter\n\nProse.\n\n{}", block(CORS));
        let at = text.find("```check").unwrap();
        let body = CORS.to_string() + "\n";
        let spec = parse_check(&text, at, &body, "lab.md", &vocab).unwrap();
        assert_eq!((spec.id.as_str(), spec.points, spec.line), ("s3.cors", 1, 5));
        assert_eq!(spec.needs, vec!["s3.bucket"], "needs are not resolved alone");

        let bad = format!("{CORS}\npionts = 3\n");
        let text = format!("# Chapter\n\n{}", block(&bad));
        let at = text.find("```check").unwrap();
        let errs = parse_check(&text, at, &bad, "lab.md", &vocab).unwrap_err().0;
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(errs[0].message.contains("pionts") && errs[0].line == 9, "{errs:?}");

        let no_hint = "id = \"s3.x\"\ntitle = \"T\"\nkind = \"s3.nope\"\nhint = \"  \"\nfix = \"{bukket}\"\n";
        let text = block(no_hint);
        let errs = parse_check(&text, 0, no_hint, "lab.md", &vocab).unwrap_err().0;
        let messages: Vec<&str> = errs.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(errs.len(), 3, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.contains("unknown check kind")),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("`hint` is empty")), "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("{bukket}")), "{messages:?}");
    }

    #[test]
    fn all_errors_are_reported_together() {
        let bad1 = BUCKET.replace("kind = \"s3.bucket\"", "kind = \"nope\"");
        let bad2 = CORS.replace("s3.bucket", "nothing");
        let errs = parse(&lab_with(&(block(&bad1) + &block(&bad2)))).unwrap_err().0;
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].line < errs[1].line);
    }
}
