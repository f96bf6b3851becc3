//! `labcheck list`: the lab's steps and checks with their ids and points, the
//! other labs and the quizzes.

use crate::course::{Course, lab::Lab};
use std::fmt::Write;

/// The listing as JSON: `{ "labs", "lab", "steps": [ { "id", "title",
/// "checks": [ { "id", "title", "kind", "points", "needs", "iam_actions" } ] } ],
/// "quizzes" }`. `iam_actions` are those the check's kind declares (none for
/// a scripted `command` check).
pub fn json(course: &Course, lab: &Lab) -> String {
    let steps: Vec<_> = lab
        .steps
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id, "title": s.title,
                "checks": s.checks.iter().map(|c| serde_json::json!({
                    "id": c.id, "title": c.title, "kind": c.kind, "points": c.points, "needs": c.needs,
                    "iam_actions": crate::checks::find(&c.kind).map_or(&[][..], |k| k.iam_actions),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let labs: Vec<_> = course
        .labs
        .iter()
        .map(|l| serde_json::json!({"id": l.id, "title": l.title}))
        .collect();
    let quizzes: Vec<_> = course
        .quizzes
        .iter()
        .map(|q| serde_json::json!({"id": q.id, "title": q.title, "questions": q.questions.len()}))
        .collect();
    let doc = serde_json::json!({"labs": labs, "lab": lab.id, "steps": steps, "quizzes": quizzes});
    serde_json::to_string_pretty(&doc).expect("serializes") + "\n"
}

/// The listing for a person.
pub fn human(course: &Course, lab: &Lab) -> String {
    let mut out = String::new();
    let bold = console::Style::new().bold();
    let dim = console::Style::new().dim();
    let _ = writeln!(
        out,
        "{} {}",
        bold.apply_to(&lab.title),
        dim.apply_to(format!("({})", lab.id))
    );
    let width = lab.checks().map(|(_, c)| c.id.len()).max().unwrap_or(0);
    for step in &lab.steps {
        let points: u32 = step.checks.iter().map(|c| c.points).sum();
        let _ = writeln!(
            out,
            "\n{}  {}  {}",
            bold.apply_to(&step.id),
            step.title,
            dim.apply_to(format!("{points} points"))
        );
        if step.checks.is_empty() {
            let _ = writeln!(out, "  {}", dim.apply_to("(no graded checks)"));
        }
        for c in &step.checks {
            let needs = if c.needs.is_empty() {
                String::new()
            } else {
                format!("needs {}", c.needs.join(", "))
            };
            let _ = writeln!(
                out,
                "  {:width$}  {:2} pt  {}  {}",
                c.id,
                c.points,
                c.title,
                dim.apply_to(needs)
            );
        }
    }
    if course.labs.len() > 1 {
        let others: Vec<&str> = course
            .labs
            .iter()
            .map(|l| l.id.as_str())
            .filter(|id| *id != lab.id)
            .collect();
        let _ = writeln!(out, "\nother labs: {}", others.join(", "));
    }
    if !course.quizzes.is_empty() {
        let _ = writeln!(out, "\n{}", bold.apply_to("quizzes"));
        let width = course.quizzes.iter().map(|q| q.id.len()).max().unwrap_or(0);
        for q in &course.quizzes {
            let _ = writeln!(out, "  {:width$}  {:2} questions  {}", q.id, q.questions.len(), q.title);
        }
    }
    let _ = writeln!(
        out,
        "\nGrade with `labcheck check [STEP|CHECK ...]`; take a quiz with `labcheck quiz ID`."
    );
    out
}
