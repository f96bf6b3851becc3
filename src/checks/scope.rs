//! Where labcheck's HTTP fetches may go: a [`Scope`] lists the origins one
//! kind of fetch may reach (the learner's site, or the S3 hosts of their
//! bucket) and which of them may sit on a non-public address (the
//! environment's own endpoint, an S3 endpoint the grader configured).
//!
//! The HTTP client made for a scope ([`super::http::Fetcher`]) holds every
//! connection to it: [`Scope::admits`] judges each URL before it is fetched
//! and each redirect before it is followed ([`redirect_policy`]), and
//! [`Resolver`] drops the non-public answers for every other name after it
//! is resolved, so the address judged is the address connected to (DNS
//! rebinding gains nothing). IP literals, which never reach a resolver, are
//! judged from the URL (the URL parser has already turned decimal, octal and
//! hex forms into the address they mean).

use super::address::{self, Special};
use crate::redact::redact_url;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// Redirects followed at most, per fetch.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// Where a URL points: scheme, host (lower case, IPv6 without brackets)
/// and port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an http or https URL.
    pub(crate) fn of(url: &Url) -> Option<Origin> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        Some(Origin {
            scheme: url.scheme().to_string(),
            host: host_of(url)?,
            port: url.port_or_known_default()?,
        })
    }

    fn new(scheme: &str, host: &str) -> Origin {
        Origin {
            scheme: scheme.to_string(),
            host: host.to_ascii_lowercase(),
            port: if scheme == "https" { 443 } else { 80 },
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match (self.scheme.as_str(), self.port) {
            ("http", 80) | ("https", 443) => write!(f, "{}://{host}", self.scheme),
            _ => write!(f, "{}://{host}:{}", self.scheme, self.port),
        }
    }
}

/// A URL's host as a resolver or a listing would name it.
fn host_of(url: &Url) -> Option<String> {
    Some(match url.host()? {
        url::Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
        url::Host::Ipv4(a) => a.to_string(),
        url::Host::Ipv6(a) => a.to_string(),
    })
}

/// One origin a scope admits.
#[derive(Clone, Debug)]
struct Admitted {
    origin: Origin,
    /// The origin may sit on a loopback, private or link-local address: it
    /// is the environment's own endpoint or the grader's configuration.
    internal: bool,
}

/// The origins one kind of fetch may reach.
#[derive(Clone, Debug)]
pub(crate) struct Scope {
    /// What the scope is, for messages ("the site's origin http://...").
    name: String,
    /// A site's scope (one origin), not a bucket's.
    site: bool,
    admitted: Vec<Admitted>,
}

/// Host names of S3 through which a bucket is reached, virtual-hosted and
/// path-style, global and regional (`{region}`), on AWS's DNS suffix for the
/// region's partition (`{suffix}`).
const S3_HOST_FORMS: &[&str] = &[
    "{bucket}.s3.{suffix}",
    "{bucket}.s3.{region}.{suffix}",
    "{bucket}.s3-{region}.{suffix}",
    "{bucket}.s3.dualstack.{region}.{suffix}",
    "{bucket}.s3-fips.{region}.{suffix}",
    "{bucket}.s3-accelerate.{suffix}",
    "{bucket}.s3-accelerate.dualstack.{suffix}",
    "s3.{suffix}",
    "s3.{region}.{suffix}",
    "s3-{region}.{suffix}",
    "s3.dualstack.{region}.{suffix}",
    "s3-fips.{region}.{suffix}",
];

/// us-east-1's other names for S3 (virtual-hosted and path-style).
const S3_US_EAST_1_FORMS: &[&str] = &["{bucket}.s3-external-1.{suffix}", "s3-external-1.{suffix}"];

/// AWS's DNS suffix for a Region's partition.
fn dns_suffix(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

impl Scope {
    /// The learner's site at `base`: only its own origin. `internal` when
    /// the base is the environment's endpoint as Elastic Beanstalk
    /// describes it, or a `site_url` the grader set: then that host may be
    /// a non-public address (the sandbox serves on 127.0.0.1).
    pub(crate) fn site(base: &Url, internal: bool) -> Option<Scope> {
        let origin = Origin::of(base)?;
        Some(Scope {
            name: format!("the site's origin {origin}"),
            site: true,
            admitted: vec![Admitted { origin, internal }],
        })
    }

    /// The S3 hosts of `bucket` in `regions` (its own and the lab's), over
    /// https and http, and each S3 endpoint the grader configured
    /// (`endpoints`: path-style on the endpoint itself, virtual-hosted on the
    /// bucket's name under it), which may be non-public addresses.
    pub(crate) fn bucket(bucket: &str, regions: &[&str], endpoints: &[Url]) -> Scope {
        let bucket = bucket.to_ascii_lowercase();
        let mut hosts: Vec<String> = Vec::new();
        for region in regions.iter().filter(|r| !r.is_empty()) {
            let forms = S3_HOST_FORMS.iter().chain(if *region == "us-east-1" {
                S3_US_EAST_1_FORMS
            } else {
                &[]
            });
            for form in forms {
                let host = form
                    .replace("{bucket}", &bucket)
                    .replace("{region}", region)
                    .replace("{suffix}", dns_suffix(region));
                if !hosts.contains(&host) {
                    hosts.push(host);
                }
            }
        }
        let mut admitted: Vec<Admitted> = hosts
            .iter()
            .flat_map(|h| ["https", "http"].map(|scheme| Origin::new(scheme, h)))
            .map(|origin| Admitted {
                origin,
                internal: false,
            })
            .collect();
        for endpoint in endpoints {
            let Some(origin) = Origin::of(endpoint) else { continue };
            let virtual_hosted = matches!(endpoint.host(), Some(url::Host::Domain(_))).then(|| Origin {
                host: format!("{bucket}.{}", origin.host),
                ..origin.clone()
            });
            for origin in std::iter::once(origin).chain(virtual_hosted) {
                admitted.push(Admitted { origin, internal: true });
            }
        }
        Scope {
            name: format!("the S3 hosts of bucket {bucket}"),
            site: false,
            admitted,
        }
    }

    /// Whether a fetch of `url` may be made: an http(s) URL at an admitted
    /// origin, on a public address unless that origin is internal.
    pub(crate) fn admits(&self, url: &Url) -> Result<(), Refused> {
        let Some(origin) = Origin::of(url) else {
            return Err(Refused::NotHttp { url: shown_url(url) });
        };
        let literal = url.host().and_then(|h| match h {
            url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
            url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
            url::Host::Domain(_) => None,
        });
        let special = literal.and_then(|ip| address::special(ip).map(|s| (ip, s)));
        match (self.admitted.iter().find(|a| a.origin == origin), special) {
            (None, special) => Err(Refused::Outside {
                hint: if special.is_none() {
                    self.hint_for(&origin)
                } else {
                    String::new()
                },
                origin: origin.to_string(),
                scope: self.name.clone(),
                address: special,
            }),
            (Some(a), Some((ip, special))) if !a.internal => Err(Refused::Address {
                host: origin.host.clone(),
                ip,
                special,
            }),
            (Some(_), _) => Ok(()),
        }
    }

    /// Advice when a site moved to HTTPS or another port on the same host.
    fn hint_for(&self, origin: &Origin) -> String {
        match self.admitted.as_slice() {
            [only] if self.site && only.origin.host == origin.host => {
                format!("; if the site now lives at {origin}, set `site_url = \"{origin}\"` in labcheck.toml")
            }
            _ => String::new(),
        }
    }

    /// Host names that may resolve to non-public addresses.
    fn internal_names(&self) -> Vec<String> {
        self.admitted
            .iter()
            .filter(|a| a.internal)
            .map(|a| a.origin.host.clone())
            .collect()
    }
}

/// A URL for a message: no signature, no more than a line.
fn shown_url(url: &Url) -> String {
    let text = redact_url(url.as_str());
    match text.char_indices().nth(160) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Why labcheck did not connect.
#[derive(Clone, Debug, thiserror::Error)]
pub(crate) enum Refused {
    /// Not an http or https URL.
    #[error("{url} is not an http or https URL")]
    NotHttp {
        /// The URL.
        url: String,
    },
    /// A URL outside the scope.
    #[error(
        "{origin} is outside {scope}{}{hint}",
        address.as_ref().map(|(ip, s)| format!(", and {ip} {}", is(s))).unwrap_or_default()
    )]
    Outside {
        /// The URL's origin.
        origin: String,
        /// What the scope admits.
        scope: String,
        /// The URL's host, when it is a non-public IP literal.
        address: Option<(IpAddr, Special)>,
        /// What to do, when a setting would help.
        hint: String,
    },
    /// A host on a non-public address.
    #[error("{}", on_address(host, ip, special))]
    Address {
        /// The host name (or literal) in the URL.
        host: String,
        /// The address it resolved to (the first refused).
        ip: IpAddr,
        /// Why that address is refused.
        special: Special,
    },
    /// A redirect that was not followed.
    #[error("{from} redirected to {to}; {refused}")]
    Redirect {
        /// The URL that answered with the redirect, redacted.
        from: String,
        /// Where it pointed, redacted.
        to: String,
        /// Why the target was refused.
        refused: Box<Refused>,
    },
    /// Too many redirects.
    #[error("{from} redirected more than {MAX_REDIRECTS} times")]
    TooManyRedirects {
        /// The URL first asked for, redacted.
        from: String,
    },
}

/// "example.com resolves to 127.0.0.1, which is a loopback address", or
/// "127.0.0.1 is a loopback address" for an IP literal.
fn on_address(host: &str, ip: &IpAddr, special: &Special) -> String {
    if host.trim_matches(['[', ']']) == ip.to_string() {
        format!("{ip} {}", is(special))
    } else {
        format!("{host} resolves to {ip}, which {}", is(special))
    }
}

/// "is a loopback address", or "carries ..., a loopback address" for an IPv6 form.
fn is(special: &Special) -> String {
    if special.carried.is_some() {
        special.to_string()
    } else {
        format!("is {special}")
    }
}

impl Refused {
    /// The refusal among an error's causes, if any.
    pub(crate) fn find<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e Refused> {
        let mut cause = Some(error);
        while let Some(e) = cause {
            if let Some(refused) = e.downcast_ref::<Refused>() {
                return Some(refused);
            }
            cause = e.source();
        }
        None
    }
}

/// The redirect policy of a scope's client: at most [`MAX_REDIRECTS`] hops,
/// each to an origin the scope admits.
pub(crate) fn redirect_policy(scope: Arc<Scope>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        let from = attempt.previous().last().map(shown_url).unwrap_or_default();
        if attempt.previous().len() > MAX_REDIRECTS {
            let first = attempt.previous().first().map(shown_url).unwrap_or_default();
            return attempt.error(Refused::TooManyRedirects { from: first });
        }
        match scope.admits(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(refused) => {
                let to = shown_url(attempt.url());
                attempt.error(Refused::Redirect {
                    from,
                    to,
                    refused: Box::new(refused),
                })
            }
        }
    })
}

/// The resolver of a scope's client: the system's answers, without the
/// non-public ones unless the name is one of the scope's internal hosts.
/// A name left with no answer is refused, naming the address it had.
pub(crate) struct Resolver {
    internal: Vec<String>,
}

impl Resolver {
    /// The resolver for `scope`.
    pub(crate) fn new(scope: &Scope) -> Resolver {
        Resolver {
            internal: scope.internal_names(),
        }
    }
}

impl Resolve for Resolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let internal = self.internal.contains(&host);
        Box::pin(async move {
            let found: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if internal {
                return Ok(Box::new(found.into_iter()) as Addrs);
            }
            let (public, refused): (Vec<_>, Vec<_>) =
                found.into_iter().partition(|a| address::special(a.ip()).is_none());
            match (public.is_empty(), refused.first()) {
                (true, Some(first)) => {
                    let special = address::special(first.ip()).expect("partitioned");
                    Err(Box::new(Refused::Address {
                        host,
                        ip: first.ip(),
                        special,
                    }) as Box<dyn std::error::Error + Send + Sync>)
                }
                _ => Ok(Box::new(public.into_iter()) as Addrs),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    fn sandbox_site() -> Scope {
        Scope::site(&url("http://127.0.0.1:28000"), true).unwrap()
    }

    #[test]
    fn the_site_admits_its_own_origin_only() {
        let site = sandbox_site();
        assert!(site.admits(&url("http://127.0.0.1:28000/static/x.css")).is_ok());
        for other in [
            "http://127.0.0.1:28001/",
            "https://127.0.0.1:28000/",
            "http://localhost:28000/",
            "http://example.com/",
            "ftp://127.0.0.1:28000/",
            "file:///etc/passwd",
        ] {
            assert!(site.admits(&url(other)).is_err(), "{other}");
        }
    }

    #[test]
    fn ip_literals_in_any_spelling_are_judged_as_the_address() {
        let site = Scope::site(&url("http://pets.us-west-2.elasticbeanstalk.com"), true).unwrap();
        for spelling in [
            "http://169.254.169.254/latest/meta-data/",
            "http://2852039166/latest/meta-data/",
            "http://0xa9fea9fe/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://169.254.169.254./",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[fd00:ec2::254]/",
        ] {
            let refused = site.admits(&url(spelling)).unwrap_err().to_string();
            assert!(refused.contains("metadata"), "{spelling}: {refused}");
        }
        let refused = site.admits(&url("http://2130706433:8080/")).unwrap_err().to_string();
        assert!(
            refused.contains("127.0.0.1") && refused.contains("loopback"),
            "{refused}"
        );
    }

    #[test]
    fn a_public_site_on_a_private_literal_is_refused_unless_internal() {
        let base = url("http://10.0.0.5");
        let trusted = Scope::site(&base, true).unwrap();
        assert!(trusted.admits(&url("http://10.0.0.5/x")).is_ok());
        let from_roster = Scope::site(&base, false).unwrap();
        let refused = from_roster.admits(&url("http://10.0.0.5/x")).unwrap_err();
        assert!(matches!(refused, Refused::Address { .. }), "{refused}");
        assert!(
            refused
                .to_string()
                .starts_with("10.0.0.5 is a private address (10.0.0.0/8)"),
            "{refused}"
        );
    }

    #[test]
    fn a_scheme_change_on_the_same_host_says_how_to_follow_it() {
        let site = Scope::site(&url("http://pets.example.com"), true).unwrap();
        let refused = site.admits(&url("https://pets.example.com/")).unwrap_err().to_string();
        assert!(refused.contains("site_url = \"https://pets.example.com\""), "{refused}");
    }

    #[test]
    fn the_bucket_admits_its_s3_hosts() {
        let s3 = Scope::bucket("Pets-Media", &["eu-west-1", "us-east-1"], &[]);
        for ok in [
            "https://pets-media.s3.amazonaws.com/luna.png",
            "https://pets-media.s3.eu-west-1.amazonaws.com/luna.png",
            "https://pets-media.s3-eu-west-1.amazonaws.com/luna.png",
            "https://pets-media.s3.us-east-1.amazonaws.com/luna.png",
            "https://pets-media.s3-external-1.amazonaws.com/luna.png",
            "http://pets-media.s3.amazonaws.com/luna.png",
            "https://s3.amazonaws.com/pets-media/luna.png",
            "https://s3.eu-west-1.amazonaws.com/pets-media/luna.png",
            "https://s3.dualstack.eu-west-1.amazonaws.com/pets-media/luna.png",
        ] {
            assert!(s3.admits(&url(ok)).is_ok(), "{ok}");
        }
        for refused in [
            "https://other.s3.amazonaws.com/luna.png",
            "https://pets-media.s3.us-west-2.amazonaws.com/luna.png",
            "https://pets-media.s3.amazonaws.com.evil.example/luna.png",
            "https://pets-media.s3.amazonaws.com:8443/luna.png",
            "http://127.0.0.1:24566/pets-media/luna.png",
            "http://169.254.169.254/latest/meta-data/",
        ] {
            assert!(s3.admits(&url(refused)).is_err(), "{refused}");
        }
        let china = Scope::bucket("b", &["cn-north-1"], &[]);
        assert!(china.admits(&url("https://b.s3.cn-north-1.amazonaws.com.cn/k")).is_ok());
    }

    #[test]
    fn a_configured_endpoint_is_an_s3_host_and_may_be_internal() {
        let s3 = Scope::bucket(
            "b",
            &["us-west-2"],
            &[url("http://127.0.0.1:24566"), url("https://localhost:24443")],
        );
        assert!(s3.admits(&url("http://127.0.0.1:24566/b/luna.png")).is_ok());
        assert!(s3.admits(&url("https://localhost:24443/b/luna.png")).is_ok());
        assert!(s3.admits(&url("https://b.localhost:24443/luna.png")).is_ok());
        assert!(s3.admits(&url("http://127.0.0.1:24567/b/luna.png")).is_err());
        assert_eq!(s3.internal_names(), ["127.0.0.1", "localhost", "b.localhost"]);
    }

    #[tokio::test]
    async fn the_resolver_drops_non_public_answers() {
        let site = Scope::site(&url("http://pets.example.com"), true).unwrap();
        let refused = match Resolver::new(&site).resolve("localhost".parse().unwrap()).await {
            Ok(addrs) => panic!("localhost resolved: {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        let refused = Refused::find(refused.as_ref()).expect("a refusal").to_string();
        assert!(
            refused.contains("localhost resolves to") && refused.contains("loopback"),
            "{refused}"
        );

        let local = Scope::site(&url("http://localhost:28000"), true).unwrap();
        let addrs: Vec<_> = Resolver::new(&local)
            .resolve("localhost".parse().unwrap())
            .await
            .expect("the site's own host resolves")
            .collect();
        assert!(addrs.iter().any(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
