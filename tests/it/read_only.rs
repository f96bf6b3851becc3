//! Proof from moto's recorder that a full `labcheck check` only reads, makes
//! each AWS call once however many checks need its answer, and that each
//! check calls only the IAM actions its kind declares (what `labcheck
//! policy`, the grader role and the book's checker reference are made from).

use crate::common::{labcheck, learner_alone, recorder};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[test]
fn a_full_run_only_reads_and_calls_each_action_once() {
    let l = learner_alone("a_full_run_only_reads_and_calls_each_action_once");
    recorder::start();
    let (code, report) = l.check_json(&[]);
    assert_eq!(code, 0, "{report:#}");
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut actions: BTreeSet<String> = BTreeSet::new();
    for call in recorder::calls().into_iter().filter(|c| c.access_key == l.account) {
        *counts.entry(call.request).or_default() += 1;
        actions.insert(call.action);
    }
    assert!(
        counts.len() >= 8,
        "too few calls recorded for {}: {counts:#?}",
        l.account
    );
    assert!(actions.contains("sts:GetCallerIdentity"), "{actions:#?}");
    assert!(actions.contains("s3:GetBucketCORS"), "{actions:#?}");
    let writes: Vec<&String> = actions.iter().filter(|a| !recorder::is_read(a)).collect();
    assert!(writes.is_empty(), "labcheck made calls that are not reads: {writes:?}");
    let repeated: Vec<(&String, &usize)> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(repeated.is_empty(), "calls made more than once: {repeated:?}");
}

#[test]
fn each_check_calls_only_the_actions_its_kind_declares() {
    let l = learner_alone("each_check_calls_only_the_actions_its_kind_declares");
    let listed = labcheck().args(["list", "--format", "json"]).output().unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).expect("labcheck list --format json");
    let mut declared: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut needs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in listed["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
    {
        let id = c["id"].as_str().unwrap().to_string();
        let actions = c["iam_actions"]
            .as_array()
            .unwrap_or_else(|| panic!("labcheck list gives no iam_actions for {id}: {c}"));
        declared.insert(
            id.clone(),
            actions.iter().map(|a| a.as_str().unwrap().to_string()).collect(),
        );
        needs.insert(
            id,
            c["needs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
                .collect(),
        );
    }
    assert!(declared.len() >= 25, "{declared:?}");
    // A check run alone runs what it needs first: it may make their calls too.
    fn with_needs(id: &str, needs: &BTreeMap<String, Vec<String>>, out: &mut BTreeSet<String>) {
        if out.insert(id.to_string()) {
            for n in needs.get(id).into_iter().flatten() {
                with_needs(n, needs, out);
            }
        }
    }
    let mut undeclared = Vec::new();
    for id in declared.keys() {
        let mut run = BTreeSet::new();
        with_needs(id, &needs, &mut run);
        let allowed: BTreeSet<&String> = run.iter().flat_map(|r| &declared[r]).collect();
        recorder::start();
        let (_, report) = l.check_json(&[id]);
        // The solved sandbox passes every check: one that met an error
        // made fewer calls than it would, and would prove nothing here.
        let status = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["checks"].as_array().unwrap())
            .find(|c| c["id"] == id.as_str())
            .map(|c| c["status"].clone());
        assert_eq!(status, Some(Value::from("pass")), "{id} run alone: {report}");
        let made: BTreeSet<String> = recorder::calls()
            .into_iter()
            .filter(|c| c.access_key == l.account)
            .map(|c| c.action)
            // The account id every report names: asked once per run, needs no permission.
            .filter(|a| a != "sts:GetCallerIdentity")
            .collect();
        // A check that declares actions makes at least one of them: an empty
        // recording (the recorder off, the calls gone elsewhere) proves nothing.
        if !declared[id].is_empty() {
            assert!(
                made.iter()
                    .any(|a| declared[id].iter().any(|d| d.eq_ignore_ascii_case(a))),
                "{id} declares {:?} but made none of them (recorded: {made:?})",
                declared[id]
            );
        }
        for action in made {
            if !allowed.iter().any(|a| a.eq_ignore_ascii_case(&action)) {
                undeclared.push(format!(
                    "{id} calls {action}, which its kind does not declare ({report})"
                ));
            }
        }
    }
    assert!(undeclared.is_empty(), "{}", undeclared.join("\n"));
}
