//! The `s3` step: the media bucket, its CORS rules, that it stays private,
//! the pictures in it, and a presigned download end to end.

mod public;

use super::CheckKind;
use super::http::{FetchError, Fetcher};
use super::scope::Scope;
use crate::aws::{AwsError, AwsErrorKind};
use crate::params::Param;
use crate::redact::redact_url;
use crate::run::account::Account;
use crate::run::memo::MemoKey;
use crate::run::outcome::{CheckError, CheckResult, Outcome};
use reqwest::Url;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

pub(crate) const BUCKET: CheckKind = CheckKind {
    id: "s3.bucket",
    passes: "the media bucket exists in the lab's region",
    iam_actions: &["s3:GetBucketLocation", "s3:ListAllMyBuckets", "s3:ListBucket"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(bucket(a)),
};

pub(crate) const CORS: CheckKind = CheckKind {
    id: "s3.cors",
    passes: "a CORS rule allows GET from the site's origin (or from `*`)",
    iam_actions: &["s3:GetBucketCORS"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(cors(a)),
};

pub(crate) const PRIVATE: CheckKind = CheckKind {
    id: "s3.private",
    passes: "all four public access block settings are on (the bucket's own or the account's), S3 does not judge the bucket policy public, and the ACL grants nothing to everyone",
    iam_actions: &[
        "s3:GetBucketPublicAccessBlock",
        "s3:GetAccountPublicAccessBlock",
        "s3:GetBucketPolicy",
        "s3:GetBucketPolicyStatus",
        "s3:GetBucketAcl",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(private(a)),
};

pub(crate) const MEDIA: CheckKind = CheckKind {
    id: "s3.media",
    passes: "the bucket holds at least one picture (jpg, jpeg, png, gif or webp)",
    iam_actions: &["s3:ListBucket"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(media(a)),
};

pub(crate) const PRESIGNED: CheckKind = CheckKind {
    id: "s3.presigned",
    passes: "a presigned GET URL for one picture downloads it whole",
    iam_actions: &["s3:GetObject"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(presigned(a)),
};

/// File name endings counted as pictures.
const PICTURE_ENDINGS: &[&str] = &[".jpg", ".jpeg", ".png", ".gif", ".webp"];

/// Objects listed at most, so a huge bucket does not stall a run.
const MAX_LISTED: usize = 10_000;

/// The bucket as found: its name and region.
#[derive(Clone, Debug)]
struct Bucket {
    name: String,
    region: String,
    /// Why S3 refused GetBucketLocation on a bucket this account lists, in
    /// words (its region then comes from the listing).
    refused: Option<String>,
}

/// Why the bucket could not be found, for `s3.bucket` to explain.
#[derive(Clone, Debug)]
enum Missing {
    /// Not in this account; `candidates` are other buckets whose names look like it.
    NotFound { name: String, candidates: Vec<String> },
    /// The name exists, but belongs to someone else (and lives in `region`,
    /// when S3 says).
    NotYours { name: String, region: Option<String> },
}

type Found = Result<Result<Bucket, Missing>, AwsError>;

/// The media bucket, found once per run.
#[derive(PartialEq, Eq, Hash)]
struct TheBucket;
impl MemoKey for TheBucket {
    type Value = Found;
}

/// Finds the media bucket once per run. When the default name is not there
/// and exactly one plausible bucket exists, uses it and says so.
async fn find_bucket(acc: &Account) -> Found {
    acc.memo
        .once(TheBucket, || async {
            let name = acc.resolved_param(Param::Bucket).await.map_err(|e| AwsError {
                action: "sts:GetCallerIdentity",
                code: None,
                message: e.short(),
                kind: AwsErrorKind::Other,
            })?;
            match location(acc, &name).await {
                Ok(region) => Ok(Ok(Bucket {
                    name,
                    region,
                    refused: None,
                })),
                Err(e) if e.is_code("NoSuchBucket") || e.kind == AwsErrorKind::NotFound => not_found(acc, name).await,
                Err(e) if e.kind == AwsErrorKind::AccessDenied => refused(acc, name, e).await,
                Err(e) => Err(e),
            }
        })
        .await
}

/// No bucket of that name: the one plausible bucket of the account, or the
/// candidates.
async fn not_found(acc: &Account, name: String) -> Found {
    let own = own_buckets(acc).await?;
    let candidates: Vec<String> = own
        .iter()
        .map(|b| &b.0)
        .filter(|n| n.contains("pets"))
        .cloned()
        .collect();
    if let ([only], false) = (candidates.as_slice(), acc.param_is_explicit(Param::Bucket)) {
        let region = location(acc, only).await?;
        acc.discovered(Param::Bucket, only);
        return Ok(Ok(Bucket {
            name: only.clone(),
            region,
            refused: None,
        }));
    }
    Ok(Err(Missing::NotFound { name, candidates }))
}

/// S3 refused GetBucketLocation. A stranger's bucket and the learner's own
/// give the same 403 (a Deny in the bucket policy, a missing permission, an
/// organization's SCP): the account's own ListBuckets tells them apart, and
/// for a bucket it does not list, HeadBucket says whether the name exists
/// (403, with the `x-amz-bucket-region` header) or not (404).
async fn refused(acc: &Account, name: String, denial: AwsError) -> Found {
    let own = match own_buckets(acc).await {
        Ok(own) => own,
        Err(e) if e.kind == AwsErrorKind::AccessDenied => {
            return Err(AwsError {
                message: format!(
                    "S3 refused GetBucketLocation on {name} ({}) and ListBuckets as well, so labcheck cannot tell whether the bucket is yours: {}",
                    refusal_reason(&denial.message),
                    e.message
                ),
                ..e
            });
        }
        Err(e) => return Err(e),
    };
    let reason = refusal_reason(&denial.message);
    if let Some((_, listed_region)) = own.iter().find(|b| b.0 == name) {
        let region = match listed_region {
            Some(region) => region.clone(),
            None => match head(acc, &name).await? {
                Head::Exists(Some(region)) | Head::Forbidden(Some(region)) => region,
                _ => return Err(denial),
            },
        };
        return Ok(Ok(Bucket {
            name,
            region,
            refused: Some(reason.to_string()),
        }));
    }
    Ok(Err(match head(acc, &name).await? {
        Head::Exists(region) | Head::Forbidden(region) => Missing::NotYours { name, region },
        Head::Missing => Missing::NotFound {
            name,
            candidates: own
                .iter()
                .map(|b| &b.0)
                .filter(|n| n.contains("pets"))
                .cloned()
                .collect(),
        },
    }))
}

/// Why AWS refused a call, from the reason its AccessDenied message gives
/// for a request in the bucket owner's account (IAM User Guide,
/// "Access denied error messages": "… with an explicit deny in a
/// resource-based policy", "… because no identity-based policy allows …").
fn refusal_reason(message: &str) -> &'static str {
    const REASONS: &[(&str, &str)] = &[
        (
            "explicit deny in a resource-based policy",
            "a Deny in the bucket policy refuses it",
        ),
        (
            "explicit deny in a service control policy",
            "a service control policy (SCP) of your organization refuses it",
        ),
        (
            "no service control policy allows",
            "no service control policy (SCP) of your organization allows it",
        ),
        (
            "explicit deny in a resource control policy",
            "a resource control policy (RCP) of your organization refuses it",
        ),
        (
            "explicit deny in an identity-based policy",
            "a Deny in the IAM policies of your credentials refuses it",
        ),
        (
            "no identity-based policy allows",
            "your credentials lack the permission",
        ),
        (
            "permissions boundary",
            "the permissions boundary of your credentials refuses it",
        ),
        ("session policy", "the session policy of your credentials refuses it"),
        ("vpc endpoint policy", "the VPC endpoint's policy refuses it"),
    ];
    let message = message.to_ascii_lowercase();
    REASONS
        .iter()
        .find(|(said, _)| message.contains(said))
        .map_or(
            "AWS does not say why: a Deny in the bucket policy, a permission your credentials lack, or an SCP of your organization",
            |(_, reason)| reason,
        )
}

/// The account's own buckets, with the Region ListBuckets gives for each
/// (`BucketRegion`), listed once per run.
#[derive(PartialEq, Eq, Hash)]
struct OwnBuckets;
impl MemoKey for OwnBuckets {
    type Value = Result<Arc<Vec<(String, Option<String>)>>, AwsError>;
}

async fn own_buckets(acc: &Account) -> Result<Arc<Vec<(String, Option<String>)>>, AwsError> {
    acc.memo
        .once(OwnBuckets, || async {
            let out = acc
                .s3
                .list_buckets()
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("s3:ListAllMyBuckets", e))?;
            Ok(Arc::new(
                out.buckets()
                    .iter()
                    .filter_map(|b| Some((b.name()?.to_string(), b.bucket_region().map(str::to_string))))
                    .collect(),
            ))
        })
        .await
}

/// What HeadBucket says of a name: it exists (and we may read it), it
/// exists but is not ours to read, or no bucket has it; with the Region S3
/// names in `x-amz-bucket-region` when it does.
enum Head {
    Exists(Option<String>),
    Forbidden(Option<String>),
    Missing,
}

async fn head(acc: &Account, bucket: &str) -> Result<Head, AwsError> {
    match acc.s3.head_bucket().bucket(bucket).send().await {
        Ok(out) => Ok(Head::Exists(out.bucket_region().map(str::to_string))),
        Err(e) => {
            let region = e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-bucket-region"))
                .map(str::to_string);
            let e = AwsError::from_sdk("s3:ListBucket", e);
            match e.kind {
                AwsErrorKind::AccessDenied => Ok(Head::Forbidden(region)),
                AwsErrorKind::NotFound => Ok(Head::Missing),
                _ => Err(e),
            }
        }
    }
}

async fn location(acc: &Account, bucket: &str) -> Result<String, AwsError> {
    let out = acc
        .s3
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("s3:GetBucketLocation", e))?;
    // An empty location constraint means us-east-1, for historical reasons.
    Ok(match out.location_constraint().map(|c| c.as_str()) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    })
}

/// The bucket for checks that need `s3.bucket` to have passed.
async fn the_bucket(acc: &Account) -> Result<Bucket, CheckError> {
    match find_bucket(acc).await? {
        Ok(b) => Ok(b),
        Err(_) => Err(CheckError::Other("the media bucket was not found".into())),
    }
}

async fn bucket(acc: Arc<Account>) -> CheckResult {
    let expected = acc.region.clone();
    Ok(match find_bucket(&acc).await? {
        Ok(b) if b.region == expected => {
            let refused = b
                .refused
                .as_ref()
                .map(|why| format!(" (listed by ListBuckets; S3 refused GetBucketLocation: {why}, so other checks may be refused too)"))
                .unwrap_or_default();
            Outcome::pass(format!("bucket {} exists in {}{refused}", b.name, b.region))
                .evidence(json!({"bucket": b.name, "region": b.region, "location_refused": b.refused}))
        }
        Ok(b) => Outcome::fail(format!("bucket {} is in {}, but the lab runs in {expected}", b.name, b.region))
            .evidence(json!({"bucket": b.name, "region": b.region, "expected_region": expected}))
            .hint(format!(
                "Create the media bucket in {expected}, the Region of the rest of the lab, or run labcheck with `--region {}` if that Region is the one you chose.",
                b.region
            )),
        Err(Missing::NotYours { name, region }) => {
            let where_ = region.as_ref().map(|r| format!(" (in {r})")).unwrap_or_default();
            Outcome::fail(format!(
                "bucket {name}{where_} exists but belongs to another account: this account's ListBuckets does not list it"
            ))
            .evidence(json!({"bucket": name, "region": region}))
            .hint("Bucket names are global: pick a name with your account id in it, and set `bucket = \"NAME\"` in labcheck.toml.")
        }
        Err(Missing::NotFound { name, candidates }) => {
            let mut outcome = Outcome::fail(format!("no bucket named {name} in this account")).evidence(json!({"bucket": name, "candidates": candidates}));
            if candidates.len() > 1 {
                outcome = outcome.hint(format!(
                    "Several buckets could be the media bucket ({}); tell labcheck which one with `--set bucket=NAME` or `bucket = \"NAME\"` in labcheck.toml.",
                    candidates.join(", ")
                ));
            }
            outcome
        }
    })
}

async fn cors(acc: Arc<Account>) -> CheckResult {
    let b = the_bucket(&acc).await?;
    let out = acc.s3.get_bucket_cors().bucket(&b.name).send().await;
    let rules = match out {
        Ok(out) => out.cors_rules().to_vec(),
        Err(e) => {
            let e = AwsError::from_sdk("s3:GetBucketCORS", e);
            if e.is_code("NoSuchCORSConfiguration") {
                return Ok(Outcome::fail(format!("bucket {} has no CORS configuration", b.name))
                    .evidence(json!({"rules": []})));
            }
            return Err(e.into());
        }
    };
    let origin = acc.param(Param::SiteOrigin);
    let evidence = json!({
        "site_origin": origin,
        "rules": rules.iter().map(|r| json!({
            "id": r.id(),
            "allowed_methods": r.allowed_methods(),
            "allowed_origins": r.allowed_origins(),
        })).collect::<Vec<_>>(),
    });
    let mut problems = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let name = rule
            .id()
            .map_or_else(|| format!("rule {}", i + 1), |id| format!("rule {} ({id})", i + 1));
        let gets = rule.allowed_methods().iter().any(|m| m.eq_ignore_ascii_case("GET"));
        let matching: Vec<&String> = rule
            .allowed_origins()
            .iter()
            .filter(|o| origin_matches(o, &origin))
            .collect();
        match (gets, matching.first()) {
            (true, Some(o)) => {
                let whom = if origin.is_empty() {
                    format!("origin {o}")
                } else {
                    format!("{origin} (through {o})")
                };
                return Ok(Outcome::pass(format!("{name} allows GET from {whom}")).evidence(evidence));
            }
            (false, _) => problems.push(format!(
                "{name} does not allow GET (it allows {})",
                rule.allowed_methods().join(", ")
            )),
            (true, None) => problems.push(format!(
                "{name} allows GET only from {}, not from {origin}",
                rule.allowed_origins().join(", ")
            )),
        }
    }
    let message = if problems.is_empty() {
        format!("bucket {} has a CORS configuration with no rules", b.name)
    } else {
        format!("no CORS rule lets the site fetch pictures: {}", problems.join("; "))
    };
    Ok(Outcome::fail(message).evidence(evidence))
}

/// Whether an AllowedOrigin (which may hold one `*`) admits the site origin.
/// With no site origin known, any listed origin will do.
fn origin_matches(allowed: &str, origin: &str) -> bool {
    if origin.is_empty() || allowed == "*" {
        return !allowed.is_empty();
    }
    match allowed.split_once('*') {
        None => allowed.eq_ignore_ascii_case(origin),
        Some((prefix, suffix)) => {
            let o = origin.to_ascii_lowercase();
            o.len() >= prefix.len() + suffix.len()
                && o.starts_with(&prefix.to_ascii_lowercase())
                && o.ends_with(&suffix.to_ascii_lowercase())
        }
    }
}

/// A bucket's or the account's Block Public Access, as the four settings.
fn block_flags(c: Option<&aws_sdk_s3::types::PublicAccessBlockConfiguration>) -> public::Block {
    let c = c?;
    Some([
        c.block_public_acls() == Some(true),
        c.ignore_public_acls() == Some(true),
        c.block_public_policy() == Some(true),
        c.restrict_public_buckets() == Some(true),
    ])
}

/// An S3 Control client. Against a custom endpoint (the sandbox, an
/// S3-compatible service) the account id travels in the `x-amz-account-id`
/// header alone: the SDK's rules would also put it in front of the host
/// name (`ACCOUNT.s3-control.REGION.amazonaws.com` on AWS), which names no
/// host on a custom endpoint.
fn s3control(config: &aws_types::SdkConfig) -> aws_sdk_s3control::Client {
    use aws_sdk_s3control::config::endpoint::{DefaultResolver, Endpoint, EndpointFuture, Params, ResolveEndpoint};
    #[derive(Debug)]
    struct AsGiven(DefaultResolver);
    impl ResolveEndpoint for AsGiven {
        fn resolve_endpoint<'a>(&'a self, params: &'a Params) -> EndpointFuture<'a> {
            match params.endpoint() {
                Some(url) => EndpointFuture::ready(Ok(Endpoint::builder().url(url.to_string()).build())),
                None => self.0.resolve_endpoint(params),
            }
        }
    }
    let conf = aws_sdk_s3control::config::Builder::from(config)
        .endpoint_resolver(AsGiven(DefaultResolver::new()))
        .build();
    aws_sdk_s3control::Client::from_conf(conf)
}

/// The account's own Block Public Access (S3 Control GetPublicAccessBlock);
/// `None` when the account has none.
async fn account_block(acc: &Account) -> Result<public::Block, CheckError> {
    let account = acc.identity().await?.account;
    match s3control(&acc.sdk)
        .get_public_access_block()
        .account_id(&account)
        .send()
        .await
    {
        Ok(out) => {
            let c = out.public_access_block_configuration();
            Ok(c.map(|c| {
                [
                    c.block_public_acls() == Some(true),
                    c.ignore_public_acls() == Some(true),
                    c.block_public_policy() == Some(true),
                    c.restrict_public_buckets() == Some(true),
                ]
            }))
        }
        Err(e) => {
            let e = AwsError::from_sdk("s3:GetAccountPublicAccessBlock", e);
            if e.is_code("NoSuchPublicAccessBlockConfiguration") {
                Ok(None)
            } else {
                Err(e.into())
            }
        }
    }
}

async fn private(acc: Arc<Account>) -> CheckResult {
    let b = the_bucket(&acc).await?;
    let mut problems = Vec::new();

    // Five independent reads: asked at once.
    let (block, account, policy, status, acl) = tokio::join!(
        acc.s3.get_public_access_block().bucket(&b.name).send(),
        account_block(&acc),
        acc.s3.get_bucket_policy().bucket(&b.name).send(),
        acc.s3.get_bucket_policy_status().bucket(&b.name).send(),
        acc.s3.get_bucket_acl().bucket(&b.name).send()
    );
    let block = match block {
        Ok(out) => block_flags(out.public_access_block_configuration()),
        Err(e) => {
            let e = AwsError::from_sdk("s3:GetBucketPublicAccessBlock", e);
            if !e.is_code("NoSuchPublicAccessBlockConfiguration") {
                return Err(e.into());
            }
            None
        }
    };
    let account = account?;
    let effective = public::effective(block, account);
    let settings_in = |effect: public::Effect| -> Vec<&str> {
        public::SETTINGS
            .iter()
            .zip(effective)
            .filter(|(_, e)| *e == effect)
            .map(|(name, _)| *name)
            .collect()
    };
    let (off, from_account) = (settings_in(public::Effect::Off), settings_in(public::Effect::Account));
    if block.is_none() && account.is_none() {
        problems.push("neither the bucket nor the account has a public access block".to_string());
    } else if !off.is_empty() {
        problems.push(format!(
            "public access block settings off (for the bucket and for the account): {}",
            off.join(", ")
        ));
    }

    let policy = match policy {
        Ok(out) => out.policy().map(str::to_string),
        Err(e) => {
            let e = AwsError::from_sdk("s3:GetBucketPolicy", e);
            if !e.is_code("NoSuchBucketPolicy") {
                return Err(e.into());
            }
            None
        }
    };
    // S3's own verdict on the policy; no policy is no public policy.
    let policy_is_public = match status {
        Ok(out) => out.policy_status().and_then(|p| p.is_public()).unwrap_or(false),
        Err(e) => {
            let e = AwsError::from_sdk("s3:GetBucketPolicyStatus", e);
            if !e.is_code("NoSuchBucketPolicy") {
                return Err(e.into());
            }
            false
        }
    };
    let public_statements = policy.as_deref().map(public::public_statements).unwrap_or_default();
    if policy_is_public {
        let which = if public_statements.is_empty() {
            String::new()
        } else {
            format!(" ({} grants access to everyone)", public_statements.join(", "))
        };
        problems.push(format!("S3 judges the bucket policy public{which}"));
    }

    let acl = acl.map_err(|e| AwsError::from_sdk("s3:GetBucketAcl", e))?;
    let public_grants: Vec<String> = acl
        .grants()
        .iter()
        .filter_map(|g| {
            let uri = g.grantee()?.uri()?;
            let group = uri.rsplit('/').next()?;
            matches!(group, "AllUsers" | "AuthenticatedUsers")
                .then(|| format!("{group}: {}", g.permission().map_or("?", |p| p.as_str())))
        })
        .collect();
    if !public_grants.is_empty() {
        problems.push(format!("the bucket ACL grants {}", public_grants.join(", ")));
    }

    let flags = |level: public::Block| {
        public::SETTINGS
            .iter()
            .enumerate()
            .map(|(i, k)| (k.to_string(), json!(level.map(|l| l[i]))))
            .collect::<serde_json::Map<_, _>>()
    };
    let evidence = json!({
        "public_access_block": flags(block),
        "account_public_access_block": flags(account),
        "policy_is_public": policy_is_public,
        "public_policy_statements": public_statements,
        "public_acl_grants": public_grants,
    });
    Ok(if problems.is_empty() {
        let through = if from_account.is_empty() {
            String::new()
        } else {
            format!(
                " (the account's Block Public Access covers {})",
                from_account.join(", ")
            )
        };
        Outcome::pass(format!(
            "bucket {} blocks public access{through}; pictures are reached only through presigned URLs",
            b.name
        ))
        .evidence(evidence)
    } else {
        Outcome::fail(format!("bucket {} is not private: {}", b.name, problems.join("; "))).evidence(evidence)
    })
}

/// One object in the bucket.
#[derive(Clone, Debug)]
struct Object {
    key: String,
    size: i64,
}

/// The objects of the bucket with this name, listed once per run.
#[derive(PartialEq, Eq, Hash)]
struct Objects(String);
impl MemoKey for Objects {
    type Value = Result<Arc<(Vec<Object>, bool)>, AwsError>;
}

/// Lists the bucket once per run (up to [`MAX_LISTED`] objects).
async fn objects(acc: &Account, bucket: &str) -> Result<Arc<(Vec<Object>, bool)>, AwsError> {
    acc.memo
        .once(Objects(bucket.to_string()), || async {
            let mut pages = acc.s3.list_objects_v2().bucket(bucket).into_paginator().send();
            let mut found = Vec::new();
            let mut truncated = false;
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| AwsError::from_sdk("s3:ListBucket", e))?;
                found.extend(page.contents().iter().map(|o| Object {
                    key: o.key().unwrap_or_default().to_string(),
                    size: o.size().unwrap_or(0),
                }));
                if found.len() >= MAX_LISTED {
                    truncated = true;
                    break;
                }
            }
            Ok(Arc::new((found, truncated)))
        })
        .await
}

/// The media bucket and what it holds, for `labcheck cleanup`.
pub async fn bucket_summary(acc: &Account) -> Result<Option<(String, usize, i64)>, AwsError> {
    let Ok(b) = find_bucket(acc).await? else {
        return Ok(None);
    };
    let listing = objects(acc, &b.name).await?;
    Ok(Some((b.name, listing.0.len(), listing.0.iter().map(|o| o.size).sum())))
}

fn is_picture(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    PICTURE_ENDINGS.iter().any(|e| key.ends_with(e))
}

async fn media(acc: Arc<Account>) -> CheckResult {
    let b = the_bucket(&acc).await?;
    let listing = objects(&acc, &b.name).await?;
    let (all, truncated) = (&listing.0, listing.1);
    let pictures: Vec<&Object> = all.iter().filter(|o| is_picture(&o.key)).collect();
    let total: i64 = all.iter().map(|o| o.size).sum();
    let more = if truncated { "at least " } else { "" };
    let evidence = json!({
        "objects": all.len(),
        "pictures": pictures.len(),
        "total_bytes": total,
        "truncated": truncated,
        "sample": pictures.iter().take(5).map(|o| &o.key).collect::<Vec<_>>(),
    });
    Ok(match (all.len(), pictures.len()) {
        (0, _) => Outcome::fail(format!("bucket {} is empty", b.name)).evidence(evidence),
        (n, 0) => Outcome::fail(format!(
            "bucket {} holds {more}{n} objects, but no pictures (jpg, jpeg, png, gif, webp)",
            b.name
        ))
        .evidence(evidence),
        (n, p) => {
            Outcome::pass(format!("{more}{p} pictures among {n} objects, {}", human_bytes(total))).evidence(evidence)
        }
    })
}

async fn presigned(acc: Arc<Account>) -> CheckResult {
    let b = the_bucket(&acc).await?;
    let listing = objects(&acc, &b.name).await?;
    let Some(object) = listing.0.iter().filter(|o| is_picture(&o.key)).min_by_key(|o| o.size) else {
        return Err(CheckError::Other("no picture to download".into()));
    };
    let config = aws_sdk_s3::presigning::PresigningConfig::expires_in(Duration::from_secs(300))
        .map_err(|e| CheckError::Other(format!("cannot presign: {e}")))?;
    let request = acc
        .s3
        .get_object()
        .bucket(&b.name)
        .key(&object.key)
        .presigned(config)
        .await
        .map_err(|e| CheckError::Other(format!("cannot presign a URL for {}: {e}", object.key)))?;
    let url = request.uri().to_string();
    let shown_url = redact_url(&url);
    // A picture is small; a body past this is not the picture.
    let cap = (object.size.max(0) as usize).saturating_add(1).min(64 * 1024 * 1024);
    let got = match bucket_fetcher(&acc).await?.get_s3(&url, cap, 4).await {
        Ok(got) => got,
        Err(FetchError::Refused(r)) => {
            return Ok(Outcome::fail(format!(
                "labcheck refused to fetch the presigned URL for {}: {r}",
                object.key
            ))
            .evidence(json!({"key": object.key, "url": shown_url})));
        }
        Err(FetchError::Failed(e)) => {
            return Err(CheckError::Transient(format!(
                "the presigned URL for {} did not answer: {e}",
                object.key
            )));
        }
    };
    let (status, content_type, body) = (got.status, got.content_type, got.body);
    if status.is_server_error() {
        let code = s3_error_code(&body).map(|c| format!(" ({c})")).unwrap_or_default();
        return Err(CheckError::Transient(format!(
            "S3 answered the presigned URL for {} with HTTP {}{code}, four times",
            object.key,
            status.as_u16()
        )));
    }
    let evidence = json!({
        "key": object.key,
        "url": shown_url,
        "http_status": status.as_u16(),
        "bytes": body.len(),
        "content_type": content_type,
    });
    Ok(if !status.is_success() {
        let code = s3_error_code(&body).map(|c| format!(" ({c})")).unwrap_or_default();
        let mut outcome = Outcome::fail(format!(
            "the presigned URL for {} answered HTTP {}{code}",
            object.key,
            status.as_u16()
        ))
        .evidence(evidence);
        if code.contains("InvalidObjectState") {
            outcome = outcome.hint(format!(
                "{} is archived (a Glacier storage class), so it cannot be downloaded; keep media files in the STANDARD storage class, or restore them",
                object.key
            ));
        }
        outcome
    } else if body.len() as i64 != object.size {
        Outcome::fail(format!(
            "downloaded {} bytes of {}, but it holds {} bytes",
            body.len(),
            object.key,
            object.size
        ))
        .evidence(evidence)
    } else {
        Outcome::pass(format!(
            "downloaded {} ({}) through a presigned URL",
            object.key,
            human_bytes(object.size)
        ))
        .evidence(evidence)
    })
}

/// The environment variable naming one more S3 endpoint presigned links may
/// point at, besides AWS's S3 hosts and AWS_ENDPOINT_URL.
pub(crate) const S3_ENDPOINT_VAR: &str = "LABCHECK_S3_ENDPOINT_URL";

/// The fetcher held to the media bucket's S3 hosts, made once per run.
#[derive(PartialEq, Eq, Hash)]
struct BucketFetcher;
impl MemoKey for BucketFetcher {
    type Value = Result<Fetcher, CheckError>;
}

/// A fetcher that connects only to the S3 hosts of the media bucket (in its
/// Region and the lab's) and to the S3 endpoints the grader configured:
/// AWS_ENDPOINT_URL, where labcheck's own S3 calls go, and
/// [`S3_ENDPOINT_VAR`]. A bucket not found is named as labcheck looked for it.
pub(crate) async fn bucket_fetcher(acc: &Account) -> Result<Fetcher, CheckError> {
    acc.memo
        .once(BucketFetcher, || async {
            let (name, region) = match find_bucket(acc).await? {
                Ok(b) => (b.name, b.region),
                Err(Missing::NotFound { name, .. } | Missing::NotYours { name, .. }) => (name, acc.region.clone()),
            };
            let endpoints: Vec<Url> = [
                acc.sdk.endpoint_url().map(str::to_string),
                std::env::var(S3_ENDPOINT_VAR).ok(),
            ]
            .into_iter()
            .flatten()
            .filter_map(|u| Url::parse(&u).ok())
            .collect();
            Fetcher::new(Scope::bucket(&name, &[&region, &acc.region], &endpoints)).map_err(CheckError::from)
        })
        .await
}

/// The `<Code>` of an S3 XML error body.
fn s3_error_code(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(text[start..end].to_string())
}

fn human_bytes(n: i64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MiB", n as f64 / (1 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.1} KiB", n as f64 / 1024.0),
        n => format!("{n} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_match_wildcards() {
        assert!(origin_matches("*", "http://x.elasticbeanstalk.com"));
        assert!(origin_matches(
            "http://*.elasticbeanstalk.com",
            "http://pets.us-west-2.elasticbeanstalk.com"
        ));
        assert!(!origin_matches(
            "http://*.elasticbeanstalk.com",
            "https://pets.example.com"
        ));
        assert!(origin_matches("https://Site.example", "https://site.example"));
        assert!(
            origin_matches("https://site.example", ""),
            "no origin known: any listed origin"
        );
        assert!(!origin_matches("https://a.example", "https://b.example"));
    }

    #[test]
    fn a_refusal_says_why_as_aws_words_it() {
        // AccessDenied messages as AWS gives them for a request in the
        // owner's account (IAM User Guide, access denied error messages).
        assert_eq!(
            refusal_reason(
                "AccessDenied: User: arn:aws:iam::111122223333:user/ada is not authorized to perform: s3:GetBucketLocation on resource: \"arn:aws:s3:::pets\" with an explicit deny in a resource-based policy"
            ),
            "a Deny in the bucket policy refuses it"
        );
        assert_eq!(
            refusal_reason(
                "AccessDenied: User: arn:aws:sts::111122223333:assumed-role/labcheck-grader/ada is not authorized to perform: s3:GetBucketLocation because no identity-based policy allows the s3:GetBucketLocation action"
            ),
            "your credentials lack the permission"
        );
        assert_eq!(
            refusal_reason("AccessDenied: ... with an explicit deny in a service control policy"),
            "a service control policy (SCP) of your organization refuses it"
        );
        assert!(refusal_reason("AccessDenied: Access Denied").starts_with("AWS does not say why"));
    }

    #[test]
    fn pictures_by_ending() {
        assert!(is_picture("media/Luna.JPEG"));
        assert!(!is_picture("notes.txt"));
        assert_eq!(human_bytes(2048), "2.0 KiB");
    }
}
