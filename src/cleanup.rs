//! `labcheck cleanup`: the lab's resources that still cost money, and the
//! commands that delete them, in an order AWS accepts. Read only, like the
//! checks: it describes and lists, and deletes nothing itself.

use crate::aws::AwsError;
use crate::checks::{cache, eb, rds, s3};
use crate::engine::account::Account;
use serde::Serialize;

/// One resource left running.
#[derive(Clone, Debug, Serialize)]
pub struct Leftover {
    /// What kind of resource: "Elastic Beanstalk environment", ...
    pub kind: String,
    /// The resource's name or id.
    pub name: String,
    /// Its state in a few words, like `Ready (Green), app.eu-west-1.elasticbeanstalk.com`.
    pub detail: String,
    /// The command that deletes it.
    pub delete: String,
}

/// Finds what is left, in the order to delete it: the environment first (it
/// uses the others), then the cache and the database, the bucket last.
pub async fn leftovers(acc: &Account) -> Result<Vec<Leftover>, AwsError> {
    let (environment, cache, instance, bucket) = tokio::join!(
        eb::environment(acc),
        cache::cache_summary(acc),
        rds::instance_summary(acc),
        s3::bucket_summary(acc)
    );
    let region = &acc.region;
    let mut found = Vec::new();
    if let Some(e) = environment? {
        found.push(Leftover {
            kind: "Elastic Beanstalk environment".into(),
            name: e.name.clone(),
            detail: format!("{} ({}), {}", e.status, e.health, e.cname),
            delete: format!("eb terminate {} --region {region}", e.name),
        });
    }
    if let Some((name, kind, status)) = cache? {
        let delete = if kind == "serverless cache" {
            format!("aws elasticache delete-serverless-cache --serverless-cache-name {name} --region {region}")
        } else {
            format!("aws elasticache delete-replication-group --replication-group-id {name} --region {region}")
        };
        found.push(Leftover {
            kind: kind.to_string(),
            name,
            detail: status,
            delete,
        });
    }
    if let Some((id, engine, status)) = instance? {
        found.push(Leftover {
            kind: "RDS DB instance".into(),
            name: id.clone(),
            detail: format!("{engine}, {status}"),
            delete: format!(
                "aws rds delete-db-instance --db-instance-identifier {id} --skip-final-snapshot --region {region}"
            ),
        });
    }
    if let Some((name, objects, bytes)) = bucket? {
        found.push(Leftover {
            kind: "S3 bucket".into(),
            name: name.clone(),
            detail: format!("{objects} objects, {bytes} bytes"),
            delete: format!("aws s3 rb s3://{name} --force"),
        });
    }
    Ok(found)
}

/// The list for a person at a terminal.
pub fn render(found: &[Leftover]) -> String {
    if found.is_empty() {
        return "Nothing of the lab is left running: no environment, cache, database or media bucket.\n".to_string();
    }
    let mut out = format!(
        "{} lab resources still cost money. Delete them in this order:\n",
        found.len()
    );
    for (i, l) in found.iter().enumerate() {
        out.push_str(&format!(
            "\n{}. {} {} ({})\n   {}\n",
            i + 1,
            l.kind,
            l.name,
            l.detail,
            l.delete
        ));
    }
    out.push_str("\nRun `labcheck cleanup` again afterwards: it should find nothing.\n");
    out
}
