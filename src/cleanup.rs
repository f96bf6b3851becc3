//! `labcheck cleanup`: the lab's resources that still cost money, and the
//! commands that delete them, in an order AWS accepts. Read only, like the
//! checks: it describes and lists, and deletes nothing itself. [`Costly`]
//! is what costs money and how each is deleted, for `labcheck cohort
//! leftovers` as well.

use crate::aws::AwsError;
use crate::checks::{cache, eb, rds, s3};
use crate::engine::account::Account;
use serde::Serialize;

/// A kind of resource the lab creates that costs money while it exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Costly {
    /// An Elastic Beanstalk environment (its instances, load balancer and
    /// addresses go with it).
    Environment,
    /// An EC2 instance (an environment's, or one of its own).
    Instance,
    /// An ElastiCache serverless cache.
    ServerlessCache,
    /// An ElastiCache replication group.
    ReplicationGroup,
    /// An ElastiCache cache cluster outside a replication group.
    CacheCluster,
    /// An RDS DB instance.
    DbInstance,
    /// The media bucket (its objects' storage).
    Bucket,
}

impl Costly {
    /// What it is, in a few words.
    pub fn label(self) -> &'static str {
        match self {
            Costly::Environment => "Elastic Beanstalk environment",
            Costly::Instance => "EC2 instance",
            Costly::ServerlessCache => "serverless cache",
            Costly::ReplicationGroup => "replication group",
            Costly::CacheCluster => "cache cluster",
            Costly::DbInstance => "RDS DB instance",
            Costly::Bucket => "S3 bucket",
        }
    }

    /// The command that deletes the resource `name` in `region`.
    pub fn delete(self, name: &str, region: &str) -> String {
        match self {
            Costly::Environment => format!("eb terminate {name} --region {region}"),
            Costly::Instance => format!("aws ec2 terminate-instances --instance-ids {name} --region {region}"),
            Costly::ServerlessCache => {
                format!("aws elasticache delete-serverless-cache --serverless-cache-name {name} --region {region}")
            }
            Costly::ReplicationGroup => {
                format!("aws elasticache delete-replication-group --replication-group-id {name} --region {region}")
            }
            Costly::CacheCluster => {
                format!("aws elasticache delete-cache-cluster --cache-cluster-id {name} --region {region}")
            }
            Costly::DbInstance => format!(
                "aws rds delete-db-instance --db-instance-identifier {name} --skip-final-snapshot --region {region}"
            ),
            Costly::Bucket => format!("aws s3 rb s3://{name} --force"),
        }
    }

    /// The cache kind as the cache check names it.
    fn of_cache(kind: &str) -> Costly {
        match kind {
            "serverless cache" => Costly::ServerlessCache,
            "cache cluster" => Costly::CacheCluster,
            _ => Costly::ReplicationGroup,
        }
    }
}

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
            kind: Costly::Environment.label().into(),
            detail: format!("{} ({}), {}", e.status, e.health, e.cname),
            delete: Costly::Environment.delete(&e.name, region),
            name: e.name,
        });
    }
    if let Some((name, kind, status)) = cache? {
        let kind = Costly::of_cache(kind);
        found.push(Leftover {
            kind: kind.label().into(),
            delete: kind.delete(&name, region),
            name,
            detail: status,
        });
    }
    if let Some((id, engine, status)) = instance? {
        found.push(Leftover {
            kind: Costly::DbInstance.label().into(),
            detail: format!("{engine}, {status}"),
            delete: Costly::DbInstance.delete(&id, region),
            name: id,
        });
    }
    if let Some((name, objects, bytes)) = bucket? {
        found.push(Leftover {
            kind: Costly::Bucket.label().into(),
            detail: format!("{objects} objects, {bytes} bytes"),
            delete: Costly::Bucket.delete(&name, region),
            name,
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
