//! `labcheck cohort invite ROSTER`: one secret per learner. Fills the
//! roster's `external_id` column with a fresh random id for every learner
//! who has none (every learner with `--renew`): 128 bits from the operating
//! system's random number generator, as 32 hex digits. The roster is written
//! back atomically (or to `-o FILE`), its other columns as they were. Then,
//! per learner, the command that deploys their grader role with their own
//! parameters, and with `--template-url` a CloudFormation quick-create link
//! with the parameters filled in.

use super::command::Error;
use super::roster::{self, Entry, Roster};
use super::template::{
    BUCKET_PARAMETER, EXTERNAL_ID_PARAMETER, PRINCIPAL_PARAMETER, PRINCIPAL_PATTERN, STACK_NAME, TEMPLATE_FILE,
};
use crate::exit::Exit;
use crate::params::Param;
use crate::report::output::write_atomic;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Random bytes in one external id: 128 bits.
pub const ID_BYTES: usize = 16;
const _: () = assert!(ID_BYTES * 8 >= 128, "an external id holds at least 128 bits");

/// What `labcheck cohort invite` was asked to do.
pub struct InviteSettings {
    /// The roster CSV.
    pub roster: PathBuf,
    /// Where to write the roster with its ids; `None` writes it back in place.
    pub output: Option<PathBuf>,
    /// Give every learner a new id, not only those without one.
    pub renew: bool,
    /// The instructor's role or user ARN the grader roles trust.
    pub principal: String,
    /// Where the template is published (an S3 URL), for quick-create links.
    pub template_url: Option<String>,
    /// The Region for learners whose row names none.
    pub region: Option<String>,
    /// Accept a roster that gives two learners one account or role.
    pub allow_shared_accounts: bool,
}

/// A new external id: [`ID_BYTES`] bytes from the operating system's random
/// number generator, in lowercase hex.
pub fn new_id() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; ID_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Whether `arn` is an IAM role or user ARN the template accepts as the
/// trusted principal (its pattern, ASCII).
fn is_principal(arn: &str) -> bool {
    static PATTERN: std::sync::LazyLock<regex::Regex> =
        std::sync::LazyLock::new(|| regex::Regex::new(&format!("(?-u){PRINCIPAL_PATTERN}")).expect("valid regex"));
    PATTERN.is_match(arn)
}

/// `labcheck cohort invite ROSTER`.
pub fn invite(s: &InviteSettings) -> Result<Exit, Error> {
    if !is_principal(&s.principal) {
        return Err(Error::bad(format!(
            "--principal `{}` is not an IAM role or user ARN (arn:aws:iam::111122223333:role/NAME or …:user/NAME): \
             the identity you grade with; `aws sts get-caller-identity` shows it (for an assumed role, give the role's ARN)",
            crate::redact::strip_control(&s.principal)
        )));
    }
    if let Some(url) = &s.template_url
        && !url.starts_with("https://")
    {
        return Err(Error::bad(format!(
            "--template-url `{}` must be an https:// URL of the template in S3 (CloudFormation reads quick-create templates from S3)",
            crate::redact::strip_control(url)
        )));
    }
    let parsed = roster::load(&s.roster).map_err(Error::bad)?;
    if !s.allow_shared_accounts {
        roster::shared_accounts(&parsed).map_err(Error::bad)?;
    }
    let text = crate::textfile::read_capped(&s.roster, 16 << 20)
        .map_err(|e| Error::bad(format!("{}: {e}", s.roster.display())))?;
    let (rewritten, ids, fresh) = with_ids(&text, &parsed, s.renew, &mut new_id)
        .map_err(|e| Error::bad(format!("{}: {e}", s.roster.display())))?;
    // What is written is a roster like any other.
    let base = s.roster.parent().map(Path::to_path_buf).unwrap_or_default();
    roster::parse(&parsed.file, &rewritten, &base).map_err(Error::bad)?;
    let out = s.output.clone().unwrap_or_else(|| s.roster.clone());
    write_atomic(&out, rewritten.as_bytes()).map_err(|source| Error::Write {
        path: out.clone(),
        source,
    })?;

    let mut text = String::new();
    for entry in &parsed.learners {
        let id = &ids[&entry.index];
        text.push_str(&instructions(entry, id, s));
    }
    crate::report::print_stdout(&text).map_err(Error::Output)?;
    for (_, learners) in shared_ids(&parsed, &ids) {
        eprintln!(
            "warning: learners {} share one external id: each should have their own (--renew gives every learner a new one; they then deploy their role again)",
            learners.join(", ")
        );
    }
    eprintln!(
        "wrote {}: {} learners, {} new external ids, {} kept{}; send each learner their own command{}",
        out.display(),
        parsed.learners.len(),
        fresh,
        parsed.learners.len() - fresh,
        if s.renew { "" } else { " (--renew replaces them)" },
        if s.template_url.is_some() { " or link" } else { "" }
    );
    Ok(Exit::Pass)
}

/// Learners who share an external id, by id.
fn shared_ids(roster: &Roster, ids: &HashMap<usize, String>) -> Vec<(String, Vec<String>)> {
    let mut by_id: Vec<(String, Vec<String>)> = Vec::new();
    for l in &roster.learners {
        let id = &ids[&l.index];
        match by_id.iter_mut().find(|(x, _)| x == id) {
            Some((_, names)) => names.push(l.learner.clone()),
            None => by_id.push((id.clone(), vec![l.learner.clone()])),
        }
    }
    by_id.retain(|(_, names)| names.len() > 1);
    by_id
}

/// Why the roster could not be written with its ids.
#[derive(Debug, thiserror::Error)]
enum RewriteError {
    #[error("not valid CSV: {0}")]
    Csv(csv::Error),
    #[error("the roster is empty")]
    Empty,
    #[error("the roster has more rows than learners")]
    MoreRows,
    #[error("the operating system gave no random bytes: {0}")]
    Random(getrandom::Error),
    #[error("{0}")]
    Write(csv::Error),
    #[error("{0}")]
    Flush(std::io::Error),
    #[error("{0}")]
    Utf8(std::string::FromUtf8Error),
}

/// The roster text with an `external_id` for every learner: the column is
/// added when missing, an empty cell (every cell, with `renew`) gets a new
/// id. Returns the text, each learner's id by roster position, and how many
/// are new. The byte-order mark, a `sep=,` line and the line ending are kept.
fn with_ids(
    text: &str,
    roster: &Roster,
    renew: bool,
    new_id: &mut dyn FnMut() -> Result<String, getrandom::Error>,
) -> Result<(String, HashMap<usize, String>, usize), RewriteError> {
    let (bom, body) = match text.strip_prefix('\u{feff}') {
        Some(rest) => ("\u{feff}", rest),
        None => ("", text),
    };
    let crlf = body.contains("\r\n");
    let newline = if crlf { "\r\n" } else { "\n" };
    let (sep_line, body) = match body.strip_prefix("sep=") {
        Some(rest) => {
            let (line, after) = rest.split_once('\n').unwrap_or((rest, ""));
            (Some(format!("sep={}", line.trim_end_matches('\r'))), after)
        }
        None => (None, body),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut records: Vec<Vec<String>> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(RewriteError::Csv)?;
        records.push(record.iter().map(str::to_string).collect());
    }
    let Some(header) = records.first_mut() else {
        return Err(RewriteError::Empty);
    };
    let normal = |name: &str| name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let column = match header.iter().position(|h| normal(h) == "external_id") {
        Some(i) => i,
        None => {
            header.push("external_id".into());
            header.len() - 1
        }
    };
    let width = header.len();
    let mut ids: HashMap<usize, String> = HashMap::new();
    let mut used: HashSet<String> = HashSet::new();
    let mut fresh = 0;
    let mut learners = roster.learners.iter();
    for row in records.iter_mut().skip(1) {
        // Rows of empty cells are not learners (the roster reader skips them too).
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let entry: &Entry = learners.next().ok_or(RewriteError::MoreRows)?;
        if row.len() < width {
            row.resize(width, String::new());
        }
        let kept = row[column].trim().to_string();
        let id = if kept.is_empty() || renew {
            fresh += 1;
            loop {
                let id = new_id().map_err(RewriteError::Random)?;
                if !used.contains(&id) && !roster.learners.iter().any(|l| l.external_id.as_deref() == Some(&id)) {
                    break id;
                }
            }
        } else {
            kept
        };
        row[column] = id.clone();
        used.insert(id.clone());
        ids.insert(entry.index, id);
    }
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .terminator(if crlf {
            csv::Terminator::CRLF
        } else {
            csv::Terminator::Any(b'\n')
        })
        .from_writer(Vec::new());
    for row in &records {
        w.write_record(row).map_err(RewriteError::Write)?;
    }
    let bytes = w.into_inner().map_err(|e| RewriteError::Flush(e.into_error()))?;
    let csv = String::from_utf8(bytes).map_err(RewriteError::Utf8)?;
    let mut out = String::from(bom);
    if let Some(line) = sep_line {
        out.push_str(&line);
        out.push_str(newline);
    }
    out.push_str(&csv);
    Ok((out, ids, fresh))
}

/// One learner's part of the output: who, the deploy command, and the
/// quick-create link when the template is published.
fn instructions(entry: &Entry, id: &str, s: &InviteSettings) -> String {
    let region = entry.region.clone().or_else(|| s.region.clone());
    let bucket = lab_bucket(entry, region.as_deref());
    let mut params = vec![
        (PRINCIPAL_PARAMETER, s.principal.clone()),
        (EXTERNAL_ID_PARAMETER, id.to_string()),
    ];
    if let Some(b) = bucket {
        params.push((BUCKET_PARAMETER, b));
    }
    let mut out = format!(
        "# {} (account {}{})\n",
        entry.learner,
        entry.account,
        region.as_deref().map(|r| format!(", {r}")).unwrap_or_default()
    );
    out.push_str(&format!(
        "aws cloudformation deploy --template-file {TEMPLATE_FILE} --stack-name {STACK_NAME} \\\n  --capabilities CAPABILITY_NAMED_IAM{} \\\n  --parameter-overrides {}\n",
        region.as_deref().map(|r| format!(" --region {}", shell_word(r))).unwrap_or_default(),
        params
            .iter()
            .map(|(k, v)| shell_word(&format!("{k}={v}")))
            .collect::<Vec<_>>()
            .join(" ")
    ));
    if let Some(url) = &s.template_url {
        out.push_str(&quick_create_link(url, region.as_deref(), &params));
        out.push('\n');
    }
    out.push('\n');
    out
}

/// The learner's lab bucket: the roster's `bucket`, else the lab's default
/// name for their account and Region; `None` when the Region is not known
/// (the template then takes the default in the Region it is deployed in).
fn lab_bucket(entry: &Entry, region: Option<&str>) -> Option<String> {
    use crate::params::{Params, Source};
    let mut params = Params::default();
    let row = Source::Roster { line: entry.line };
    if let Some(r) = region {
        params.set(Param::Region, r, row.clone());
    }
    params.set(Param::Account, &entry.account, row.clone());
    // The roster's parser admits parameter names only.
    for (param, value) in entry
        .params
        .iter()
        .filter_map(|(name, value)| Some((Param::from_name(name)?, value)))
    {
        params.set(param, value, row.clone());
    }
    params.fill_defaults();
    params
        .get(Param::Bucket)
        .filter(|b| !b.contains('{'))
        .map(str::to_string)
}

/// A CloudFormation console quick-create link: `templateURL`, `stackName`
/// and `param_NAME` query parameters after the console's `#/stacks/create/review`.
fn quick_create_link(template_url: &str, region: Option<&str>, params: &[(&str, String)]) -> String {
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    // Everything but RFC 3986's unreserved characters.
    const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');
    let enc = |v: &str| utf8_percent_encode(v, QUERY_VALUE).to_string();
    let (host, query_region) = match region {
        Some(r) => (format!("https://{r}.console.aws.amazon.com"), format!("?region={r}")),
        None => ("https://console.aws.amazon.com".to_string(), String::new()),
    };
    let mut link = format!(
        "{host}/cloudformation/home{query_region}#/stacks/create/review?templateURL={}&stackName={}",
        enc(template_url),
        enc(STACK_NAME)
    );
    for (name, value) in params {
        link.push_str(&format!("&param_{name}={}", enc(value)));
    }
    link
}

/// A word for a POSIX shell: as it is when it holds only safe characters,
/// else in single quotes.
fn shell_word(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roster_of(text: &str) -> Roster {
        roster::parse("roster.csv", text, Path::new(".")).unwrap()
    }

    fn counter() -> impl FnMut() -> Result<String, getrandom::Error> {
        let mut n = 0;
        move || {
            n += 1;
            Ok(format!("id{n:030}"))
        }
    }

    #[test]
    fn ids_are_random_unique_and_128_bits() {
        let ids: HashSet<String> = (0..1000).map(|_| new_id().unwrap()).collect();
        assert_eq!(ids.len(), 1000);
        for id in &ids {
            assert_eq!(id.len(), 2 * ID_BYTES, "{id}");
            assert!(
                id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
                "{id}"
            );
        }
    }

    #[test]
    fn the_column_is_added_and_filled_keeping_the_rest() {
        // (A blank line is read past, and not written back.)
        let text = "learner,account,region\nada,111111111111,us-west-2\n\n\"Lovelace, A\",222222222222,\n";
        let r = roster_of(text);
        let (out, ids, fresh) = with_ids(text, &r, false, &mut counter()).unwrap();
        assert_eq!(
            out,
            "learner,account,region,external_id\nada,111111111111,us-west-2,id000000000000000000000000000001\n\"Lovelace, A\",222222222222,,id000000000000000000000000000002\n"
        );
        assert_eq!((ids.len(), fresh), (2, 2));
        let again = roster_of(&out);
        assert_eq!(again.learners[1].external_id.as_deref(), Some(ids[&1].as_str()));
    }

    #[test]
    fn existing_ids_are_kept_unless_renewed_and_the_spreadsheets_extras_too() {
        let text = "\u{feff}sep=,\r\nLearner,Account,External ID\r\nada,111111111111,kept-id\r\nbob,222222222222,\r\n";
        let r = roster_of(text);
        let (out, ids, fresh) = with_ids(text, &r, false, &mut counter()).unwrap();
        assert_eq!(
            out,
            "\u{feff}sep=,\r\nLearner,Account,External ID\r\nada,111111111111,kept-id\r\nbob,222222222222,id000000000000000000000000000001\r\n"
        );
        assert_eq!((ids[&0].as_str(), fresh), ("kept-id", 1));
        let (out, ids, fresh) = with_ids(text, &r, true, &mut counter()).unwrap();
        assert!(!out.contains("kept-id"), "{out}");
        assert_eq!((ids[&0].as_str(), fresh), ("id000000000000000000000000000001", 2));
    }

    #[test]
    fn a_new_id_never_repeats_another() {
        let text =
            "learner,account,external_id\nada,111111111111,id000000000000000000000000000001\nbob,222222222222,\n";
        let r = roster_of(text);
        let (_, ids, _) = with_ids(text, &r, false, &mut counter()).unwrap();
        assert_eq!(ids[&1], "id000000000000000000000000000002");
    }

    #[test]
    fn the_command_and_the_link_carry_the_learners_own_parameters() {
        let r = roster_of("learner,account,region,bucket\nada,111111111111,eu-west-1,\nbob,222222222222,,bob-media\n");
        let s = InviteSettings {
            roster: "roster.csv".into(),
            output: None,
            renew: false,
            principal: "arn:aws:iam::999999999999:role/instructor".into(),
            template_url: Some("https://b.s3.amazonaws.com/labcheck-grader.yaml".into()),
            region: None,
            allow_shared_accounts: false,
        };
        let ada = instructions(&r.learners[0], "abc123", &s);
        assert_eq!(
            ada,
            "# ada (account 111111111111, eu-west-1)\n\
             aws cloudformation deploy --template-file labcheck-grader.yaml --stack-name labcheck-grader \\\n  \
             --capabilities CAPABILITY_NAMED_IAM --region eu-west-1 \\\n  \
             --parameter-overrides InstructorPrincipalArn=arn:aws:iam::999999999999:role/instructor ExternalId=abc123 LabBucket=pets-project-eu-west-1-111111111111\n\
             https://eu-west-1.console.aws.amazon.com/cloudformation/home?region=eu-west-1#/stacks/create/review\
             ?templateURL=https%3A%2F%2Fb.s3.amazonaws.com%2Flabcheck-grader.yaml&stackName=labcheck-grader\
             &param_InstructorPrincipalArn=arn%3Aaws%3Aiam%3A%3A999999999999%3Arole%2Finstructor\
             &param_ExternalId=abc123&param_LabBucket=pets-project-eu-west-1-111111111111\n\n"
        );
        // No Region: the bucket is the template's default where it is deployed.
        let bob = instructions(&r.learners[1], "x", &s);
        assert!(bob.contains("LabBucket=bob-media"), "{bob}");
        let r = roster_of("learner,account\ncy,333333333333\n");
        let cy = instructions(&r.learners[0], "x", &s);
        assert!(!cy.contains("LabBucket") && !cy.contains("--region"), "{cy}");
        assert!(
            cy.contains("https://console.aws.amazon.com/cloudformation/home#/stacks/create/review?"),
            "{cy}"
        );
    }

    #[test]
    fn the_principal_is_a_role_or_a_user() {
        for good in [
            "arn:aws:iam::111122223333:role/instructor",
            "arn:aws:iam::111122223333:role/teaching/grader",
            "arn:aws-us-gov:iam::111122223333:user/ada@uni.edu",
        ] {
            assert!(is_principal(good), "{good}");
        }
        for bad in [
            "111122223333",
            "arn:aws:iam::111122223333:root",
            "arn:aws:sts::111122223333:assumed-role/instructor/session",
            "arn:aws:iam::111122223333:group/teachers",
            "arn:aws:iam::111122223333:role/é",
        ] {
            assert!(!is_principal(bad), "{bad}");
        }
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("ExternalId=abc"), "ExternalId=abc");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
