//! `labcheck policy`: the read-only IAM policy labcheck needs for a lab,
//! derived from the actions its check kinds declare
//! ([`crate::checks::policy_actions`]) and what `cohort leftovers` reads
//! beyond them ([`crate::cohort::leftovers::IAM_ACTIONS`]), or the
//! CloudFormation template of the cohort grader role granting it.

use crate::course::lab::Lab;

/// Every IAM action labcheck calls in a learner's account for `lab`, sorted:
/// the checks', and `cohort leftovers`'s.
pub fn actions(lab: &Lab) -> Vec<&'static str> {
    let mut actions = crate::checks::policy_actions(lab);
    actions.extend(crate::cohort::leftovers::IAM_ACTIONS.iter().copied());
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The IAM policy document (JSON) that allows exactly the lab's actions.
pub fn document(lab: &Lab) -> String {
    let doc = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "LabcheckReadOnly",
            "Effect": "Allow",
            "Action": actions(lab),
            "Resource": "*",
        }],
    });
    serde_json::to_string_pretty(&doc).expect("serializes") + "\n"
}

/// What `labcheck policy` prints: the policy, or with `role_template` the
/// grader role's template (YAML) with the same actions.
pub fn render(lab: &Lab, role_template: bool) -> String {
    if role_template {
        crate::cohort::template::role_template(&actions(lab))
    } else {
        document(lab)
    }
}

#[cfg(test)]
mod tests {
    use crate::course::Course;

    #[test]
    fn the_policy_allows_the_lab_actions() {
        let course = Course::embedded(&crate::checks::kind_ids()).unwrap();
        let lab = course.lab(None).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&super::document(lab)).unwrap();
        let actions: Vec<&str> = doc["Statement"][0]["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(actions, super::actions(lab));
        for a in crate::checks::policy_actions(lab)
            .iter()
            .chain(crate::cohort::leftovers::IAM_ACTIONS)
        {
            assert!(actions.contains(a), "{a}");
        }
        assert_eq!(doc["Statement"][0]["Effect"], "Allow");
        assert!(super::render(lab, true).contains("AWSTemplateFormatVersion"));
    }
}
