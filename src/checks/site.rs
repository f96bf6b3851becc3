//! The `eb` step, the visitor's side: the environment's URL answers, static
//! files are served under /static/, pictures come through presigned S3 URLs,
//! and an unknown URL gives a plain 404 rather than Django's debug page.
//! Pages are fetched only from the site's own origin, pictures only from the
//! media bucket's S3 hosts (`checks::scope`).

use super::CheckKind;
use super::eb::the_environment;
use super::http::{FetchError, Fetcher};
use super::scope::Scope;
use crate::params::Param;
use crate::redact::redact_url;
use crate::run::account::Account;
use crate::run::memo::MemoKey;
use crate::run::outcome::{CheckError, CheckResult, Outcome};
use regex::Regex;
use serde_json::json;
use std::sync::{Arc, LazyLock};

pub(crate) const SITE: CheckKind = CheckKind {
    id: "eb.site",
    passes: "the environment's URL answers 200",
    iam_actions: &["elasticbeanstalk:DescribeEnvironments"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(site(a)),
};

pub(crate) const STATIC: CheckKind = CheckKind {
    id: "eb.static",
    passes: "a stylesheet under /static/ answers 200 with a CSS content type",
    iam_actions: &["elasticbeanstalk:DescribeEnvironments"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(static_files(a)),
};

pub(crate) const MEDIA: CheckKind = CheckKind {
    id: "eb.media",
    passes: "the pet list shows pictures through presigned S3 URLs, and one of them downloads",
    // The bucket's name and Region name the S3 hosts a picture may come from.
    iam_actions: &[
        "elasticbeanstalk:DescribeEnvironments",
        "s3:GetBucketLocation",
        "s3:ListAllMyBuckets",
    ],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(media(a)),
};

pub(crate) const DEBUG_OFF: CheckKind = CheckKind {
    id: "eb.debug-off",
    passes: "an unknown URL answers 404 without Django's debug page",
    iam_actions: &["elasticbeanstalk:DescribeEnvironments"],
    data_plane: false,
    reads_project: false,
    run: |a, _| Box::pin(debug_off(a)),
};

/// Most of a page labcheck reads.
const MAX_PAGE: usize = 2 * 1024 * 1024;

/// A fetched page.
#[derive(Clone, Debug)]
struct Page {
    url: String,
    status: u16,
    content_type: String,
    body: String,
}

/// The site's base URL: the `site_url` parameter, else the environment's
/// CNAME; and whether its host may be a non-public address (the
/// environment's own endpoint, or a `site_url` the grader set rather than a
/// roster row a learner handed in).
async fn base_url(acc: &Account) -> Result<(String, bool), CheckError> {
    let explicit = acc.param(Param::SiteUrl);
    if !explicit.is_empty() {
        return Ok((
            explicit.trim_end_matches('/').to_string(),
            !acc.param_from_roster(Param::SiteUrl),
        ));
    }
    let e = the_environment(acc).await?;
    if e.cname.is_empty() {
        return Err(CheckError::Other(format!("environment {} has no URL yet", e.name)));
    }
    let base = if e.cname.starts_with("http") {
        e.cname.trim_end_matches('/').to_string()
    } else {
        format!("http://{}", e.cname)
    };
    Ok((base, true))
}

/// The site: its base URL, and a fetcher held to its origin.
#[derive(Clone)]
struct Site {
    base: String,
    fetcher: Fetcher,
}

/// The site, found once per run.
#[derive(PartialEq, Eq, Hash)]
struct TheSite;
impl MemoKey for TheSite {
    type Value = Result<Site, CheckError>;
}

async fn the_site(acc: &Account) -> Result<Site, CheckError> {
    acc.memo
        .once(TheSite, || async {
            let (base, internal) = base_url(acc).await?;
            let scope = reqwest::Url::parse(&base)
                .ok()
                .and_then(|url| Scope::site(&url, internal))
                .ok_or_else(|| CheckError::Other(format!("the site's URL {base} is not an http or https URL")))?;
            let fetcher = Fetcher::new(scope)?;
            Ok(Site { base, fetcher })
        })
        .await
}

/// What a refused fetch of the site means for the learner.
const REFUSED_HINT: &str = "labcheck fetches the site only at its own origin (scheme, host and port) and never follows a redirect elsewhere; it connects to a loopback, private or link-local address only when that is the environment's own endpoint. Make the site answer at its own URL.";

async fn fetch(site: &Site, url: &str) -> Result<Page, FetchError> {
    let got = site.fetcher.get(url, MAX_PAGE).await?;
    Ok(Page {
        url: url.to_string(),
        status: got.status.as_u16(),
        content_type: got.content_type,
        body: String::from_utf8_lossy(&got.body).into_owned(),
    })
}

/// The site's home page, fetched once per run.
#[derive(PartialEq, Eq, Hash)]
struct HomePage;
impl MemoKey for HomePage {
    type Value = Result<Page, FetchError>;
}

/// The home page, fetched once per run.
async fn home(acc: &Account) -> Result<Result<Page, FetchError>, CheckError> {
    let site = the_site(acc).await?;
    Ok(acc
        .memo
        .once(
            HomePage,
            || async move { fetch(&site, &format!("{}/", site.base)).await },
        )
        .await)
}

async fn site(acc: Arc<Account>) -> CheckResult {
    let base = the_site(&acc).await?.base;
    Ok(match home(&acc).await? {
        Ok(page) if page.status == 200 => Outcome::pass(format!("{base}/ answered 200")),
        Ok(page) => Outcome::fail(format!("{base}/ answered HTTP {}", page.status)).hint(match page.status {
            400 => "Django answers 400 when the host name is not in ALLOWED_HOSTS: add '.elasticbeanstalk.com'.",
            500..=599 => "The app fails on this page: read the logs with `eb logs` and fix the error.",
            _ => "Open the URL in a browser and read `eb logs` to see why it does not answer 200.",
        }),
        Err(FetchError::Refused(r)) => {
            Outcome::fail(format!("labcheck refused to fetch {base}/: {r}")).hint(REFUSED_HINT)
        }
        Err(FetchError::Failed(e)) => Outcome::fail(format!("{base}/ did not answer: {e}"))
            .hint("Check `eb health` and `eb logs`: the environment must be running the app."),
    }
    .evidence(json!({"url": format!("{base}/")})))
}

static STYLESHEET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)<link[^>]+href=["']([^"']*/static/[^"']+\.css[^"']*)["']"#).expect("regex"));

async fn static_files(acc: Arc<Account>) -> CheckResult {
    let site = the_site(&acc).await?;
    let base = &site.base;
    // The stylesheet the home page links to, else the admin's.
    let linked = match home(&acc).await? {
        Ok(page) => STYLESHEET.captures(&page.body).map(|c| c[1].to_string()),
        Err(_) => None,
    };
    let target = match linked {
        Some(href) if href.starts_with("http") => href,
        Some(href) => format!("{base}{}{href}", if href.starts_with('/') { "" } else { "/" }),
        None => format!("{base}/static/admin/css/base.css"),
    };
    let page = match fetch(&site, &target).await {
        Ok(page) => page,
        Err(FetchError::Refused(r)) => {
            return Ok(Outcome::fail(format!(
                "labcheck refused to fetch the stylesheet {}: {r}",
                redact_url(&target)
            ))
            .hint(REFUSED_HINT)
            .evidence(json!({"url": redact_url(&target)})));
        }
        Err(FetchError::Failed(e)) => return Err(CheckError::Other(format!("{target} did not answer: {e}"))),
    };
    let evidence = json!({"url": target, "http_status": page.status, "content_type": page.content_type});
    Ok(if page.status == 200 && page.content_type.starts_with("text/css") {
        Outcome::pass(format!("{target} answered 200 ({})", page.content_type))
    } else if page.status == 200 {
        Outcome::fail(format!(
            "{target} answered 200 but as {}, not text/css",
            page.content_type
        ))
    } else {
        Outcome::fail(format!("{target} answered HTTP {}", page.status))
    }
    .evidence(evidence))
}

static IMG_SRC: LazyLock<Regex> = LazyLock::new(|| Regex::new(r#"(?i)<img[^>]+src=["']([^"']+)["']"#).expect("regex"));

/// Whether a URL carries a presigned signature (SigV4 or the older SigV2).
fn is_presigned(url: &str) -> bool {
    url.contains("X-Amz-Signature=") || (url.contains("Signature=") && url.contains("Expires="))
}

async fn media(acc: Arc<Account>) -> CheckResult {
    let page = match home(&acc).await? {
        Ok(page) if page.status == 200 => page,
        Ok(page) => return Err(CheckError::Other(format!("{} answered HTTP {}", page.url, page.status))),
        Err(e) => return Err(CheckError::Other(e.to_string())),
    };
    let sources: Vec<String> = IMG_SRC
        .captures_iter(&page.body)
        .map(|c| c[1].replace("&amp;", "&"))
        .collect();
    let shown: Vec<String> = sources.iter().take(5).map(|s| redact_url(s)).collect();
    let signed: Vec<&String> = sources.iter().filter(|s| is_presigned(s)).collect();
    if signed.is_empty() {
        let message = match sources.first() {
            None => format!("{} shows no pictures", page.url),
            Some(first) => format!(
                "{} shows pictures from {}, not through presigned S3 URLs: the app stores media on its own disk",
                page.url,
                redact_url(first)
            ),
        };
        return Ok(Outcome::fail(message).evidence(json!({"images": shown})));
    }
    // Only a link on one of the bucket's S3 hosts is fetched.
    let bucket = super::s3::bucket_fetcher(&acc).await?;
    let on_s3 = signed.iter().find(|s| bucket.admits(s).is_ok());
    let Some(signed) = on_s3 else {
        let why = match bucket.admits(signed[0]) {
            Err(FetchError::Refused(r)) => r.to_string(),
            Err(FetchError::Failed(e)) => e,
            Ok(()) => String::new(),
        };
        return Ok(Outcome::fail(format!(
            "{} shows presigned picture links, but none on an S3 host of the media bucket, so labcheck refused to fetch them: {why}",
            page.url
        ))
        .hint("The app must presign links to the media bucket itself (django-storages with AWS_STORAGE_BUCKET_NAME and AWS_S3_REGION_NAME), not to another host.")
        .evidence(json!({"images": shown})));
    };
    // S3's own server errors mean "try again": retried, then reported as a
    // passing fault, never as the learner's.
    let picture = bucket.get_s3(signed, MAX_PAGE, 4).await;
    let evidence = json!({"images": shown, "downloaded": redact_url(signed)});
    Ok(match picture {
        Ok(p) if p.status.is_server_error() => {
            return Err(CheckError::Transient(format!(
                "S3 answered a presigned picture URL from the page with HTTP {}, four times",
                p.status.as_u16()
            )));
        }
        Err(FetchError::Refused(r)) => Outcome::fail(format!(
            "labcheck refused to fetch a presigned picture URL from the page: {r}"
        )),
        Err(FetchError::Failed(e)) => {
            return Err(CheckError::Transient(format!(
                "a presigned picture URL from the page did not answer: {e}"
            )));
        }
        Ok(p) if p.status.as_u16() == 200 => Outcome::pass(format!(
            "{} of {} pictures use presigned S3 URLs; one downloaded ({})",
            sources.iter().filter(|s| is_presigned(s)).count(),
            sources.len(),
            p.content_type
        )),
        Ok(p) => Outcome::fail(format!(
            "a presigned picture URL from the page answered HTTP {}",
            p.status.as_u16()
        ))
        .hint("The instance role must allow s3:GetObject on the bucket's objects, and the object must exist."),
    }
    .evidence(evidence))
}

/// Text only Django's technical 404/500 pages contain.
const DEBUG_MARKS: &[&str] = &[
    "Using the URLconf defined in",
    "You’re seeing this error because you have",
    "You're seeing this error because you have",
];

/// Telling Django's debug page from a plain 404 takes one request that
/// answers 4xx, and enhanced health counts every 4xx the app gives: no
/// answer below 400 shows whether DEBUG is on. So the probe is made to
/// count as little as it can: exactly one request (a 404 is never
/// redirected or retried), sent only after the home page answered, so it
/// falls in the same minute as the 200s labcheck's other site requests
/// get, and a correct site's share of 4xx stays a minority of labcheck's
/// own traffic. `eb.env` accepts a Warning that 4xx answers alone cause.
async fn debug_off(acc: Arc<Account>) -> CheckResult {
    let site = the_site(&acc).await?;
    let base = &site.base;
    let _ = home(&acc).await?;
    let probe = format!("{base}/labcheck-{:x}-no-such-page/", std::process::id() ^ 0x5eed);
    let page = match fetch(&site, &probe).await {
        Ok(page) => page,
        Err(FetchError::Refused(r)) => {
            return Ok(Outcome::fail(format!("labcheck refused to fetch {probe}: {r}")).hint(REFUSED_HINT));
        }
        Err(FetchError::Failed(e)) => return Err(CheckError::Other(format!("{probe} did not answer: {e}"))),
    };
    let debug_page = DEBUG_MARKS.iter().any(|m| page.body.contains(m));
    let evidence = json!({"url": probe, "http_status": page.status, "debug_page": debug_page});
    Ok(if debug_page {
        Outcome::fail(format!("{probe} shows Django's debug page: DEBUG is on in production")).evidence(evidence)
    } else if page.status != 404 {
        Outcome::fail(format!("an unknown URL answered HTTP {}, not 404", page.status)).evidence(evidence)
    } else {
        Outcome::pass("an unknown URL answers a plain 404").evidence(evidence)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_presigned_pictures_and_stylesheets() {
        let html = r#"<link rel="stylesheet" href="/static/pets_app/site.css"><img src="https://b.s3.amazonaws.com/luna.png?X-Amz-Algorithm=A&amp;X-Amz-Signature=abc" width="120"><img src='/media/max.png'>"#;
        let srcs: Vec<String> = IMG_SRC
            .captures_iter(html)
            .map(|c| c[1].replace("&amp;", "&"))
            .collect();
        assert_eq!(srcs.len(), 2);
        assert!(is_presigned(&srcs[0]) && !is_presigned(&srcs[1]));
        assert_eq!(&STYLESHEET.captures(html).unwrap()[1], "/static/pets_app/site.css");
        assert!(is_presigned(
            "https://b.s3.amazonaws.com/l.jpeg?AWSAccessKeyId=A&Signature=x&Expires=1"
        ));
    }
}
