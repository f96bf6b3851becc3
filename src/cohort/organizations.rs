//! `--organization OU_ID`: the learners are the accounts an institution
//! already manages in AWS Organizations. From the management account (or a
//! delegated administrator), `organizations:ListAccountsForParent` lists the
//! accounts directly under the organizational unit (and, `--recursive`,
//! `ListChildren` the units below it); the ACTIVE ones are graded, a
//! suspended or closing account is left out and counted. Each learner is
//! named by the account's name (or e-mail, `--learner-name email`); a
//! roster, when given as well, is matched by account id and gives its row's
//! name, parameters, external id and LMS identities.

use super::roster::{Entry, Identity, Roster, fnv1a};
use crate::aws::AwsError;
use aws_sdk_organizations::types::{AccountState, AccountStatus, ChildType};
use regex::Regex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::LazyLock;

/// Organizational units walked at most (`--recursive`): Organizations
/// nests five levels deep, and no institution has more units than this.
const MAX_UNITS: usize = 2000;

/// An organizational unit's id (`ou-…`) or a root's (`r-…`), as the
/// Organizations API reference gives their patterns.
static PARENT_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$").expect("valid regex"));

/// `--organization`, `--recursive`, `--learner-name`.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct OrganizationArgs {
    /// Grade the ACTIVE accounts of this AWS Organizations unit (ou-…, or a
    /// root r-…) instead of, or with, a roster: run from the management
    /// account or a delegated administrator. A roster given as well is
    /// matched by account id, for its names, parameters, external ids and
    /// LMS identities.
    #[arg(long, value_name = "OU_ID")]
    pub organization: Option<String>,
    /// With --organization: the accounts of the units below it too, at any depth.
    #[arg(long, requires = "organization")]
    pub recursive: bool,
    /// With --organization: name each learner by the account's name or its e-mail.
    #[arg(long, value_enum, default_value_t = LearnerName::AccountName, requires = "organization")]
    pub learner_name: LearnerName,
}

/// What names a learner graded from an organization.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LearnerName {
    /// The account's name.
    #[default]
    AccountName,
    /// The account's root e-mail address.
    Email,
}

/// One account of the organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgAccount {
    /// The 12-digit account id.
    pub id: String,
    /// The account's name.
    pub name: String,
    /// The account's root e-mail address.
    pub email: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ... (the account's State,
    /// else its older Status).
    pub state: String,
    /// The unit it is directly under.
    pub parent: String,
}

/// An `--organization` that is neither an organizational unit's id nor a root's.
#[derive(Debug, thiserror::Error)]
#[error(
    "--organization `{0}` is not an organizational unit id (ou-ab12-cd34ef56) or a root id (r-ab12); `aws organizations list-roots` and `list-organizational-units-for-parent` show them"
)]
pub struct NotAParentId(pub String);

/// Whether `id` looks like an organizational unit's or a root's id.
pub fn check_parent_id(id: &str) -> Result<(), NotAParentId> {
    if PARENT_ID.is_match(id) {
        Ok(())
    } else {
        Err(NotAParentId(id.to_string()))
    }
}

/// The accounts under `parent` (and the units below it, with `recursive`),
/// whatever their state, in the order Organizations lists them, unit by unit.
pub async fn accounts(
    client: &aws_sdk_organizations::Client,
    parent: &str,
    recursive: bool,
) -> Result<Vec<OrgAccount>, AwsError> {
    let mut found = Vec::new();
    let mut queue = vec![parent.to_string()];
    let mut seen: HashSet<String> = HashSet::new();
    while let Some(unit) = queue.pop() {
        if !seen.insert(unit.clone()) || seen.len() > MAX_UNITS {
            continue;
        }
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&unit)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| AwsError::from_sdk("organizations:ListAccountsForParent", e))?;
            for a in page.accounts() {
                let state = a
                    .state()
                    .map(AccountState::as_str)
                    .or(a.status().map(AccountStatus::as_str))
                    .unwrap_or_default();
                found.push(OrgAccount {
                    id: a.id().unwrap_or_default().to_string(),
                    name: a.name().unwrap_or_default().to_string(),
                    email: a.email().unwrap_or_default().to_string(),
                    state: state.to_string(),
                    parent: unit.clone(),
                });
            }
        }
        if recursive {
            let mut children = Vec::new();
            let mut pages = client
                .list_children()
                .parent_id(&unit)
                .child_type(ChildType::OrganizationalUnit)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("organizations:ListChildren", e))?;
                children.extend(page.children().iter().filter_map(|c| c.id().map(str::to_string)));
            }
            // Depth first, the units in the order listed.
            queue.extend(children.into_iter().rev());
        }
    }
    Ok(found)
}

/// What the instructor reads when the accounts cannot be listed.
pub fn listing_failed(e: &AwsError, parent: &str) -> String {
    let why = match e.code.as_deref() {
        Some("AWSOrganizationsNotInUseException") => {
            "this account is not in an organization: run from the organization's management account or a delegated administrator".to_string()
        }
        Some("ParentNotFoundException") => format!("the organization has no unit {parent}"),
        Some("AccessDeniedException") => {
            "refused: only the management account, or a delegated administrator, may list an organization's accounts (organizations:ListAccountsForParent, organizations:ListChildren)".to_string()
        }
        _ => e.message.clone(),
    };
    format!("cannot list the accounts of {parent}: {why}")
}

/// The learners of an organization as a roster: the ACTIVE accounts, each
/// named by its account's name or e-mail (or by its row of `roster`, matched
/// by account id), sorted by name; names that two accounts share get the
/// account id added. Returns the roster and what the instructor should know
/// (accounts left out, roster rows not in the unit).
pub fn roster_of(
    accounts: &[OrgAccount],
    parent: &str,
    recursive: bool,
    naming: LearnerName,
    roster: Option<&Roster>,
) -> (Roster, Vec<String>) {
    let mut notes = Vec::new();
    let mut inactive: BTreeMap<&str, usize> = BTreeMap::new();
    let mut active: Vec<&OrgAccount> = Vec::new();
    let mut ids: HashSet<&str> = HashSet::new();
    for a in accounts {
        if a.state != "ACTIVE" {
            *inactive.entry(a.state.as_str()).or_default() += 1;
        } else if ids.insert(a.id.as_str()) {
            active.push(a);
        }
    }
    if !inactive.is_empty() {
        let states: Vec<String> = inactive.iter().map(|(s, n)| format!("{n} {s}")).collect();
        notes.push(format!("left out accounts that are not ACTIVE: {}", states.join(", ")));
    }
    let rows: HashMap<&str, &Entry> = roster
        .map(|r| r.learners.iter().map(|e| (e.account.as_str(), e)).collect())
        .unwrap_or_default();
    if let Some(r) = roster {
        let outside: Vec<&str> = r
            .learners
            .iter()
            .filter(|e| !ids.contains(e.account.as_str()))
            .map(|e| e.learner.as_str())
            .collect();
        if !outside.is_empty() {
            notes.push(format!(
                "{} learners of {} are not ACTIVE accounts of {parent}{} and are not graded: {}",
                outside.len(),
                r.file,
                if recursive { " or the units below it" } else { "" },
                outside.iter().take(10).copied().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    let name_of = |a: &OrgAccount| -> String {
        let name = match naming {
            LearnerName::AccountName if !a.name.is_empty() => &a.name,
            _ => &a.email,
        };
        let name = crate::redact::strip_control(name.trim());
        if name.is_empty() { a.id.clone() } else { name }
    };
    let mut named: Vec<(String, &OrgAccount, Option<&Entry>)> = active
        .iter()
        .map(|a| {
            let row = rows.get(a.id.as_str()).copied();
            (row.map_or_else(|| name_of(a), |e| e.learner.clone()), *a, row)
        })
        .collect();
    let mut count: HashMap<String, usize> = HashMap::new();
    for (name, _, _) in &named {
        *count.entry(name.clone()).or_default() += 1;
    }
    for (name, a, _) in &mut named {
        if count[name.as_str()] > 1 {
            *name = format!("{name} ({})", a.id);
        }
    }
    named.sort_by(|x, y| x.0.cmp(&y.0).then(x.1.id.cmp(&y.1.id)));
    let learners: Vec<Entry> = named
        .into_iter()
        .enumerate()
        .map(|(index, (learner, a, row))| match row {
            Some(e) => Entry {
                index,
                learner,
                ..e.clone()
            },
            None => Entry {
                index,
                line: 0,
                learner,
                account: a.id.clone(),
                role_arn: None,
                external_id: None,
                region: None,
                project_dir: None,
                params: Vec::new(),
                identity: Identity::default(),
                account_at: (0, 0),
                role_at: None,
            },
        })
        .collect();
    let mut key = roster.map(|r| r.fingerprint.clone()).unwrap_or_default();
    for l in &learners {
        key.push_str(&format!("\n{},{}", l.account, l.learner));
    }
    let file = match roster {
        Some(r) => format!("{parent} with {}", r.file),
        None => parent.to_string(),
    };
    (
        Roster {
            file,
            learners,
            fingerprint: format!("{:016x}", fnv1a(key.as_bytes())),
        },
        notes,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(id: &str, name: &str, state: &str) -> OrgAccount {
        OrgAccount {
            id: id.into(),
            name: name.into(),
            email: format!("{name}@example.edu"),
            state: state.into(),
            parent: "ou-ab12-cd34ef56".into(),
        }
    }

    #[test]
    fn parent_ids_are_checked_before_asking() {
        assert!(check_parent_id("ou-ab12-cd34ef56").is_ok());
        assert!(check_parent_id("r-ab12").is_ok());
        assert!(
            check_parent_id("ou-AB12")
                .unwrap_err()
                .to_string()
                .contains("is not an organizational unit id")
        );
        assert!(check_parent_id("123456789012").is_err());
    }

    #[test]
    fn active_accounts_become_learners_and_a_roster_names_them() {
        let accounts = [
            account("111111111111", "grace", "ACTIVE"),
            account("222222222222", "ada", "ACTIVE"),
            account("333333333333", "gone", "SUSPENDED"),
            account("444444444444", "ada", "ACTIVE"),
        ];
        let (r, notes) = roster_of(&accounts, "ou-ab12-cd34ef56", false, LearnerName::AccountName, None);
        let names: Vec<&str> = r.learners.iter().map(|l| l.learner.as_str()).collect();
        assert_eq!(names, ["ada (222222222222)", "ada (444444444444)", "grace"]);
        assert_eq!(r.learners[2].account, "111111111111");
        assert_eq!(notes, ["left out accounts that are not ACTIVE: 1 SUSPENDED"]);
        let (r, _) = roster_of(&accounts, "ou-ab12-cd34ef56", false, LearnerName::Email, None);
        assert_eq!(r.learners[0].learner, "ada@example.edu (222222222222)");

        let roster = crate::cohort::roster::parse(
            "roster.csv",
            "learner,account,email,sis_login_id,bucket\nGrace Hopper,111111111111,gh@uni.edu,ghopper,grace-media\nnobody,555555555555,,,\n",
            std::path::Path::new("."),
        )
        .unwrap();
        let (r, notes) = roster_of(
            &accounts,
            "ou-ab12-cd34ef56",
            true,
            LearnerName::AccountName,
            Some(&roster),
        );
        let grace = r.learners.iter().find(|l| l.account == "111111111111").unwrap();
        assert_eq!(grace.learner, "Grace Hopper");
        assert_eq!(grace.identity.sis_login_id.as_deref(), Some("ghopper"));
        assert_eq!(grace.params, [("bucket".to_string(), "grace-media".to_string())]);
        assert!(
            notes[1].starts_with(
                "1 learners of roster.csv are not ACTIVE accounts of ou-ab12-cd34ef56 or the units below it"
            ) && notes[1].ends_with(": nobody"),
            "{notes:?}"
        );
        assert_eq!(r.file, "ou-ab12-cd34ef56 with roster.csv");
    }
}
