//! `labcheck policy --role-template`: the CloudFormation template a learner
//! deploys so the instructor can grade their account. One IAM role,
//! `labcheck-grader`, that only the instructor's own role or user (not
//! their whole account) may assume, and only with the learner's own
//! external id; its read-only policy is derived from the lab's checks, each
//! action limited to the resources IAM lets a policy name for it: the lab's
//! bucket for S3, the learner's own account for the rest.

use serde_json::{Value, json};

/// The template's parameter naming whom the role trusts.
pub const PRINCIPAL_PARAMETER: &str = "InstructorPrincipalArn";
/// The template's parameter holding the learner's external id.
pub const EXTERNAL_ID_PARAMETER: &str = "ExternalId";
/// The template's parameter naming the lab's bucket (empty: the lab's default name).
pub const BUCKET_PARAMETER: &str = "LabBucket";
/// The stack name the deploy commands and links use.
pub const STACK_NAME: &str = "labcheck-grader";
/// The file name learners save the template as.
pub const TEMPLATE_FILE: &str = "labcheck-grader.yaml";

/// The resources one action may be limited to, as the Service Authorization
/// Reference gives its resource types, as `Fn::Sub` patterns: `${Bucket}` is
/// the lab's bucket. An action without resource types can only be granted on
/// `*`. An action missing from this table is granted on `*` too, and the
/// unit test below fails until it is added.
const RESOURCES: &[(&str, &[&str])] = &[
    ("ec2:DescribeInstances", &["*"]),
    ("ec2:DescribeSecurityGroups", &["*"]),
    ("ec2:DescribeVpcs", &["*"]),
    ("s3:ListAllMyBuckets", &["*"]),
    ("s3:GetAccountPublicAccessBlock", &["*"]),
    // The learner's own prefix lists and AWS-managed ones (owner `aws`).
    (
        "ec2:GetManagedPrefixListEntries",
        &[
            "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:prefix-list/*",
            "arn:${AWS::Partition}:ec2:*:aws:prefix-list/*",
        ],
    ),
    (
        "elasticache:DescribeCacheClusters",
        &["arn:${AWS::Partition}:elasticache:*:${AWS::AccountId}:cluster:*"],
    ),
    (
        "elasticache:DescribeReplicationGroups",
        &["arn:${AWS::Partition}:elasticache:*:${AWS::AccountId}:replicationgroup:*"],
    ),
    (
        "elasticache:DescribeServerlessCaches",
        &["arn:${AWS::Partition}:elasticache:*:${AWS::AccountId}:serverlesscache:*"],
    ),
    (
        "elasticbeanstalk:DescribeApplications",
        &["arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:application/*"],
    ),
    (
        "elasticbeanstalk:DescribeConfigurationSettings",
        &[
            "arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:configurationtemplate/*",
            "arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:environment/*",
        ],
    ),
    (
        "elasticbeanstalk:DescribeEnvironmentHealth",
        &["arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:environment/*"],
    ),
    (
        "elasticbeanstalk:DescribeEnvironments",
        &["arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:environment/*"],
    ),
    (
        "elasticbeanstalk:DescribeEvents",
        &[
            "arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:application/*",
            "arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:applicationversion/*",
            "arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:configurationtemplate/*",
            "arn:${AWS::Partition}:elasticbeanstalk:*:${AWS::AccountId}:environment/*",
        ],
    ),
    (
        "iam:GetInstanceProfile",
        &["arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/*"],
    ),
    // The instance role's policies: the account's own and AWS managed ones.
    (
        "iam:GetPolicy",
        &[
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
            "arn:${AWS::Partition}:iam::aws:policy/*",
        ],
    ),
    (
        "iam:GetPolicyVersion",
        &[
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/*",
            "arn:${AWS::Partition}:iam::aws:policy/*",
        ],
    ),
    (
        "iam:GetRolePolicy",
        &["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"],
    ),
    (
        "iam:ListAttachedRolePolicies",
        &["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"],
    ),
    (
        "iam:ListRolePolicies",
        &["arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"],
    ),
    (
        "rds:DescribeDBInstances",
        &["arn:${AWS::Partition}:rds:*:${AWS::AccountId}:db:*"],
    ),
    ("s3:GetBucketAcl", &["arn:${AWS::Partition}:s3:::${Bucket}"]),
    ("s3:GetBucketCORS", &["arn:${AWS::Partition}:s3:::${Bucket}"]),
    ("s3:GetBucketLocation", &["arn:${AWS::Partition}:s3:::${Bucket}"]),
    ("s3:GetBucketPolicy", &["arn:${AWS::Partition}:s3:::${Bucket}"]),
    ("s3:GetBucketPolicyStatus", &["arn:${AWS::Partition}:s3:::${Bucket}"]),
    (
        "s3:GetBucketPublicAccessBlock",
        &["arn:${AWS::Partition}:s3:::${Bucket}"],
    ),
    ("s3:ListBucket", &["arn:${AWS::Partition}:s3:::${Bucket}"]),
    ("s3:GetObject", &["arn:${AWS::Partition}:s3:::${Bucket}/*"]),
];

/// The resources `action` may be granted on (`*` when the table has none).
fn resources_of(action: &str) -> &'static [&'static str] {
    RESOURCES
        .iter()
        .find(|(a, _)| a.eq_ignore_ascii_case(action))
        .map_or(&["*"], |(_, r)| r)
}

/// The policy's statements: the actions grouped by the resources they are
/// limited to, in the order the actions come.
fn statements(actions: &[&str]) -> Vec<Value> {
    let mut groups: Vec<(&[&str], Vec<&str>)> = Vec::new();
    for action in actions {
        let resources = resources_of(action);
        match groups.iter_mut().find(|(r, _)| *r == resources) {
            Some((_, list)) => list.push(action),
            None => groups.push((resources, vec![action])),
        }
    }
    groups
        .into_iter()
        .enumerate()
        .map(|(i, (resources, actions))| {
            let resources: Vec<Value> = resources.iter().map(|r| resource(r)).collect();
            json!({
                "Sid": format!("LabcheckRead{}", i + 1),
                "Effect": "Allow",
                "Action": actions,
                "Resource": if resources.len() == 1 { resources[0].clone() } else { Value::Array(resources) },
            })
        })
        .collect()
}

/// One resource pattern as the template writes it.
fn resource(pattern: &str) -> Value {
    if pattern == "*" {
        json!("*")
    } else if pattern.contains("${Bucket}") {
        json!({ "Fn::Sub": [pattern, { "Bucket": bucket_name() }] })
    } else {
        json!({ "Fn::Sub": pattern })
    }
}

/// The bucket's name: the parameter, else the lab's default bucket name
/// (the `bucket` parameter's default, its placeholders as CloudFormation's
/// pseudo parameters).
fn bucket_name() -> Value {
    let default = parameter_default("bucket")
        .replace("{region}", "${AWS::Region}")
        .replace("{account}", "${AWS::AccountId}");
    json!({ "Fn::If": ["DefaultBucket", { "Fn::Sub": default }, { "Ref": BUCKET_PARAMETER }] })
}

fn parameter_default(name: &str) -> &'static str {
    crate::params::DEFS
        .iter()
        .find(|d| d.name == name)
        .and_then(|d| d.default)
        .unwrap_or_default()
}

/// The pattern an instructor's role or user ARN matches (the template's
/// parameter constraint, and `labcheck cohort invite --principal`).
pub const PRINCIPAL_PATTERN: &str = r"^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/[\w+=,.@/-]{1,512}$";

/// The principal a grader role trusts for the identity `arn` that STS
/// GetCallerIdentity gives: for an assumed role's session
/// (`arn:aws:sts::ID:assumed-role/NAME/SESSION`), the role
/// (`arn:aws:iam::ID:role/NAME`; a role with a path needs it added), else the
/// identity itself.
pub fn trusted_principal(identity: &str) -> String {
    let parts: Vec<&str> = identity.splitn(6, ':').collect();
    if let [arn, partition, "sts", "", account, resource] = parts.as_slice()
        && let Some(role) = resource.strip_prefix("assumed-role/").and_then(|r| r.split('/').next())
    {
        return format!("{arn}:{partition}:iam::{account}:role/{role}");
    }
    identity.to_string()
}

/// The template, as YAML, for a policy's actions.
pub fn role_template(actions: &[&str]) -> String {
    let role_name = parameter_default("grader_role");
    let doc = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "labcheck-grader: a read-only role your course's instructor assumes to grade your lab with labcheck. It can only read (Describe, Get, List) what the lab's checks look at, and only your instructor's own role or user may assume it, with the external id you were given.",
        "Parameters": {
            PRINCIPAL_PARAMETER: {
                "Type": "String",
                "Description": "The ARN of the IAM role or user your instructor grades with (from your instructor)",
                "AllowedPattern": PRINCIPAL_PATTERN,
                "ConstraintDescription": "an IAM role or user ARN, like arn:aws:iam::111122223333:role/instructor",
            },
            EXTERNAL_ID_PARAMETER: {
                "Type": "String",
                "Description": "The external id your instructor gave you (yours alone)",
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": "^[\\w+=,.@:/-]+$",
                "ConstraintDescription": "2 to 1224 letters, digits or +=,.@:/-_",
            },
            BUCKET_PARAMETER: {
                "Type": "String",
                "Description": "Your lab's media bucket; leave empty for the lab's default name",
                "Default": "",
                "AllowedPattern": "^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$",
                "ConstraintDescription": "an S3 bucket name, or empty",
            },
        },
        "Conditions": {
            "DefaultBucket": { "Fn::Equals": [{ "Ref": BUCKET_PARAMETER }, ""] },
        },
        "Resources": {
            "GraderRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": role_name,
                    "Description": "Read-only access for labcheck cohort grading",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": { "AWS": { "Ref": PRINCIPAL_PARAMETER } },
                            "Action": "sts:AssumeRole",
                            "Condition": { "StringEquals": { "sts:ExternalId": { "Ref": EXTERNAL_ID_PARAMETER } } },
                        }],
                    },
                    "Policies": [{
                        "PolicyName": "labcheck-read-only",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": statements(actions),
                        },
                    }],
                },
            },
        },
        "Outputs": {
            "GraderRoleArn": {
                "Description": "Give this ARN to your instructor (or just your account id)",
                "Value": { "Fn::GetAtt": ["GraderRole", "Arn"] },
            },
        },
    });
    // YAML 1.1 readers take a bare 2010-09-09 for a date: quote the versions.
    let yaml = serde_norway::to_string(&doc)
        .expect("the template serializes")
        .replace(": 2010-09-09\n", ": '2010-09-09'\n")
        .replace(": 2012-10-17\n", ": '2012-10-17'\n");
    format!(
        "# labcheck grader role. Deploy it with the command your instructor sent you\n# (`labcheck cohort invite` prints one per learner), or:\n#   aws cloudformation deploy --template-file {TEMPLATE_FILE} --stack-name {STACK_NAME} \\\n#     --capabilities CAPABILITY_NAMED_IAM \\\n#     --parameter-overrides {PRINCIPAL_PARAMETER}=ARN {EXTERNAL_ID_PARAMETER}=ID\n{yaml}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(actions: &[&str]) -> Value {
        serde_norway::from_str(&role_template(actions)).unwrap()
    }

    #[test]
    fn the_trust_names_the_principal_parameter_under_the_external_id() {
        let doc = template(&["s3:GetBucketCORS", "iam:GetRolePolicy"]);
        let role = &doc["Resources"]["GraderRole"]["Properties"];
        assert_eq!(role["RoleName"], "labcheck-grader");
        let trust = &role["AssumeRolePolicyDocument"]["Statement"];
        assert_eq!(trust.as_array().unwrap().len(), 1);
        assert_eq!(trust[0]["Principal"], json!({"AWS": {"Ref": PRINCIPAL_PARAMETER}}));
        assert_eq!(
            trust[0]["Condition"]["StringEquals"]["sts:ExternalId"]["Ref"],
            EXTERNAL_ID_PARAMETER
        );
        assert!(!role_template(&[]).contains(":root"), "no whole account is trusted");
        // A quick-create link can fill every parameter: none is NoEcho.
        for (name, p) in doc["Parameters"].as_object().unwrap() {
            assert!(p.get("NoEcho").is_none(), "{name}");
        }
    }

    #[test]
    fn s3_reads_name_the_lab_bucket_and_the_rest_the_account() {
        let course = crate::course::Course::embedded(&crate::checks::kind_ids()).unwrap();
        let lab = course.lab(None).unwrap();
        let actions = crate::policy::actions(lab);
        let doc = template(&actions);
        let statements = doc["Resources"]["GraderRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
            .as_array()
            .unwrap()
            .clone();
        let mut granted: Vec<String> = Vec::new();
        for st in &statements {
            let resources = st["Resource"].to_string();
            for action in st["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                granted.push(action.to_string());
                let wildcard = st["Resource"] == "*";
                assert_eq!(
                    wildcard,
                    [
                        "ec2:DescribeInstances",
                        "ec2:DescribeSecurityGroups",
                        "ec2:DescribeVpcs",
                        "s3:ListAllMyBuckets",
                        "s3:GetAccountPublicAccessBlock"
                    ]
                    .contains(&action),
                    "{action}: only actions without resource types are granted on *"
                );
                if action.starts_with("s3:") && !wildcard {
                    assert!(
                        resources.contains("arn:${AWS::Partition}:s3:::${Bucket}"),
                        "{action}: {resources}"
                    );
                    assert!(resources.contains(BUCKET_PARAMETER), "{action}: {resources}");
                } else if !wildcard {
                    assert!(resources.contains("${AWS::AccountId}"), "{action}: {resources}");
                }
            }
        }
        granted.sort();
        assert_eq!(granted, actions, "exactly the policy's actions");
        // Every action the checks call has its resources in the table.
        for action in &actions {
            assert!(
                RESOURCES.iter().any(|(a, _)| a == action),
                "{action}: add its resource types to RESOURCES"
            );
        }
    }

    #[test]
    fn an_assumed_roles_principal_is_its_role() {
        assert_eq!(
            trusted_principal("arn:aws:sts::111122223333:assumed-role/instructor/ada-laptop"),
            "arn:aws:iam::111122223333:role/instructor"
        );
        assert_eq!(
            trusted_principal("arn:aws:iam::111122223333:user/teacher"),
            "arn:aws:iam::111122223333:user/teacher"
        );
    }

    #[test]
    fn the_default_bucket_is_the_parameters_default() {
        let text = role_template(&["s3:GetObject"]);
        assert!(text.contains("pets-project-${AWS::Region}-${AWS::AccountId}"), "{text}");
    }
}
