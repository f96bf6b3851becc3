//! `project.deploy-check`: Django's own deployment checklist, what
//! `manage.py check --deploy` reports, run by the probe
//! (`call_command("check", deploy=True)`, output captured). Only the parsed
//! issues (level, id, message) are reported, never the raw output.

use super::probe::{Probe, probe};
use super::with_fix;
use crate::run::ProjectRun;
use labcheck_outcome::outcome::{CheckResult, Outcome};
use regex::Regex;
use serde::Serialize;
use serde_json::json;
use std::sync::{Arc, LazyLock};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum Level {
    Error,
    Warning,
    Info,
}

/// One issue Django's check framework reported.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub(super) struct Issue {
    pub level: Level,
    pub id: String,
    /// What it is about (`?` for the project as a whole).
    pub object: String,
    pub message: String,
    pub hint: Option<String>,
}

/// `OBJECT: (ID) MESSAGE`, e.g. `?: (security.W004) You have not set ...`.
static ISSUE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^(\S.*?): \(([A-Za-z0-9_.\-]+)\) (.*)$").expect("regex"));

fn level_of_id(id: &str) -> Level {
    match id.rsplit('.').next().and_then(|s| s.chars().next()) {
        Some('C' | 'E') => Level::Error,
        Some('W') => Level::Warning,
        _ => Level::Info,
    }
}

/// Parses what `manage.py check` prints (stdout and stderr together): the
/// `ERRORS:` / `WARNINGS:` sections (`CRITICALS`, `INFOS`, `DEBUGS` too),
/// each issue with its optional `HINT:` and continuation lines.
pub(super) fn parse_check_output(text: &str) -> Vec<Issue> {
    let mut issues: Vec<Issue> = Vec::new();
    let mut section: Option<Level> = None;
    let mut open = false;
    for line in text.lines() {
        let trimmed = line.trim();
        match trimmed {
            "CRITICALS:" | "ERRORS:" => {
                section = Some(Level::Error);
                open = false;
                continue;
            }
            "WARNINGS:" => {
                section = Some(Level::Warning);
                open = false;
                continue;
            }
            "INFOS:" | "DEBUGS:" => {
                section = Some(Level::Info);
                open = false;
                continue;
            }
            "" => {
                open = false;
                continue;
            }
            _ => {}
        }
        if trimmed.starts_with("System check identified") || trimmed.starts_with("SystemCheckError:") {
            open = false;
            continue;
        }
        if let Some(c) = ISSUE.captures(line) {
            let id = c[2].to_string();
            issues.push(Issue {
                level: section.unwrap_or_else(|| level_of_id(&id)),
                id,
                object: c[1].to_string(),
                message: c[3].trim().to_string(),
                hint: None,
            });
            open = true;
        } else if open && let Some(last) = issues.last_mut() {
            if let Some(hint) = trimmed.strip_prefix("HINT:") {
                last.hint = Some(hint.trim().to_string());
            } else if let Some(hint) = &mut last.hint {
                hint.push(' ');
                hint.push_str(trimmed);
            } else {
                last.message.push(' ');
                last.message.push_str(trimmed);
            }
        }
    }
    issues
}

fn ids(issues: &[&Issue]) -> String {
    issues.iter().map(|i| i.id.as_str()).collect::<Vec<_>>().join(", ")
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn fix_for(p: &Probe) -> String {
    let prefix = p.dsm_prefix();
    format!("cd {} && {prefix}python manage.py check --deploy", p.django().display())
}

/// Grades the project of `acc`'s run.
pub async fn check(acc: Arc<dyn ProjectRun>) -> CheckResult {
    let outcome = judge(&*acc).await?;
    Ok(super::probe::on_its_word(&*acc, outcome).await)
}

async fn judge(acc: &dyn ProjectRun) -> CheckResult {
    let p = match probe(acc).await {
        Ok(p) => p,
        Err(t) => return Ok(t.outcome()),
    };
    let fix = fix_for(&p);
    let what = "manage.py check --deploy";
    if let Err(t) = p.setup() {
        return Ok(with_fix(t.outcome(), &fix));
    }
    let deploy = match (&p.out.deploy, &p.out.deploy_error) {
        (_, Some(f)) => return Ok(with_fix(p.classify(what, f).outcome(), &fix)),
        (Some(d), None) => d,
        (None, None) => {
            return Ok(Outcome::error("the probe did not run the deployment checklist"));
        }
    };
    let mut issues = parse_check_output(&deploy.output);
    let mut seen = std::collections::BTreeSet::new();
    issues.retain(|i| seen.insert((i.id.clone(), i.object.clone())));
    let errors: Vec<&Issue> = issues.iter().filter(|i| i.level == Level::Error).collect();
    let warnings: Vec<&Issue> = issues.iter().filter(|i| i.level == Level::Warning).collect();
    let evidence = json!({ "issues": issues, "settings_module": p.module });
    if !errors.is_empty() {
        let listed: Vec<String> = errors.iter().map(|i| format!("{} {}", i.id, i.message)).collect();
        let hint = errors
            .iter()
            .filter_map(|i| i.hint.as_ref().map(|h| format!("{}: {h}", i.id)))
            .collect::<Vec<_>>();
        let outcome = Outcome::fail(format!(
            "{what} reports {}: {}",
            plural(errors.len(), "error"),
            listed.join("; ")
        ))
        .evidence(evidence);
        return Ok(with_fix(
            if hint.is_empty() {
                outcome
            } else {
                outcome.hint(hint.join(" "))
            },
            &fix,
        ));
    }
    if deploy.serious {
        return Ok(with_fix(
            Outcome::fail(format!(
                "{what} stopped with a system check error labcheck could not read"
            ))
            .evidence(evidence),
            &fix,
        ));
    }
    Ok(Outcome::pass(if warnings.is_empty() {
        format!("{what} reports no error and no warning")
    } else {
        format!(
            "{what} reports no error; {}: {}",
            plural(warnings.len(), "warning"),
            ids(&warnings)
        )
    })
    .evidence(evidence))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAILED: &str = "SystemCheckError: System check identified some issues:

ERRORS:
?: (security.E023) You have set the SECURE_REFERRER_POLICY setting to an invalid value.
\tHINT: Valid values are: no-referrer, origin.
pets_app.Pet.picture: (fields.E210) Cannot use ImageField because Pillow is not installed.
\tHINT: Get Pillow at https://pypi.org/project/Pillow/ or run command
\"python -m pip install Pillow\".

WARNINGS:
?: (security.W004) You have not set a value for the SECURE_HSTS_SECONDS setting.
?: (security.W008) Your SECURE_SSL_REDIRECT setting is not set to True.

System check identified 4 issues (0 silenced).";

    #[test]
    fn errors_and_warnings_are_parsed_with_hints() {
        let issues = parse_check_output(FAILED);
        let summary: Vec<(Level, &str, &str)> = issues
            .iter()
            .map(|i| (i.level, i.id.as_str(), i.object.as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (Level::Error, "security.E023", "?"),
                (Level::Error, "fields.E210", "pets_app.Pet.picture"),
                (Level::Warning, "security.W004", "?"),
                (Level::Warning, "security.W008", "?"),
            ]
        );
        assert_eq!(
            issues[0].message,
            "You have set the SECURE_REFERRER_POLICY setting to an invalid value."
        );
        assert_eq!(
            issues[0].hint.as_deref(),
            Some("Valid values are: no-referrer, origin.")
        );
        assert_eq!(
            issues[1].hint.as_deref(),
            Some("Get Pillow at https://pypi.org/project/Pillow/ or run command \"python -m pip install Pillow\".")
        );
        assert_eq!(issues[2].hint, None);
    }

    #[test]
    fn a_clean_run_and_a_traceback_have_no_issues() {
        assert_eq!(
            parse_check_output("System check identified no issues (0 silenced).\n"),
            vec![]
        );
        let traceback = "Traceback (most recent call last):\n  File \"manage.py\", line 22, in <module>\nKeyError: 'RDS_USER_PASSWORD'\n";
        assert_eq!(parse_check_output(traceback), vec![]);
    }

    #[test]
    fn levels_come_from_ids_outside_sections() {
        let issues = parse_check_output("myapp.Thing: (myapp.E001) broken\n?: (urls.W005) namespace\n");
        assert_eq!(
            issues.iter().map(|i| i.level).collect::<Vec<_>>(),
            vec![Level::Error, Level::Warning]
        );
    }
}
