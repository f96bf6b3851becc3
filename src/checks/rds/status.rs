//! What a DB instance's status means for the lab, for every value the RDS
//! User Guide lists ("Viewing Amazon RDS DB instance status",
//! DescribeDBInstances' `DBInstanceStatus`). A database that is up while
//! RDS works on it (a backup, a modification, hours of storage
//! optimization) serves the app: it passes, with a note. One that is on its
//! way up cannot be graded yet. One that is down, or stuck, fails with
//! what to do.

/// What a status means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Meaning {
    /// Available: nothing to say.
    Available,
    /// Up and serving while RDS works on it: the note says what.
    Up(&'static str),
    /// On its way up: asked again in a few minutes, it is graded.
    NotYet(&'static str),
    /// Down or stuck: what to do.
    Down(&'static str),
}

/// Every status the RDS User Guide lists, and what it means here.
const STATUSES: &[(&str, Meaning)] = &[
    ("available", Meaning::Available),
    // Up: the instance answers while RDS works on it.
    ("backing-up", Meaning::Up("RDS is taking a backup")),
    (
        "configuring-enhanced-monitoring",
        Meaning::Up("RDS is turning Enhanced Monitoring on or off"),
    ),
    (
        "configuring-iam-database-auth",
        Meaning::Up("RDS is turning IAM database authentication on or off"),
    ),
    (
        "configuring-log-exports",
        Meaning::Up("RDS is changing which logs go to CloudWatch Logs"),
    ),
    (
        "configuring-activity-stream",
        Meaning::Up("RDS is changing the database activity stream"),
    ),
    ("maintenance", Meaning::Up("RDS is applying scheduled maintenance")),
    ("modifying", Meaning::Up("RDS is applying a modification you asked for")),
    ("renaming", Meaning::Up("RDS is renaming the instance")),
    (
        "resetting-master-credentials",
        Meaning::Up("RDS is resetting the master user's password"),
    ),
    (
        "storage-config-upgrade",
        Meaning::Up("RDS is upgrading the storage file system"),
    ),
    (
        "storage-initialization",
        Meaning::Up("RDS is loading the restored data into storage; the first reads are slow"),
    ),
    (
        "storage-optimization",
        Meaning::Up("RDS is optimizing storage after a change of size or type, which can take hours"),
    ),
    ("upgrading", Meaning::Up("RDS is upgrading the engine version")),
    // On its way up.
    (
        "creating",
        Meaning::NotYet("the instance is being created (often 5 to 10 minutes)"),
    ),
    ("starting", Meaning::NotYet("the instance is starting")),
    ("rebooting", Meaning::NotYet("the instance is rebooting")),
    (
        "converting-to-vpc",
        Meaning::NotYet("the instance is moving into a VPC"),
    ),
    (
        "moving-to-vpc",
        Meaning::NotYet("the instance is moving to another VPC"),
    ),
    // Down, or stuck until someone acts.
    (
        "stopped",
        Meaning::Down(
            "Start it: aws rds start-db-instance --db-instance-identifier {id} (RDS starts a stopped instance again by itself after seven days)",
        ),
    ),
    (
        "stopping",
        Meaning::Down(
            "It is being stopped: start it again once it is stopped, with aws rds start-db-instance --db-instance-identifier {id}",
        ),
    ),
    (
        "deleting",
        Meaning::Down("It is being deleted: create the instance again, as in this step"),
    ),
    (
        "delete-precheck",
        Meaning::Down("It is about to be deleted: create the instance again, as in this step"),
    ),
    (
        "failed",
        Meaning::Down(
            "RDS cannot recover it: restore it to its latest restorable time (aws rds restore-db-instance-to-point-in-time), or create it again",
        ),
    ),
    (
        "inaccessible-encryption-credentials",
        Meaning::Down(
            "RDS cannot use the KMS key that encrypts it: enable the key again and restore its grants, or restore the instance from a backup",
        ),
    ),
    (
        "inaccessible-encryption-credentials-recoverable",
        Meaning::Down(
            "RDS cannot use the KMS key that encrypts it: enable the key again and start the instance within seven days",
        ),
    ),
    (
        "incompatible-network",
        Meaning::Down(
            "RDS cannot place it in its subnets (no free IP address, or a changed VPC): free addresses in the DB subnet group's subnets, then start it",
        ),
    ),
    (
        "incompatible-option-group",
        Meaning::Down("An option group change could not be applied: revert it (see the instance's recent events)"),
    ),
    (
        "incompatible-parameters",
        Meaning::Down(
            "Its parameter group holds values the engine refuses: revert them (see the instance's recent events), then reboot it",
        ),
    ),
    (
        "incompatible-restore",
        Meaning::Down("A point-in-time restore failed: restore to another time, or create the instance again"),
    ),
    (
        "insufficient-capacity",
        Meaning::Down(
            "RDS has no capacity for this instance class in its Availability Zone: create it with another class or zone",
        ),
    ),
    (
        "restore-error",
        Meaning::Down("A restore failed: restore again, or create the instance again"),
    ),
    (
        "storage-full",
        Meaning::Down(
            "Its storage is full, so the database refuses writes: increase the allocated storage (aws rds modify-db-instance --db-instance-identifier {id} --allocated-storage SIZE --apply-immediately)",
        ),
    ),
];

/// What `status` means; `None` for a value the User Guide does not list.
pub(crate) fn meaning(status: &str) -> Option<Meaning> {
    let status = status.to_ascii_lowercase();
    STATUSES.iter().find(|(s, _)| *s == status).map(|(_, m)| *m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_of_a_running_database_pass_with_a_note() {
        for s in [
            "backing-up",
            "modifying",
            "storage-optimization",
            "configuring-log-exports",
            "maintenance",
            "upgrading",
            "renaming",
        ] {
            assert!(matches!(meaning(s), Some(Meaning::Up(_))), "{s}");
        }
        assert_eq!(meaning("Available"), Some(Meaning::Available));
    }

    #[test]
    fn statuses_on_the_way_up_are_not_yet_and_stopped_ones_fail() {
        for s in ["creating", "starting", "rebooting"] {
            assert!(matches!(meaning(s), Some(Meaning::NotYet(_))), "{s}");
        }
        for s in [
            "stopped",
            "stopping",
            "failed",
            "incompatible-parameters",
            "incompatible-network",
            "storage-full",
            "inaccessible-encryption-credentials",
        ] {
            assert!(matches!(meaning(s), Some(Meaning::Down(_))), "{s}");
        }
        assert_eq!(meaning("no-such-status"), None);
    }

    #[test]
    fn every_status_is_listed_once() {
        let mut names: Vec<&str> = STATUSES.iter().map(|(s, _)| *s).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before);
    }
}
