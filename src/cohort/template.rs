//! `labcheck policy --role-template`: the CloudFormation template a learner
//! deploys so the instructor can grade their account. One IAM role,
//! `labcheck-grader`, trusted by the instructor's account only under the
//! agreed external id, with the read-only policy derived from the lab's
//! checks and nothing more.

use serde_json::json;

/// The template, as YAML, for a policy's actions.
pub fn role_template(actions: &[&str]) -> String {
    let doc = json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "labcheck-grader: a read-only role your course's instructor assumes to grade your lab with labcheck. It can only read (Describe, Get, List) what the lab's checks look at, and only the instructor's account, with the external id you were given, may assume it.",
        "Parameters": {
            "InstructorAccountId": {
                "Type": "String",
                "Description": "The 12-digit AWS account id of your instructor (from the course)",
                "AllowedPattern": "^[0-9]{12}$",
                "ConstraintDescription": "a 12-digit AWS account id",
            },
            "ExternalId": {
                "Type": "String",
                "Description": "The external id your instructor gave you",
                "MinLength": 2,
                "MaxLength": 1224,
                "AllowedPattern": "^[\\w+=,.@:/-]+$",
                "ConstraintDescription": "2 to 1224 letters, digits or +=,.@:/-_",
                "NoEcho": true,
            },
        },
        "Resources": {
            "GraderRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": "labcheck-grader",
                    "Description": "Read-only access for labcheck cohort grading",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [{
                            "Effect": "Allow",
                            "Principal": { "AWS": { "Fn::Sub": "arn:${AWS::Partition}:iam::${InstructorAccountId}:root" } },
                            "Action": "sts:AssumeRole",
                            "Condition": { "StringEquals": { "sts:ExternalId": { "Ref": "ExternalId" } } },
                        }],
                    },
                    "Policies": [{
                        "PolicyName": "labcheck-read-only",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{
                                "Sid": "LabcheckReadOnly",
                                "Effect": "Allow",
                                "Action": actions,
                                "Resource": "*",
                            }],
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
        "# labcheck grader role. Deploy it with:\n#   aws cloudformation deploy --template-file labcheck-grader.yaml --stack-name labcheck-grader \\\n#     --capabilities CAPABILITY_NAMED_IAM --parameter-overrides InstructorAccountId=ACCOUNT ExternalId=ID\n{yaml}"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn template_trusts_the_instructor_under_the_external_id_and_reads_only() {
        let text = super::role_template(&["s3:GetBucketCORS", "iam:GetRole"]);
        let doc: serde_json::Value = serde_norway::from_str(&text).unwrap();
        let role = &doc["Resources"]["GraderRole"]["Properties"];
        assert_eq!(role["RoleName"], "labcheck-grader");
        let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(
            trust["Condition"]["StringEquals"]["sts:ExternalId"]["Ref"],
            "ExternalId"
        );
        let actions = &role["Policies"][0]["PolicyDocument"]["Statement"][0]["Action"];
        assert_eq!(actions, &serde_json::json!(["s3:GetBucketCORS", "iam:GetRole"]));
    }
}
