//! What an environment's state and health mean for grading it, as Elastic
//! Beanstalk reports them on real accounts:
//!
//! - `Status` (EnvironmentStatus, Elastic Beanstalk API reference:
//!   Aborting, Launching, Updating, LinkingFrom, LinkingTo, Ready,
//!   Terminating, Terminated): an environment that is launching or updating
//!   (every `eb deploy` and `eb setenv`, for minutes) cannot be graded yet.
//! - Enhanced health (the default on Amazon Linux 2023 platforms) counts the
//!   application's HTTP 4xx answers: internet scanners sending foreign Host
//!   headers (Django answers 400) and labcheck's own 404 probe can turn a
//!   correct environment Yellow (Warning). Its `Causes`
//!   (DescribeEnvironmentHealth) say so; the developer guide's "Configuring
//!   enhanced health rules" gives the rule that ignores them.

use super::OptionSetting;
use regex::Regex;
use std::sync::LazyLock;

/// What an environment's `Status` means for grading it now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Ready: its health and settings are what they are.
    Ready,
    /// Between two states (launching, updating, aborting an update,
    /// linking): could not be graded yet.
    Changing,
    /// Terminating or terminated: nothing to grade.
    Gone,
}

/// The phase of an EnvironmentStatus value. A value labcheck does not know
/// is taken for a change in progress (asked again, it settles).
pub(crate) fn phase(status: &str) -> Phase {
    match status {
        "Ready" => Phase::Ready,
        "Terminating" | "Terminated" => Phase::Gone,
        _ => Phase::Changing,
    }
}

/// Why an environment in this status cannot be graded yet, in words.
pub(crate) fn changing(name: &str, status: &str) -> String {
    let doing = match status {
        "Launching" => "is being created",
        "Updating" => "is applying a change (an eb deploy, eb setenv or configuration update takes a few minutes)",
        "Aborting" => "is rolling back an update",
        "LinkingFrom" | "LinkingTo" => "is being linked to another environment",
        _ => "is changing state",
    };
    format!(
        "environment {name} is {status}: it {doing}, so it could not be graded yet; run the check again in a few minutes"
    )
}

/// Enhanced health's cause for the share of HTTP 4xx answers: "85.7 % of
/// the requests are erroring with HTTP 4xx." (instances) or "… of the
/// requests to the ELB are erroring with HTTP 4xx." (the load balancer).
static CAUSE_4XX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^[\d.]+ ?% of the requests (?:to the ELB )?are erroring with HTTP 4xx\.?$").expect("regex")
});

/// Said beside a 4xx cause when little traffic comes in ("Insufficient
/// request rate (6.0 requests/min) to determine application health."):
/// not a problem of its own.
static CAUSE_LOW_RATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)^Insufficient request rate\b").expect("regex"));

/// Who answered the 4xx a warning is only about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Only4xx {
    /// The application on the instances.
    Application,
    /// The load balancer (at least one cause says "to the ELB").
    LoadBalancer,
}

/// Whether every cause is a share of HTTP 4xx answers (or the low request
/// rate said beside one), and whose; `None` when any other cause is there,
/// or no 4xx cause at all.
pub(crate) fn only_4xx(causes: &[String]) -> Option<Only4xx> {
    let mut found = None;
    for cause in causes.iter().map(|c| c.trim()) {
        if CAUSE_4XX.is_match(cause) {
            if cause.to_ascii_lowercase().contains("to the elb") {
                found = Some(Only4xx::LoadBalancer);
            } else {
                found.get_or_insert(Only4xx::Application);
            }
        } else if !CAUSE_LOW_RATE.is_match(cause) {
            return None;
        }
    }
    found
}

/// The namespace and option of enhanced health's rule document.
pub(crate) const RULES_NAMESPACE: &str = "aws:elasticbeanstalk:healthreporting:system";
const RULES_OPTION: &str = "ConfigDocument";

/// Whether the environment's enhanced health rules ignore HTTP 4xx answers
/// of the application (`Rules.Environment.Application.ApplicationRequests4xx`)
/// or of the load balancer (`Rules.Environment.ELB.ELBRequests4xx`), each
/// `Enabled: false` in the ConfigDocument option.
pub(crate) fn ignores_4xx(settings: &[OptionSetting], of: Only4xx) -> bool {
    let Some(doc) = settings
        .iter()
        .find(|o| o.namespace == RULES_NAMESPACE && o.name == RULES_OPTION)
        .and_then(|o| serde_json::from_str::<serde_json::Value>(&o.value).ok())
    else {
        return false;
    };
    let rule = match of {
        Only4xx::Application => &doc["Rules"]["Environment"]["Application"]["ApplicationRequests4xx"],
        Only4xx::LoadBalancer => &doc["Rules"]["Environment"]["ELB"]["ELBRequests4xx"],
    };
    matches!(&rule["Enabled"], serde_json::Value::Bool(false))
        || rule["Enabled"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("false"))
}

/// The `.ebextensions` file that turns the rule on, for the hint.
pub(crate) const IGNORE_4XX_CONFIG: &str = "option_settings:\n  aws:elasticbeanstalk:healthreporting:system:\n    ConfigDocument:\n      Rules:\n        Environment:\n          Application:\n            ApplicationRequests4xx:\n              Enabled: false\n      Version: 1";

#[cfg(test)]
mod tests {
    use super::*;

    fn causes(list: &[&str]) -> Vec<String> {
        list.iter().map(|c| c.to_string()).collect()
    }

    #[test]
    fn statuses_as_the_api_reference_lists_them() {
        assert_eq!(phase("Ready"), Phase::Ready);
        for s in ["Launching", "Updating", "Aborting", "LinkingFrom", "LinkingTo", ""] {
            assert_eq!(phase(s), Phase::Changing, "{s}");
        }
        assert_eq!(phase("Terminating"), Phase::Gone);
        assert_eq!(phase("Terminated"), Phase::Gone);
        let said = changing("pets-project-env", "Updating");
        assert!(said.contains("eb deploy") && said.contains("a few minutes"), "{said}");
    }

    #[test]
    fn causes_that_are_only_4xx() {
        // The cause strings enhanced health reports (DescribeEnvironmentHealth,
        // and the health transition events that quote them).
        assert_eq!(
            only_4xx(&causes(&["85.7 % of the requests are erroring with HTTP 4xx."])),
            Some(Only4xx::Application)
        );
        assert_eq!(
            only_4xx(&causes(&[
                "100.0 % of the requests are erroring with HTTP 4xx.",
                "Insufficient request rate (6.0 requests/min) to determine application health.",
            ])),
            Some(Only4xx::Application)
        );
        assert_eq!(
            only_4xx(&causes(&[
                "12.5 % of the requests to the ELB are erroring with HTTP 4xx."
            ])),
            Some(Only4xx::LoadBalancer)
        );
    }

    #[test]
    fn any_other_cause_is_not_only_4xx() {
        assert_eq!(
            only_4xx(&causes(&[
                "85.7 % of the requests are erroring with HTTP 4xx.",
                "Impaired services on 1 out of 1 instance.",
            ])),
            None
        );
        assert_eq!(
            only_4xx(&causes(&["100.0 % of the requests are failing with HTTP 5xx."])),
            None
        );
        assert_eq!(
            only_4xx(&causes(&[
                "Insufficient request rate (6.0 requests/min) to determine application health."
            ])),
            None
        );
        assert_eq!(only_4xx(&[]), None);
        // A cause that merely mentions 4xx among other words is not one.
        assert_eq!(
            only_4xx(&causes(&[
                "Sandbox: 5 % of the requests are erroring with HTTP 4xx, and the disk is full."
            ])),
            None
        );
    }

    #[test]
    fn the_rule_that_ignores_4xx_is_read_from_the_config_document() {
        let setting = |value: &str| OptionSetting {
            namespace: RULES_NAMESPACE.into(),
            name: "ConfigDocument".into(),
            value: value.into(),
        };
        // The document as the developer guide writes it.
        let guide = r#"{"Rules": { "Environment": { "Application": { "ApplicationRequests4xx": { "Enabled": false } } } }, "Version": 1 }"#;
        assert!(ignores_4xx(&[setting(guide)], Only4xx::Application));
        assert!(!ignores_4xx(&[setting(guide)], Only4xx::LoadBalancer));
        let elb = r#"{"Rules":{"Environment":{"ELB":{"ELBRequests4xx":{"Enabled":"false"}}}},"Version":1}"#;
        assert!(ignores_4xx(&[setting(elb)], Only4xx::LoadBalancer));
        let metrics_only = r#"{"CloudWatchMetrics":{"Environment":{"ApplicationRequests4xx":60}},"Version":1}"#;
        assert!(!ignores_4xx(&[setting(metrics_only)], Only4xx::Application));
        assert!(!ignores_4xx(&[setting("not json")], Only4xx::Application));
        assert!(!ignores_4xx(&[], Only4xx::Application));
        // The hint's YAML says the same as the guide's JSON.
        let yaml: serde_json::Value = serde_norway::from_str(IGNORE_4XX_CONFIG).unwrap();
        let doc = &yaml["option_settings"][RULES_NAMESPACE]["ConfigDocument"];
        assert!(ignores_4xx(&[setting(&doc.to_string())], Only4xx::Application));
    }
}
