//! The cohort roster: a CSV file with a header row, one learner a row.
//! Columns, in any order: `learner` (required, unique), `account` and/or
//! `role_arn`, `external_id`, `region`, `project_dir` (relative to the
//! roster), the learner's identities in a learning management system
//! (`email`, `sis_login_id`, `sis_user_id`, `section`), and any lab parameter
//! (`bucket`, `eb_env`, ...) overriding it for that learner. A bad roster is rejected whole, every problem named by
//! `roster.csv:LINE:COL`, and nobody is graded.

use crate::csvfile::{Header, Lines, MAX_PROBLEMS, Row, diag, header, next_row, read_csv_text, rows};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::params;
use regex::Regex;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

/// Columns with a meaning of their own (the rest are lab parameters).
pub const COLUMNS: &[&str] = &[
    "learner",
    "account",
    "role_arn",
    "external_id",
    "region",
    "project_dir",
    "email",
    "sis_login_id",
    "sis_user_id",
    "section",
];

/// Longest value in one cell.
const MAX_CELL: usize = 2048;

static ROLE_ARN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^arn:aws(-[a-z]+)*:iam::(\d{12}):role/[A-Za-z0-9_+=,.@/-]{1,512}$").expect("valid regex")
});
/// An account id as people write it: 12 digits, or grouped by four as the
/// AWS console shows it (`1234-5678-9012`, `1234 5678 9012`).
static ACCOUNT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(\d{12}|\d{4}-\d{4}-\d{4}|\d{4} \d{4} \d{4})$").expect("valid regex"));
/// A number a spreadsheet wrote in scientific notation (`4.00E+11`).
static SCIENTIFIC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d([.,]\d+)?[eE]\+?\d+$").expect("valid regex"));
static EXTERNAL_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Za-z0-9_+=,.@:/-]{2,1224}$").expect("valid regex"));

/// A learner's identities in a learning management system, from the
/// roster's columns of the same names: what Canvas and Moodle match a grade
/// to its student by (labcheck's Canvas and Moodle import files).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// The learner's e-mail address (Moodle's `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The login the institution gives the learner (Canvas's SIS Login ID, Moodle's username).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sis_login_id: Option<String>,
    /// The student number (Canvas's SIS User ID, Moodle's ID number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sis_user_id: Option<String>,
    /// The course section the learner is enrolled in (Canvas's Section).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section: Option<String>,
}

impl Identity {
    /// Whether no identity is known.
    pub fn is_empty(&self) -> bool {
        self == &Identity::default()
    }

    /// Each field, mutably (to sanitize them).
    pub fn fields_mut(&mut self) -> impl Iterator<Item = &mut String> {
        [
            &mut self.email,
            &mut self.sis_login_id,
            &mut self.sis_user_id,
            &mut self.section,
        ]
        .into_iter()
        .flatten()
    }
}

/// An e-mail address as an LMS stores it: one `@`, something on both sides,
/// no spaces.
static EMAIL: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").expect("valid regex"));

/// An `account` cell that is not a 12-digit account id, and what a
/// spreadsheet may have done to it.
#[derive(Debug, thiserror::Error)]
enum AccountIdError {
    /// Stored as a number in scientific notation.
    #[error(
        "account `{0}` is not a 12-digit AWS account id: a spreadsheet stored it as a number; format the column as text and type the 12 digits again"
    )]
    Scientific(String),
    /// Nine to eleven digits: leading zeros dropped.
    #[error(
        "account `{0}` is not a 12-digit AWS account id: if it began with zeros, a spreadsheet dropped them (format the column as text and write {0:0>12})"
    )]
    LeadingZeros(String),
    /// Anything else.
    #[error("account `{0}` is not a 12-digit AWS account id")]
    Other(String),
}

/// The 12-digit account id an `account` cell means.
fn account_id(cell: &str) -> Result<String, AccountIdError> {
    if ACCOUNT.is_match(cell) {
        return Ok(cell.chars().filter(char::is_ascii_digit).collect());
    }
    let cell = cell.to_string();
    if SCIENTIFIC.is_match(&cell) {
        Err(AccountIdError::Scientific(cell))
    } else if (9..12).contains(&cell.len()) && cell.bytes().all(|b| b.is_ascii_digit()) {
        Err(AccountIdError::LeadingZeros(cell))
    } else {
        Err(AccountIdError::Other(cell))
    }
}

/// One learner of the roster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// 0-based position among the roster's learners (the shard key, and the
    /// gradebook's order).
    pub index: usize,
    /// 1-based line of the row in the roster.
    pub line: usize,
    /// The `learner` column: a name or e-mail for the instructor.
    pub learner: String,
    /// The account id: the `account` column, or the one in `role_arn`.
    pub account: String,
    /// The role to assume in the learner's account; `None` builds it from the account id and the `grader_role` parameter.
    pub role_arn: Option<String>,
    /// The external id for that AssumeRole; `None` uses the grader's default.
    pub external_id: Option<String>,
    /// The region to grade; `None` uses the grader's default.
    pub region: Option<String>,
    /// Absolute folder of the learner's cloned project.
    pub project_dir: Option<PathBuf>,
    /// Lab parameters set for this learner, by column name.
    pub params: Vec<(String, String)>,
    /// The learner's identities in a learning management system.
    pub identity: Identity,
    /// (line, column) of the cell that names the learner's account: the
    /// `account` cell, else the `role_arn` cell.
    pub account_at: (usize, usize),
    /// (line, column) of the `role_arn` cell, when the row has one.
    pub role_at: Option<(usize, usize)>,
}

/// A parsed roster.
#[derive(Clone, Debug)]
pub struct Roster {
    /// The file, as given (for messages).
    pub file: String,
    /// The learners, in file order.
    pub learners: Vec<Entry>,
    /// A fingerprint of the file's bytes: a journal is only resumed against
    /// the roster it was written for.
    pub fingerprint: String,
}

/// Reads and checks a roster file.
pub fn load(path: &Path) -> Result<Roster, Diagnostics> {
    let text = read_csv_text(path, "roster")?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse(&path.display().to_string(), &text, &base)
}

/// Parses roster text; `base` is the folder `project_dir` is relative to.
pub fn parse(file: &str, text: &str, base: &Path) -> Result<Roster, Diagnostics> {
    let fingerprint = format!("{:016x}", fnv1a(text.as_bytes()));
    // Spreadsheets save CSV with a byte-order mark.
    let mut body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines = Lines::new(text);
    // Excel's `sep=,` line names the separator: skipped when it is a comma.
    if let Some(rest) = body.strip_prefix("sep=") {
        let (directive, after) = rest.split_once('\n').unwrap_or((rest, ""));
        let separator = directive.trim_end_matches('\r');
        if separator != "," {
            return Err(Diagnostics(vec![diag(
                file,
                1,
                1,
                format!(
                    "the roster is separated by `{separator}`; it must be separated by commas (save it as CSV UTF-8)"
                ),
                Some(lines.text(1)),
            )]));
        }
        body = after;
    }
    // Byte offset of `body` in `text`, to place the reader's positions.
    let bom = text.len() - body.len();
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut records = rows(file, text, bom, &lines);

    // `External ID` and `project-dir`, as spreadsheets title columns, are `external_id` and `project_dir`.
    let Header {
        cells: raw,
        names,
        places,
    } = header(
        file,
        &mut records,
        &lines,
        format!(
            "the roster is empty; it needs a header row (learner,account,...) and a row per learner; known columns: {}",
            COLUMNS.join(", ")
        ),
    )?;
    let known_params = params::names();
    let mut columns: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.iter().enumerate() {
        let (line, col) = places[i];
        let snippet = Some(lines.text(line));
        if name.is_empty() {
            // A spreadsheet's empty column: fine while no row fills it in.
            continue;
        } else if !COLUMNS.contains(&name.as_str()) && !known_params.contains(&name.as_str()) {
            let given = &raw[i];
            let (separator, suggestion) = if name.contains(';') || name.contains('\t') {
                ("; the roster must be separated by commas", String::new())
            } else {
                (
                    "",
                    crate::suggest::did_you_mean(name, COLUMNS.iter().chain(known_params.iter()).copied()),
                )
            };
            problems.push(diag(
                file,
                line,
                col,
                format!(
                    "unknown column `{given}`{separator}; known columns: {}, and the lab parameters {}{suggestion}",
                    COLUMNS.join(", "),
                    known_params
                        .iter()
                        .filter(|p| !COLUMNS.contains(p))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                snippet,
            ));
        } else if let Some(first) = columns.insert(name, i) {
            problems.push(diag(
                file,
                line,
                col,
                format!("column `{name}` appears twice (first as column {})", first + 1),
                snippet,
            ));
        }
    }
    if !columns.contains_key("learner") {
        problems.push(diag(
            file,
            1,
            1,
            "the header has no `learner` column".into(),
            Some(lines.text(1)),
        ));
    }
    if !columns.contains_key("account") && !columns.contains_key("role_arn") {
        problems.push(diag(
            file,
            1,
            1,
            "the header needs an `account` column (12-digit account ids) or a `role_arn` column".into(),
            Some(lines.text(1)),
        ));
    }
    if !problems.is_empty() {
        return Err(Diagnostics(problems));
    }

    let mut learners: Vec<Entry> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    while let Some(Row { at, cells }) = next_row(&mut records, &mut problems) {
        let starts = lines.field_starts(at);
        let (row_line, _) = lines.locate(at);
        if cells.iter().all(String::is_empty) {
            continue; // a blank line
        }
        let mut row_problems: Vec<Diagnostic> = Vec::new();
        let mut problem = |field: usize, message: String| {
            let (line, col) = lines.locate(starts.get(field).copied().unwrap_or(at));
            row_problems.push(diag(file, line, col, message, Some(lines.text(line))));
        };
        if let Some(extra) = cells.iter().skip(names.len()).position(|c| !c.is_empty()) {
            problem(
                names.len() + extra,
                format!(
                    "this row has {} cells but the header names {} columns",
                    cells.len(),
                    names.len()
                ),
            );
        }
        if let Some(i) = (0..cells.len().min(names.len())).find(|&i| names[i].is_empty() && !cells[i].is_empty()) {
            problem(
                i,
                format!("this cell is in column {}, which has no name in the header", i + 1),
            );
        }
        let cell = |name: &str| -> Option<(usize, &str)> {
            columns
                .get(name)
                .and_then(|&i| cells.get(i).map(|c| (i, c.as_str())))
                .filter(|(_, c)| !c.is_empty())
        };
        for (i, c) in cells.iter().enumerate() {
            if c.len() > MAX_CELL {
                problem(i, format!("this cell is longer than {MAX_CELL} characters"));
            } else if c.chars().any(char::is_control) {
                problem(i, "this cell holds a control character".into());
            }
        }
        let learner_col = columns["learner"];
        let learner = match cell("learner") {
            None => {
                problem(learner_col, "no learner name in this row".into());
                String::new()
            }
            Some((_, name)) => {
                if let Some(first) = seen.get(name) {
                    problem(
                        learner_col,
                        format!("learner `{name}` is already on line {first}; learner names must be unique"),
                    );
                }
                name.to_string()
            }
        };
        let account = cell("account").map(|(i, a)| match account_id(a) {
            Ok(id) => (i, id),
            Err(e) => {
                problem(i, e.to_string());
                (i, a.to_string())
            }
        });
        let role_arn = cell("role_arn").map(|(i, arn)| {
            match ROLE_ARN.captures(arn) {
                None => problem(
                    i,
                    format!("`{arn}` is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"),
                ),
                Some(c) => {
                    if let Some((_, a)) = &account
                        && a != &c[2]
                    {
                        problem(
                            i,
                            format!("the role is in account {}, but the account column says {a}", &c[2]),
                        );
                    }
                }
            }
            arn.to_string()
        });
        let role_at = cell("role_arn").map(|(i, _)| lines.locate(starts.get(i).copied().unwrap_or(at)));
        let account_at = account
            .as_ref()
            .map(|(i, _)| lines.locate(starts.get(*i).copied().unwrap_or(at)))
            .or(role_at)
            .unwrap_or((row_line, 1));
        if account.is_none() && role_arn.is_none() {
            problem(
                columns.get("account").or(columns.get("role_arn")).copied().unwrap_or(0),
                "this learner has neither an account nor a role_arn".into(),
            );
        }
        let external_id = cell("external_id").map(|(i, x)| {
            if !EXTERNAL_ID.is_match(x) {
                problem(
                    i,
                    "an external id is 2 to 1224 letters, digits or +=,.@:/-_ characters".into(),
                );
            }
            x.to_string()
        });
        // Region codes are lower case; `US-WEST-2` from a spreadsheet means us-west-2.
        let region = cell("region").map(|(i, r)| {
            let code = r.to_ascii_lowercase();
            if !params::is_valid_region(&code) {
                problem(i, format!("`{r}` is not an AWS Region name (like us-west-2)"));
            }
            code
        });
        let project_dir = cell("project_dir").map(|(i, d)| {
            let dir = base.join(d);
            if !dir.is_dir() {
                problem(
                    i,
                    format!("project folder `{d}` does not exist (it is relative to the roster's folder)"),
                );
            }
            dir
        });
        let identity = Identity {
            email: cell("email").map(|(i, e)| {
                if !EMAIL.is_match(e) {
                    problem(i, format!("`{e}` is not an e-mail address"));
                }
                e.to_string()
            }),
            sis_login_id: cell("sis_login_id").map(|(_, x)| x.to_string()),
            sis_user_id: cell("sis_user_id").map(|(_, x)| x.to_string()),
            section: cell("section").map(|(_, x)| x.to_string()),
        };
        let mut overrides = Vec::new();
        for (name, &i) in &columns {
            if COLUMNS.contains(name) || *name == "account" {
                continue;
            }
            if let Some((_, value)) = cell(name) {
                if let Err(e) = params::check_value(name, value) {
                    problem(i, e);
                }
                overrides.push((name.to_string(), value.to_string()));
            }
        }
        overrides.sort();
        if row_problems.is_empty() {
            seen.insert(learner.clone(), row_line);
            let account = account
                .map(|(_, a)| a)
                .or_else(|| {
                    role_arn
                        .as_deref()
                        .and_then(|arn| ROLE_ARN.captures(arn).map(|c| c[2].to_string()))
                })
                .unwrap_or_default();
            learners.push(Entry {
                index: learners.len(),
                line: row_line,
                learner,
                account,
                role_arn,
                external_id,
                region,
                project_dir,
                params: overrides,
                identity,
                account_at,
                role_at,
            });
        } else {
            problems.extend(row_problems);
        }
    }
    if problems.is_empty() && learners.is_empty() {
        problems.push(diag(file, 2, 1, "the roster has a header but no learners".into(), None));
    }
    if problems.is_empty() {
        Ok(Roster {
            file: file.to_string(),
            learners,
            fingerprint,
        })
    } else {
        problems.truncate(MAX_PROBLEMS);
        Err(Diagnostics(problems))
    }
}

/// Learners who share an account or a role: each of them named at the cell
/// that gives it, with the others. One learner, one account: a learner who
/// types a classmate's account id would otherwise get the classmate's grade.
/// Teams sharing an account pass `--allow-shared-accounts` instead.
pub fn shared_accounts(roster: &Roster) -> Result<(), Diagnostics> {
    let mut problems = Vec::new();
    let mut by_role: HashMap<&str, Vec<&Entry>> = HashMap::new();
    let mut by_account: HashMap<&str, Vec<&Entry>> = HashMap::new();
    for l in &roster.learners {
        by_account.entry(l.account.as_str()).or_default().push(l);
        if let Some(role) = &l.role_arn {
            by_role.entry(role.as_str()).or_default().push(l);
        }
    }
    let mut groups: Vec<(&str, &str, Vec<&Entry>)> = by_account
        .into_iter()
        .map(|(a, l)| ("account", a, l))
        .chain(by_role.into_iter().map(|(r, l)| ("role", r, l)))
        .filter(|(_, _, l)| l.len() > 1)
        .collect();
    groups.sort_by_key(|(_, _, l)| l[0].index);
    let mut named: std::collections::HashSet<usize> = std::collections::HashSet::new();
    for (what, value, learners) in groups {
        for l in &learners {
            // A learner sharing both an account and a role is named once.
            if !named.insert(l.index) {
                continue;
            }
            // A few of the others by name; a hostile roster of thousands on
            // one account must not print each name thousands of times.
            let others: Vec<&&Entry> = learners.iter().filter(|o| o.index != l.index).collect();
            let mut named_others: Vec<String> = others
                .iter()
                .take(3)
                .map(|o| format!("`{}` (line {})", o.learner, o.line))
                .collect();
            if others.len() > 3 {
                named_others.push(format!("{} more", others.len() - 3));
            }
            let (line, col) = if what == "role" {
                l.role_at.unwrap_or(l.account_at)
            } else {
                l.account_at
            };
            problems.push(diag(
                &roster.file,
                line,
                col,
                format!(
                    "learner `{}` has the same {what} {value} as {}: each learner is graded in an account of their own (with an external id of their own); a learner who typed a classmate's account would get the classmate's grade. Pass --allow-shared-accounts if learners work in teams",
                    l.learner,
                    named_others.join(", ")
                ),
                None,
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.sort_by_key(|d| (d.line, d.col));
        problems.truncate(MAX_PROBLEMS);
        Err(Diagnostics(problems))
    }
}

/// FNV-1a, 64 bits: a stable fingerprint (std's hasher may change between
/// Rust versions, and a journal outlives a build).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Roster, Diagnostics> {
        parse("roster.csv", text, Path::new("."))
    }

    fn first_error(text: &str) -> String {
        let e = parse_str(text).expect_err("should be rejected");
        let d = &e.0[0];
        format!("{}:{}:{}: {}", d.file, d.line, d.col, d.message)
    }

    #[test]
    fn reads_columns_in_any_order_with_parameters() {
        let r = parse_str(
            "\u{feff}region, learner ,account,bucket\nus-east-1,ada,111111111111,ada-media\n\n,grace,222222222222,\n",
        )
        .unwrap();
        assert_eq!(r.learners.len(), 2);
        let ada = &r.learners[0];
        assert_eq!(
            (ada.learner.as_str(), ada.account.as_str(), ada.region.as_deref()),
            ("ada", "111111111111", Some("us-east-1"))
        );
        assert_eq!(ada.params, vec![("bucket".to_string(), "ada-media".to_string())]);
        let grace = &r.learners[1];
        assert_eq!((grace.index, grace.line, grace.region.clone()), (1, 4, None));
        assert!(grace.params.is_empty());
    }

    #[test]
    fn role_arn_gives_the_account() {
        let r = parse_str("learner,role_arn,external_id\nada,arn:aws:iam::333333333333:role/grader,xyz-123\n").unwrap();
        assert_eq!(r.learners[0].account, "333333333333");
        assert_eq!(r.learners[0].external_id.as_deref(), Some("xyz-123"));
    }

    #[test]
    fn every_bad_case_names_line_and_column() {
        assert_eq!(
            first_error("learner,account,colour\nada,111111111111,red\n")
                .split(';')
                .next()
                .unwrap(),
            "roster.csv:1:17: unknown column `colour`"
        );
        assert_eq!(
            first_error("learner,account\nada,111111111111\nbob,222222222222\nada,333333333333\n"),
            "roster.csv:4:1: learner `ada` is already on line 2; learner names must be unique"
        );
        assert_eq!(
            first_error("learner,account\nada,12345\n"),
            "roster.csv:2:5: account `12345` is not a 12-digit AWS account id"
        );
        assert_eq!(
            first_error("learner,account,role_arn\nada,111111111111,arn:aws:iam::1111:role/x\n"),
            "roster.csv:2:18: `arn:aws:iam::1111:role/x` is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)"
        );
        assert!(first_error("").starts_with("roster.csv:1:1: the roster is empty"));
        assert!(
            first_error("learner,account\n").starts_with("roster.csv:2:1: the roster has a header but no learners")
        );
        assert!(first_error("learner;account\nada;111111111111\n").contains("separated by commas"));
        assert_eq!(
            first_error("learner,account,region\nada,111111111111,mars-1\n"),
            "roster.csv:2:18: `mars-1` is not an AWS Region name (like us-west-2)"
        );
        assert_eq!(
            first_error("learner,account,network\nada,111111111111,sideways\n"),
            "roster.csv:2:18: parameter `network` is `sideways`; it must be one of: auto, inside, outside"
        );
        assert!(
            first_error("learner,account\nada,111111111111\n,222222222222\n")
                .starts_with("roster.csv:3:1: no learner name")
        );
        assert!(
            first_error("learner,account,project_dir\nada,111111111111,no/such/dir\n")
                .starts_with("roster.csv:2:18: project folder")
        );
        assert!(first_error("learner,bucket\nada,b\n").contains("needs an `account` column"));
        assert!(first_error("learner,account\n\"ada,111111111111\n").contains("roster.csv:"));
    }

    #[test]
    fn accounts_are_read_as_people_write_them() {
        let r = parse_str("learner,account\nada,0123-4567-8901\ngrace, 2222 3333 4444 \nken,555566667777\n").unwrap();
        let ids: Vec<&str> = r.learners.iter().map(|l| l.account.as_str()).collect();
        assert_eq!(ids, ["012345678901", "222233334444", "555566667777"]);
        let r = parse_str("learner,account,region\nada,111111111111,US-West-2\n").unwrap();
        assert_eq!(r.learners[0].region.as_deref(), Some("us-west-2"));
        assert!(
            first_error("learner,account,region\nada,111111111111,US West (Oregon)\n")
                .contains("not an AWS Region name")
        );
        // A role ARN names the account in 12 digits: a grouped account column agrees with it.
        let r = parse_str("learner,account,role_arn\nada,1111-1111-1111,arn:aws:iam::111111111111:role/g\n").unwrap();
        assert_eq!(r.learners[0].account, "111111111111");
    }

    #[test]
    fn many_bad_rows_are_shown_in_part_and_counted_in_full() {
        let mut text = "learner,account\n".to_string();
        for i in 0..60 {
            text.push_str(&format!("l{i},{i}\n"));
        }
        let err = parse_str(&text).unwrap_err().to_string();
        assert_eq!(err.matches("is not a 12-digit AWS account id").count(), 20, "{err}");
        assert!(err.ends_with("roster.csv: 40 more problems not shown"), "{err}");
    }

    #[test]
    fn a_spreadsheets_extras_are_read_past() {
        // Excel's separator line, empty columns and cells past the header's, empty rows.
        let text = "sep=,\r\nlearner,account,,\r\nada,111111111111,,\r\n,,,\r\ngrace,222222222222,,,\r\n";
        let r = parse_str(text).unwrap();
        let names: Vec<&str> = r.learners.iter().map(|l| l.learner.as_str()).collect();
        assert_eq!(names, ["ada", "grace"]);
        assert_eq!((r.learners[0].line, r.learners[1].line), (3, 5));
        // Lines and columns still count the separator line.
        assert_eq!(
            first_error("sep=,\nlearner,account\nada,12\n"),
            "roster.csv:3:5: account `12` is not a 12-digit AWS account id"
        );
        assert_eq!(
            first_error("\u{feff}sep=;\nlearner;account\n"),
            "roster.csv:1:1: the roster is separated by `;`; it must be separated by commas (save it as CSV UTF-8)"
        );
        assert_eq!(
            first_error("learner,,account\nada,oops,111111111111\n"),
            "roster.csv:2:5: this cell is in column 2, which has no name in the header"
        );
        assert_eq!(
            first_error("learner,account\nada,111111111111,,x\n"),
            "roster.csv:2:19: this row has 4 cells but the header names 2 columns"
        );
    }

    #[test]
    fn column_titles_are_read_as_spreadsheets_write_them_and_typos_get_a_suggestion() {
        let r = parse_str("Learner,Account,External ID,eb-env\nada,111111111111,xyz-123,env-1\n").unwrap();
        assert_eq!(r.learners[0].external_id.as_deref(), Some("xyz-123"));
        assert_eq!(r.learners[0].params, [("eb_env".to_string(), "env-1".to_string())]);
        assert!(
            first_error("learner,acount\nada,111111111111\n").starts_with("roster.csv:1:9: unknown column `acount`;")
                && first_error("learner,acount\nada,111111111111\n").ends_with("; did you mean `account`?"),
        );
        assert!(
            first_error("learner,account,Exteral ID\nada,111111111111,x1\n")
                .contains("unknown column `Exteral ID`; known columns")
                && first_error("learner,account,Exteral ID\nada,111111111111,x1\n")
                    .ends_with("did you mean `external_id`?"),
        );
        assert!(!first_error("learner,account,colour\nada,111111111111,red\n").contains("did you mean"));
    }

    #[test]
    fn a_spreadsheets_mangled_account_is_explained() {
        assert_eq!(
            first_error("learner,account\nada,12345678901\n"),
            "roster.csv:2:5: account `12345678901` is not a 12-digit AWS account id: if it began with zeros, \
             a spreadsheet dropped them (format the column as text and write 012345678901)"
        );
        assert!(first_error("learner,account\nada,1.23457E+11\n").contains("a spreadsheet stored it as a number"));
        assert!(first_error("learner,account\nada,\"4,00E+11\"\n").contains("stored it as a number"));
        for bad in [
            "1234-5678-901",
            "1234-56789012",
            "1234_5678_9012",
            "12345678901234",
            "abcd",
        ] {
            assert_eq!(
                first_error(&format!("learner,account\nada,{bad}\n")),
                format!("roster.csv:2:5: account `{bad}` is not a 12-digit AWS account id"),
                "{bad}"
            );
        }
    }

    #[test]
    fn role_and_account_must_agree() {
        assert_eq!(
            first_error("learner,account,role_arn\nada,111111111111,arn:aws:iam::222222222222:role/g\n"),
            "roster.csv:2:18: the role is in account 222222222222, but the account column says 111111111111"
        );
    }

    #[test]
    fn two_learners_with_one_account_or_role_are_named_both() {
        let r = parse_str(
            "learner,account,role_arn\nada,111111111111,\nbob,222222222222,\neve,1111-1111-1111,\n\
             cy,,arn:aws:iam::333333333333:role/g\ndan,,arn:aws:iam::333333333333:role/g\n",
        )
        .unwrap();
        let e = shared_accounts(&r).unwrap_err();
        let lines: Vec<String> = e.0.iter().map(|d| format!("{}:{}:{}", d.file, d.line, d.col)).collect();
        assert_eq!(
            lines,
            ["roster.csv:2:5", "roster.csv:4:5", "roster.csv:5:5", "roster.csv:6:6"]
        );
        assert!(
            e.0[0]
                .message
                .starts_with("learner `ada` has the same account 111111111111 as `eve` (line 4)")
        );
        assert!(e.0[1].message.contains("as `ada` (line 2)"));
        assert!(
            e.0[2].message.contains("same account 333333333333 as `dan` (line 6)"),
            "{}",
            e.0[2].message
        );
        assert!(
            e.0[0]
                .message
                .ends_with("Pass --allow-shared-accounts if learners work in teams")
        );
        // Two roles in one account are one account.
        let r =
            parse_str("learner,role_arn\nada,arn:aws:iam::333333333333:role/a\nbob,arn:aws:iam::333333333333:role/b\n")
                .unwrap();
        assert_eq!(shared_accounts(&r).unwrap_err().0.len(), 2);
        let r = parse_str("learner,account\nada,111111111111\nbob,222222222222\n").unwrap();
        assert!(shared_accounts(&r).is_ok());
    }

    #[test]
    fn a_roster_of_thousands_on_one_account_says_so_in_bounded_text() {
        let mut text = "learner,account\n".to_string();
        for i in 0..5000 {
            text.push_str(&format!("l{i},111111111111\n"));
        }
        let e = shared_accounts(&parse_str(&text).unwrap()).unwrap_err();
        assert_eq!(e.0.len(), MAX_PROBLEMS);
        assert!(
            e.0[0]
                .message
                .contains("as `l1` (line 3), `l2` (line 4), `l3` (line 5), 4996 more"),
            "{}",
            e.0[0].message
        );
        assert!(e.to_string().len() < 20_000, "{} bytes", e.to_string().len());
    }

    #[test]
    fn a_control_character_in_a_cell_is_not_echoed() {
        let e = parse_str("learner,account\n\x1b]0;pwned\x07ada\x1b[2J,111111111111\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("this cell holds a control character"), "{text}");
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    }

    #[test]
    fn quoted_commas_do_not_shift_columns() {
        assert_eq!(
            first_error("learner,account\n\"Lovelace, Ada\",12\n"),
            "roster.csv:2:17: account `12` is not a 12-digit AWS account id"
        );
    }
}
