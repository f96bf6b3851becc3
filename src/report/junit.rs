//! JUnit XML: one test suite per step, one test case per check.

use super::{CheckReport, Report, Status};
use quick_junit::{NonSuccessKind, Report as Junit, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

/// A check's JUnit status: fail is a failure, error an error, skip skipped;
/// the message, hint and fix go with it (the cohort's JUnit uses it too).
pub fn case_status(check: &CheckReport) -> TestCaseStatus {
    let detail = if check.hint.is_empty() {
        check.message.clone()
    } else {
        format!("{}\nhint: {}\nfix: {}", check.message, check.hint, check.fix)
    };
    match check.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Skip => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(check.message.clone());
            s
        }
        Status::Fail | Status::Error => {
            let kind = if check.status == Status::Fail {
                NonSuccessKind::Failure
            } else {
                NonSuccessKind::Error
            };
            let mut s = TestCaseStatus::non_success(kind);
            s.set_message(check.message.clone());
            s.set_description(detail);
            s
        }
    }
}

/// Renders a report as a JUnit XML document.
pub fn render(report: &Report) -> String {
    let mut junit = Junit::new(format!("labcheck {}", report.lab));
    junit.set_time(Duration::from_millis(report.duration_ms));
    for step in &report.steps {
        let mut suite = TestSuite::new(step.id.clone());
        for check in &step.checks {
            let status = case_status(check);
            let mut case = TestCase::new(check.id.clone(), status);
            case.set_classname(format!("{}.{}", report.lab, step.id));
            case.set_time(Duration::from_millis(check.duration_ms));
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.to_string().expect("JUnit XML always serializes")
}

#[cfg(test)]
mod tests {
    use super::super::sample;

    #[test]
    fn one_suite_per_step_and_statuses_map() {
        let xml = super::render(&sample::report());
        assert!(xml.contains("<testsuite name=\"s3\" tests=\"4\""), "{xml}");
        assert!(xml.contains("<failure message=\"no CORS configuration\""), "{xml}");
        assert!(
            xml.contains("<error message=\"AccessDenied on GetPublicAccessBlock\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"needs s3.cors, which did not pass\""),
            "{xml}"
        );
    }
}
