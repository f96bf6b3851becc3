//! The grader only goes where the lab is: a learner's site that redirects
//! labcheck to another port of this machine, to the cloud's instance
//! metadata address or to a private address, and a page whose stylesheet
//! and picture links point off the site and off S3, get nothing fetched
//! there; the check fails naming what was refused. The "learner's site" is a
//! small server each test starts; the places it points at are real
//! listeners that record every request, so a test fails if labcheck reached
//! one. The sandbox's own site still grades green.

use crate::common::{Learner, check, cohort_grade_json, labcheck, sandbox_env, shared_learner};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// A real HTTP server that answers every request with one response and
/// records the request line of each.
struct Server {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(bind: &str, response: String) -> Server {
        let listener = TcpListener::bind(bind).unwrap_or_else(|e| panic!("bind {bind}: {e}"));
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let line = answer(stream, &response);
                            seen.lock().unwrap().push(line);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(e) => panic!("accept: {e}"),
                    }
                }
            })
        };
        Server {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// A site whose every page redirects to `location`.
    fn redirecting(location: &str) -> Server {
        Server::start(
            "127.0.0.1:0",
            format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        )
    }

    /// A site whose every page is `html`.
    fn page(html: &str) -> Server {
        Server::start("127.0.0.1:0", ok("text/html; charset=utf-8", html))
    }

    /// What an internal service would hand out: credentials, served as a
    /// stylesheet so a check that took it would pass on it.
    fn internal(bind: &str) -> Server {
        Server::start(
            bind,
            ok(
                "text/css",
                r#"{"AccessKeyId":"ASIAINTERNAL","SecretAccessKey":"internal-secret"}"#,
            ),
        )
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    /// Proves the listener answers at `addr` (a request of the test's own,
    /// then forgotten): a listener nobody could reach would prove nothing.
    fn answers_at(&self, addr: SocketAddr) {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("the listener does not answer at {addr}: {e}"));
        stream.write_all(b"GET /probe HTTP/1.0\r\n\r\n").unwrap();
        let mut reply = String::new();
        let _ = stream.read_to_string(&mut reply);
        assert!(reply.starts_with("HTTP/1.1 200"), "{addr}: {reply}");
        for _ in 0..200 {
            if !self.requests().is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(self.requests(), ["GET /probe HTTP/1.0"], "{addr}");
        self.seen.lock().unwrap().clear();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn ok(content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// Reads one request's head and answers it; the request line.
fn answer(mut stream: TcpStream, response: &str) -> String {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = stream.write_all(response.as_bytes());
    String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

fn learner() -> Learner {
    shared_learner("reach")
}

/// `labcheck check IDS` with the site at `site`, as the grader names it.
fn check_site(l: &Learner, site: &str, ids: &[&str]) -> Value {
    let set = format!("site_url={site}");
    let mut args: Vec<&str> = ids.to_vec();
    args.extend(["--set", &set]);
    l.check_json(&args).1
}

/// The check failed, saying it refused `what` and why.
#[track_caller]
fn assert_refused(report: &Value, id: &str, says: &[&str]) {
    let c = check(report, id);
    assert_eq!(c["status"], "fail", "{id}: {c:#}");
    let message = c["message"].as_str().unwrap_or_default();
    for part in ["labcheck refused to fetch"].iter().chain(says) {
        assert!(message.contains(part), "{id}: the message does not say `{part}`\n{c:#}");
    }
}

#[test]
fn a_redirect_to_another_port_of_this_machine_is_not_followed() {
    let l = learner();
    let internal = Internal::on("127.0.0.1:0");
    let port = internal.server.port;
    // The address itself, in decimal, IPv4-mapped, and as a name.
    for target in [
        format!("http://127.0.0.1:{port}/latest/meta-data/iam/security-credentials/grader"),
        format!("http://2130706433:{port}/latest/user-data"),
        format!("http://[::ffff:127.0.0.1]:{port}/latest/user-data"),
        format!("http://localhost:{port}/latest/user-data"),
    ] {
        let site = Server::redirecting(&target);
        let report = check_site(&l, &site.url(), &["eb.site"]);
        let shown_port = format!(":{port}");
        let mut says = vec!["redirected to", shown_port.as_str(), "outside the site's origin"];
        if !target.contains("localhost") {
            says.extend(["127.0.0.1", "loopback"]);
        }
        assert_refused(&report, "eb.site", &says);
        assert_eq!(site.requests().len(), 1, "the learner's site was asked once: {target}");
        internal.assert_untouched(&target);
    }
}

#[test]
fn a_redirect_to_the_instance_metadata_address_is_not_followed() {
    let l = learner();
    // Nothing on this machine answers at 169.254.169.254: the refusal is made
    // before any connection, by the redirect policy, and says so.
    for (target, address) in [
        (
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
            "169.254.169.254",
        ),
        ("http://2852039166/latest/user-data", "169.254.169.254"),
        ("http://0251.0376.0251.0376/latest/user-data", "169.254.169.254"),
        ("http://[::ffff:169.254.169.254]/latest/user-data", "169.254.169.254"),
        ("http://[fd00:ec2::254]/latest/meta-data/", "fd00:ec2::254"),
        ("http://169.254.170.2/v2/credentials", "169.254.0.0/16"),
    ] {
        let site = Server::redirecting(target);
        let report = check_site(&l, &site.url(), &["eb.site", "eb.static", "eb.media"]);
        assert_refused(&report, "eb.site", &[address, "link-local"]);
        for id in ["eb.static", "eb.media"] {
            assert_eq!(check(&report, id)["status"], "skip", "{id}: {target}");
        }
    }
}

#[test]
fn a_redirect_to_a_private_address_is_not_followed() {
    let l = learner();
    let own = outward_address();
    let internal = Internal::on("0.0.0.0:0");
    let port = internal.server.port;
    internal.server.answers_at(SocketAddr::new(own, port));
    internal.server.answers_at(SocketAddr::new([0, 0, 0, 0].into(), port));
    // This machine's own address, where the listener answers: refused as a
    // private address, or (a machine with a public one) as another origin.
    // An RFC 1918 address nobody answers at: refused by its class alone.
    let refused_private = format!("http://10.255.255.254:{port}/latest/user-data");
    for (target, why, listened) in [
        (format!("http://{own}:{port}/latest/user-data"), own.to_string(), true),
        (refused_private, "a private address".to_string(), false),
        (
            format!("http://0.0.0.0:{port}/latest/user-data"),
            "unspecified".to_string(),
            true,
        ),
    ] {
        let site = Server::redirecting(&target);
        let report = check_site(&l, &site.url(), &["eb.site"]);
        let shown_port = format!(":{port}");
        assert_refused(&report, "eb.site", &[shown_port.as_str(), why.as_str()]);
        if listened {
            internal.assert_untouched(&target);
        }
    }
}

#[test]
fn stylesheet_and_picture_links_off_the_site_and_off_s3_are_not_fetched() {
    let l = learner();
    let internal = Internal::on("127.0.0.1:0");
    let elsewhere = internal.server.url();
    let page = Server::page(&format!(
        r#"<html><head><link rel="stylesheet" href="{elsewhere}/static/pets.css"></head><body>
        <img src="{elsewhere}/media/luna.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&amp;X-Amz-Credential=ASIA&amp;X-Amz-Signature=0123abcd">
        <img src="https://pets.example.com/media/max.png?X-Amz-Algorithm=AWS4-HMAC-SHA256&amp;X-Amz-Signature=4567ef">
        </body></html>"#
    ));
    let report = check_site(&l, &page.url(), &["eb.site", "eb.static", "eb.media"]);
    assert_eq!(check(&report, "eb.site")["status"], "pass", "{report:#}");
    assert_refused(&report, "eb.static", &[elsewhere.as_str(), "outside the site's origin"]);
    let media = check(&report, "eb.media");
    assert_eq!(media["status"], "fail", "{media:#}");
    let message = media["message"].as_str().unwrap();
    assert!(
        message.contains("none on an S3 host of the media bucket")
            && message.contains(&elsewhere)
            && message.contains(&format!("the S3 hosts of bucket {}", l.bucket())),
        "{media:#}"
    );
    assert!(!report.to_string().contains("0123abcd"), "a signature in the report");
    internal.assert_untouched("the page's links");
}

#[test]
fn the_sandbox_site_still_grades_green() {
    let l = learner();
    let (code, report) = l.check_json(&["eb.site", "eb.static", "eb.media", "eb.debug-off", "s3.presigned"]);
    assert_eq!(code, 0, "{report:#}");
    let endpoint = &sandbox_env()["AWS_ENDPOINT_URL"];
    let downloaded = check(&report, "eb.media")["evidence"]["downloaded"].as_str().unwrap();
    assert!(downloaded.starts_with(&format!("{endpoint}/")), "{downloaded}");
}

#[test]
fn a_site_url_from_a_roster_may_not_resolve_to_this_machine() {
    let l = learner();
    let site = Server::page("<html><body>pets</body></html>");
    let by_name = format!("http://localhost:{}", site.port);

    // The grader's own site_url may name this machine (the sandbox does).
    let report = check_site(&l, &by_name, &["eb.site"]);
    assert_eq!(check(&report, "eb.site")["status"], "pass", "{report:#}");
    assert_eq!(site.requests().len(), 1, "{:?}", site.requests());
    site.seen.lock().unwrap().clear();

    // A roster's, which a learner handed in, may not: the name resolves to
    // a loopback address and nothing is left to connect to.
    let dir = tempfile::tempdir().unwrap();
    let roster = dir.path().join("roster.csv");
    std::fs::write(
        &roster,
        format!(
            "learner,account,external_id,site_url\nmallory,{},labcheck-sandbox,{by_name}\n",
            l.account
        ),
    )
    .unwrap();
    let book = dir.path().join("book.json");
    let mut cmd = labcheck();
    cmd.envs(sandbox_env());
    let out = cohort_grade_json(cmd, &roster, &book);
    let book: Value = serde_json::from_slice(&std::fs::read(&book).unwrap_or_default())
        .unwrap_or_else(|e| panic!("no gradebook ({e}):\n{}", crate::common::text(&out)));
    let mallory = &book["learners"][0];
    assert_eq!(mallory["grading_status"], "graded", "{mallory:#}");
    assert_refused(
        &mallory["report"],
        "eb.site",
        &["localhost resolves to", "which is a loopback address"],
    );
    assert!(
        site.requests().is_empty(),
        "the site was reached: {:?}",
        site.requests()
    );
}

/// A listener standing in for a service inside the grader's network.
struct Internal {
    server: Server,
}

impl Internal {
    fn on(bind: &str) -> Internal {
        let server = Server::internal(bind);
        let internal = Internal { server };
        if bind.starts_with("127.") {
            internal
                .server
                .answers_at(SocketAddr::new([127, 0, 0, 1].into(), internal.server.port));
        }
        internal
    }

    #[track_caller]
    fn assert_untouched(&self, after: &str) {
        assert!(
            self.server.requests().is_empty(),
            "labcheck reached the internal listener ({after}): {:?}",
            self.server.requests()
        );
    }
}

/// This machine's address on its route out (no packet is sent): private on
/// most machines, public on some; either way not the learner's site.
fn outward_address() -> IpAddr {
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    socket.connect("192.0.2.1:9").expect("this machine has a route out");
    socket.local_addr().unwrap().ip()
}
