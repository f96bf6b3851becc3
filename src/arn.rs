//! ARN partitions: `aws`, `aws-cn`, `aws-us-gov` (and the isolated ones).
//! An ARN labcheck builds (an S3 object in a policy test, the grader role a
//! cohort assumes) names the partition of the account it points into, read
//! from the caller's own identity ARN, or else from the Region.

/// The partition an ARN names (its second field), like `aws-cn` in
/// `arn:aws-cn:iam::123456789012:user/ada`; `None` for anything else.
pub fn partition_of(arn: &str) -> Option<&str> {
    let mut fields = arn.split(':');
    (fields.next() == Some("arn"))
        .then(|| fields.next())
        .flatten()
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase() || c == '-'))
}

/// The partition of a Region, by its name's prefix (the SDK's partition
/// table: `cn-*` is China, `us-gov-*` GovCloud, `us-iso*`/`eu-isoe-*` the
/// isolated Regions); `aws` for every other name, and for none.
pub fn partition_for_region(region: &str) -> &'static str {
    const PREFIXES: &[(&str, &str)] = &[
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
        ("us-isof-", "aws-iso-f"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

/// The partition of the caller's identity ARN, else of the Region.
pub fn partition(identity_arn: Option<&str>, region: &str) -> String {
    identity_arn
        .and_then(partition_of)
        .unwrap_or_else(|| partition_for_region(region))
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_from_identity_arns_as_sts_returns_them() {
        // GetCallerIdentity's Arn in each partition (STS API reference).
        assert_eq!(partition_of("arn:aws:iam::123456789012:user/Alice"), Some("aws"));
        assert_eq!(
            partition_of("arn:aws-cn:sts::123456789012:assumed-role/labcheck-grader/ada"),
            Some("aws-cn")
        );
        assert_eq!(
            partition_of("arn:aws-us-gov:iam::123456789012:root"),
            Some("aws-us-gov")
        );
        assert_eq!(partition_of("not an arn"), None);
        assert_eq!(partition_of("arn::iam::1:root"), None);
        assert_eq!(partition_of("arn:AWS:iam::1:root"), None);
    }

    #[test]
    fn partitions_from_regions() {
        assert_eq!(partition_for_region("us-west-2"), "aws");
        assert_eq!(partition_for_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_for_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_for_region(""), "aws");
        assert_eq!(partition(Some("arn:aws-cn:iam::1:root"), "us-west-2"), "aws-cn");
        assert_eq!(partition(None, "us-gov-east-1"), "aws-us-gov");
    }
}
