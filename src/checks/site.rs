//! The `eb` step, the visitor's side: the environment's URL answers, static
//! files are served under /static/, pictures come through presigned S3 URLs,
//! and an unknown URL gives a plain 404 rather than Django's debug page.

use super::CheckKind;
use super::eb::the_environment;
use crate::engine::account::Account;
use crate::engine::memo::MemoKey;
use crate::engine::outcome::{CheckError, CheckResult, Outcome};
use crate::redact::redact_url;
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
    iam_actions: &["elasticbeanstalk:DescribeEnvironments"],
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

/// The site's base URL: the `site_url` parameter, else the environment's CNAME.
async fn base_url(acc: &Account) -> Result<String, CheckError> {
    let explicit = acc.param("site_url");
    if !explicit.is_empty() {
        return Ok(explicit.trim_end_matches('/').to_string());
    }
    let e = the_environment(acc).await?;
    if e.cname.is_empty() {
        return Err(CheckError::Other(format!("environment {} has no URL yet", e.name)));
    }
    Ok(if e.cname.starts_with("http") {
        e.cname.trim_end_matches('/').to_string()
    } else {
        format!("http://{}", e.cname)
    })
}

async fn fetch(acc: &Account, url: &str) -> Result<Page, String> {
    let got = super::http::get(acc.http(), url, MAX_PAGE).await?;
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
    type Value = Result<Page, String>;
}

/// The home page, fetched once per run.
async fn home(acc: &Account) -> Result<Result<Page, String>, CheckError> {
    let base = base_url(acc).await?;
    Ok(acc
        .memo
        .once(HomePage, || async move { fetch(acc, &format!("{base}/")).await })
        .await)
}

async fn site(acc: Arc<Account>) -> CheckResult {
    let base = base_url(&acc).await?;
    Ok(match home(&acc).await? {
        Ok(page) if page.status == 200 => Outcome::pass(format!("{base}/ answered 200")),
        Ok(page) => Outcome::fail(format!("{base}/ answered HTTP {}", page.status)).hint(match page.status {
            400 => "Django answers 400 when the host name is not in ALLOWED_HOSTS: add '.elasticbeanstalk.com'.",
            500..=599 => "The app fails on this page: read the logs with `eb logs` and fix the error.",
            _ => "Open the URL in a browser and read `eb logs` to see why it does not answer 200.",
        }),
        Err(e) => Outcome::fail(format!("{base}/ did not answer: {e}"))
            .hint("Check `eb health` and `eb logs`: the environment must be running the app."),
    }
    .evidence(json!({"url": format!("{base}/")})))
}

static STYLESHEET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(?i)<link[^>]+href=["']([^"']*/static/[^"']+\.css[^"']*)["']"#).expect("regex"));

async fn static_files(acc: Arc<Account>) -> CheckResult {
    let base = base_url(&acc).await?;
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
    let page = fetch(&acc, &target)
        .await
        .map_err(|e| CheckError::Other(format!("{target} did not answer: {e}")))?;
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
        Err(e) => return Err(CheckError::Other(e)),
    };
    let sources: Vec<String> = IMG_SRC
        .captures_iter(&page.body)
        .map(|c| c[1].replace("&amp;", "&"))
        .collect();
    let shown: Vec<String> = sources.iter().take(5).map(|s| redact_url(s)).collect();
    let Some(signed) = sources.iter().find(|s| is_presigned(s)) else {
        let message = match sources.first() {
            None => format!("{} shows no pictures", page.url),
            Some(first) => format!(
                "{} shows pictures from {}, not through presigned S3 URLs: the app stores media on its own disk",
                page.url,
                redact_url(first)
            ),
        };
        return Ok(Outcome::fail(message).evidence(json!({"images": shown})));
    };
    // S3's own server errors mean "try again": retried, then reported as a
    // passing fault, never as the learner's.
    let picture = super::http::get_s3(acc.http(), signed, MAX_PAGE, 4).await;
    let evidence = json!({"images": shown, "downloaded": redact_url(signed)});
    Ok(match picture {
        Ok(p) if p.status.is_server_error() => {
            return Err(CheckError::Transient(format!(
                "S3 answered a presigned picture URL from the page with HTTP {}, four times",
                p.status.as_u16()
            )));
        }
        Err(e) => {
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
    let base = base_url(&acc).await?;
    let _ = home(&acc).await?;
    let probe = format!("{base}/labcheck-{:x}-no-such-page/", std::process::id() ^ 0x5eed);
    let page = fetch(&acc, &probe)
        .await
        .map_err(|e| CheckError::Other(format!("{probe} did not answer: {e}")))?;
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
