//! `labcheck book serve`: the book built into labcheck, served with its API
//! on 127.0.0.1. Who may ask (the token, the Host, the Origin; POST only
//! for runs; no CORS), a step's checks streamed as they finish and recorded
//! for `labcheck status`, a second click joining the running one, quizzes
//! answered in the page recorded where `labcheck quiz` records them and
//! attempts made in the terminal shown to the page, and `--watch` showing a
//! broken quiz or lab with its place. Requests are written by hand on a
//! TCP socket, so a test can send what a browser never would (another
//! Host).

use crate::common::{Learner, assert_signatures_redacted, labcheck, learner, repo, shared_learner, text, write};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `labcheck book serve`, stopped when dropped.
struct Served {
    child: Child,
    port: u16,
    token: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cmd` (labcheck with its environment) as `book serve --port 0
/// ARGS`, and waits for the address it prints.
fn serve(mut cmd: Command, args: &[&str]) -> Served {
    let mut child = cmd
        .args(["book", "serve", "--port", "0"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start labcheck book serve");
    let stdout = child.stdout.take().expect("stdout");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Serving the book at ") {
                let _ = tx.send(url.to_string());
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = BufReader::new(stderr).read_to_string(&mut text);
        text
    });
    let url = match rx.recv_timeout(Duration::from_secs(180)) {
        Ok(url) => url,
        Err(_) => {
            let _ = child.kill();
            panic!(
                "labcheck book serve printed no address:\n{}",
                errors.join().unwrap_or_default()
            );
        }
    };
    let rest = url.strip_prefix("http://127.0.0.1:").expect("a 127.0.0.1 address");
    let (port, token) = rest.split_once("/?token=").expect("an address with a token");
    Served {
        child,
        port: port.parse().expect("a port"),
        token: token.to_string(),
    }
}

/// An HTTP answer: status, headers (lower-cased names), body.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The server-sent events of a streamed answer: (name, data).
    fn events(&self) -> Vec<(String, String)> {
        self.body
            .split("\n\n")
            .filter_map(|block| {
                let mut name = None;
                let mut data = Vec::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = Some(n.trim().to_string());
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push(d.strip_prefix(' ').unwrap_or(d));
                    }
                }
                name.map(|n| (n, data.join("\n")))
            })
            .collect()
    }
}

impl Served {
    /// Sends one request; `headers` may replace the default Host.
    fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        stream.set_read_timeout(Some(Duration::from_secs(300))).unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
            head.push_str(&format!("Host: 127.0.0.1:{}\r\n", self.port));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read the answer");
        parse(&raw)
    }

    fn api(&self, method: &str, path: &str, body: &Value) -> Answer {
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        self.request(
            method,
            path,
            &[("X-Labcheck-Token", &self.token), ("Content-Type", "application/json")],
            &body,
        )
    }

    fn run(&self, step: &str) -> Answer {
        self.api("POST", "/api/run", &json!({ "step": step }))
    }
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).to_string(),
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

/// Folders for what labcheck keeps (results, quiz progress), the test's own.
struct Stores {
    state: tempfile::TempDir,
    data: tempfile::TempDir,
}

impl Stores {
    fn new() -> Stores {
        Stores {
            state: tempfile::tempdir().unwrap(),
            data: tempfile::tempdir().unwrap(),
        }
    }

    fn apply(&self, mut cmd: Command) -> Command {
        cmd.env("LABCHECK_STATE_DIR", self.state.path())
            .env("LABCHECK_DATA_DIR", self.data.path());
        cmd
    }

    fn status(&self, learner: Option<&Learner>) -> Value {
        let cmd = learner.map_or_else(labcheck, Learner::labcheck);
        let out = self
            .apply(cmd)
            .args(["status", "--format", "json"])
            .output()
            .expect("run labcheck status");
        assert!(out.status.success(), "{}", text(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn status_of<'a>(status: &'a Value, check: &str) -> &'a str {
    status["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .find(|c| c["id"] == check)
        .and_then(|c| c["status"].as_str())
        .unwrap_or_else(|| panic!("no check {check} in {status:#}"))
}

#[test]
fn the_api_wants_the_token_its_own_host_and_origin_and_no_refused_call_starts_a_run() {
    let stores = Stores::new();
    let served = serve(stores.apply(labcheck()), &[]);
    let own = format!("http://127.0.0.1:{}", served.port);
    let token = served.token.clone();
    let json = ("Content-Type", "application/json");
    let body = r#"{"step":"s3"}"#;
    let refused: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("no token", vec![json]),
        (
            "a wrong token",
            vec![json, ("X-Labcheck-Token", "0123456789abcdef0123456789abcdef")],
        ),
        ("the token in the query", vec![json]),
        (
            "another site's page",
            vec![json, ("X-Labcheck-Token", &token), ("Origin", "https://evil.example")],
        ),
        (
            "a page of no origin",
            vec![json, ("X-Labcheck-Token", &token), ("Origin", "null")],
        ),
        (
            "a DNS-rebinding name",
            vec![json, ("X-Labcheck-Token", &token), ("Host", "rebind.evil.example")],
        ),
        (
            "another port's name",
            vec![json, ("X-Labcheck-Token", &token), ("Host", "127.0.0.1:1")],
        ),
    ];
    for (what, headers) in &refused {
        let path = if *what == "the token in the query" {
            format!("/api/run?token={token}")
        } else {
            "/api/run".to_string()
        };
        let answer = served.request("POST", &path, headers, body);
        assert_eq!(answer.status, 403, "{what}: {}", answer.body);
    }
    // The pages too answer only to this server's names.
    let answer = served.request("GET", "/lab.html", &[("Host", "rebind.evil.example:80")], "");
    assert_eq!(answer.status, 403);
    let answer = served.request("GET", "/api/status", &[], "");
    assert_eq!(answer.status, 403, "the status is the learner's too");

    // Runs are POST; a form's content type is refused; no CORS answer.
    let with_token = [("X-Labcheck-Token", token.as_str()), ("Origin", own.as_str())];
    assert_eq!(served.request("GET", "/api/run", &with_token, "").status, 405);
    let preflight = served.request(
        "OPTIONS",
        "/api/run",
        &[
            ("Origin", "https://evil.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    );
    assert_eq!(preflight.status, 403);
    let form = served.request(
        "POST",
        "/api/run",
        &[with_token[0], with_token[1], ("Content-Type", "text/plain")],
        body,
    );
    assert_eq!(form.status, 415, "{}", form.body);
    let unknown = served.api("POST", "/api/run", &json!({"step": "nope"}));
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("no step `nope`"), "{}", unknown.body);

    // Nothing refused got as far as a run: no results were recorded.
    assert!(
        !stores.state.path().join("results").exists(),
        "a refused call started a run"
    );

    // The pages: marked as served, kept from other sites, no CORS header.
    let page = served.request("GET", "/lab.html", &[], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<meta name=\"labcheck-serve\" content=\"api\">"));
    assert_eq!(
        page.body.matches("class=\"labcheck-progress\"").count(),
        6,
        "five steps and the lab"
    );
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert!(
        page.header("content-security-policy")
            .is_some_and(|c| c.contains("connect-src 'self'"))
    );
    for answer in [&page, &preflight, &form, &unknown] {
        assert!(
            !answer.headers.iter().any(|(n, _)| n.starts_with("access-control-")),
            "a CORS header: {:?}",
            answer.headers
        );
    }
    assert_eq!(served.request("POST", "/lab.html", &[], "").status, 405);
    assert_eq!(served.request("GET", "/%2e%2e/Cargo.toml", &[], "").status, 400);

    // The status, with the token: what `labcheck status` shows.
    let status = served.api("GET", "/api/status", &Value::Null);
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.json()["status"]["schema"], "labcheck/status-v1");
}

#[test]
fn a_step_streams_each_check_as_it_finishes_and_is_recorded_for_status() {
    let l = learner("book_serve_s3");
    let stores = Stores::new();
    let served = serve(stores.apply(l.labcheck()), &[]);

    let answer = served.run("s3");
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.header("content-type"), Some("text/event-stream"));
    let events = answer.events();
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["joined", "start", "check", "check", "check", "check", "check", "done"],
        "{}",
        answer.body
    );
    let start: Value = serde_json::from_str(&events[1].1).unwrap();
    let planned: Vec<&str> = start["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        planned,
        ["s3.bucket", "s3.cors", "s3.private", "s3.media", "s3.presigned"]
    );
    for (_, data) in &events[2..7] {
        let check: Value = serde_json::from_str(data).unwrap();
        assert_eq!(check["check"]["status"], "pass", "{check:#}");
        assert_eq!(check["check"]["score"], check["check"]["points"]);
    }
    let done: Value = serde_json::from_str(&events[7].1).unwrap();
    assert_eq!(done["verdict"], "passed");
    assert_eq!(done["score"], done["max_score"]);
    assert_eq!(done["account"], l.account.as_str());
    assert_signatures_redacted(&answer.body, "the streamed results");

    // Recorded as `labcheck check` records it: `labcheck status` shows the run.
    let status = stores.status(Some(&l));
    assert_eq!(status["account"], l.account.as_str());
    assert_eq!(status["runs"], 1);
    assert_eq!(status_of(&status, "s3.cors"), "pass");
    let page_status = served.api("GET", "/api/status", &Value::Null).json();
    assert_eq!(
        page_status["status"]["steps"], status["steps"],
        "the page shows what status shows"
    );

    // Broken, the check says what is wrong and how to fix it.
    l.break_("no-cors");
    let answer = served.run("s3");
    let cors = answer
        .events()
        .into_iter()
        .filter(|(n, _)| n == "check")
        .map(|(_, d)| serde_json::from_str::<Value>(&d).unwrap()["check"].clone())
        .find(|c| c["id"] == "s3.cors")
        .expect("s3.cors reported");
    assert_eq!(cors["status"], "fail", "{cors:#}");
    assert!(cors["fix"].as_str().unwrap().contains("put-bucket-cors"), "{cors:#}");
    assert!(!cors["hint"].as_str().unwrap().is_empty());
    let done: Value = serde_json::from_str(&answer.events().last().unwrap().1).unwrap();
    assert_eq!(done["verdict"], "failed");
    let status = stores.status(Some(&l));
    assert_eq!(status_of(&status, "s3.cors"), "fail");
    assert_eq!(status["runs"], 2);
}

#[test]
fn a_click_while_the_lab_runs_joins_that_run() {
    let l = shared_learner("book_serve_join");
    let stores = Stores::new();
    let served = std::sync::Arc::new(serve(stores.apply(l.labcheck()), &[]));
    // The first click: read until its run has started.
    let mut first = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    let body = r#"{"step":""}"#;
    write!(
        first,
        "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nX-Labcheck-Token: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        served.port,
        served.token,
        body.len()
    )
    .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("event: start") {
        let n = first.read(&mut buf).unwrap();
        assert!(n > 0, "the first run ended before it started");
        seen.extend_from_slice(&buf[..n]);
    }
    // The second, while the first runs (the whole lab, Python included).
    let second = served.run("");
    first.read_to_end(&mut seen).unwrap();
    let first = parse(&seen);
    let joined: Vec<&str> = second
        .events()
        .iter()
        .filter(|(n, _)| n == "joined")
        .map(|_| "")
        .collect();
    assert_eq!(joined.len(), 1);
    assert_eq!(second.events()[0].1, "true", "the second click joined: {}", second.body);
    assert_eq!(first.events()[0].1, "false");
    let done = |a: &Answer| a.events().into_iter().rfind(|(n, _)| n == "done").expect("done").1;
    assert_eq!(done(&first), done(&second), "one run, the same results");
    let checks = |a: &Answer| a.events().iter().filter(|(n, _)| n == "check").count();
    assert_eq!(checks(&first), checks(&second));
    assert_eq!(stores.status(Some(&l))["runs"], 1, "recorded once");
}

/// Indices, in the page's order, of the right options of each question of
/// a quiz; the right text for a short answer.
fn right_page_answers(quiz: &labcheck::course::quiz::Quiz) -> Value {
    let page = labcheck::book::quiz::page(quiz);
    let mut answers = serde_json::Map::new();
    for q in &page.questions {
        let answer = if q.kind == "ShortAnswer" {
            json!(q.expected)
        } else {
            json!(
                q.options
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| o.correct)
                    .map(|(i, _)| i)
                    .collect::<Vec<_>>()
            )
        };
        answers.insert(q.id.clone(), answer);
    }
    Value::Object(answers)
}

#[test]
fn quizzes_answered_in_the_page_reach_status_and_attempts_in_the_terminal_reach_the_page() {
    let stores = Stores::new();
    let served = serve(stores.apply(labcheck()), &[]);
    let course = labcheck::course::Course::embedded(&labcheck::checks::kind_ids()).unwrap();
    let quiz = course.quiz("media-s3").unwrap();

    let answer = served.api(
        "POST",
        "/api/quiz",
        &json!({"quiz": "media-s3", "answers": right_page_answers(quiz)}),
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.json()["score"], quiz.questions.len());
    let status = stores.status(None);
    let media = status["quizzes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["id"] == "media-s3")
        .unwrap();
    assert_eq!(media["attempts"], 1, "{status:#}");
    assert_eq!(media["best"]["score"], quiz.questions.len());

    // One wrong answer is graded as the terminal grades it.
    let mut wrong = right_page_answers(quiz);
    let first = quiz.questions[0].id.clone();
    let options = labcheck::book::quiz::page(quiz).questions[0].options.len();
    let bad_choice = (0..options)
        .find(|i| !labcheck::book::quiz::page(quiz).questions[0].options[*i].correct)
        .unwrap();
    wrong[&first] = json!([bad_choice]);
    let answer = served.api("POST", "/api/quiz", &json!({"quiz": "media-s3", "answers": wrong}));
    assert_eq!(answer.json()["score"], quiz.questions.len() - 1);

    // Answers that cannot be the page's are refused, and nothing recorded.
    for bad in [
        json!({"quiz": "media-s3", "answers": {first.clone(): [99]}}),
        json!({"quiz": "media-s3", "answers": {"no-such-question": [0]}}),
        json!({"quiz": "no-such-quiz", "answers": {}}),
        json!({"quiz": "media-s3", "answers": {}, "score": 100}),
    ] {
        let answer = served.api("POST", "/api/quiz", &bad);
        assert!(
            matches!(answer.status, 400 | 422),
            "{bad}: {} {}",
            answer.status,
            answer.body
        );
    }
    let attempts = served.api("GET", "/api/status", &Value::Null).json()["attempts"]["media-s3"].clone();
    assert_eq!(attempts.as_array().unwrap().len(), 2, "{attempts:#}");
    assert_eq!(attempts[0]["mode"], "book");

    // An attempt in the terminal shows in the page.
    let pre = course.quiz("pre-assessment").unwrap();
    let mut toml = String::new();
    for q in &pre.questions {
        let expected = q.expected();
        let value = if q.is_multi() {
            json!(expected)
        } else {
            json!(expected[0])
        };
        toml.push_str(&format!("{} = {value}\n", q.id));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "answers.toml", &toml);
    let out = stores
        .apply(labcheck())
        .args(["quiz", "pre-assessment", "--answers"])
        .arg(&file)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let attempts = served.api("GET", "/api/status", &Value::Null).json()["attempts"]["pre-assessment"].clone();
    assert_eq!(attempts[0]["mode"], "scripted", "{attempts:#}");
    assert_eq!(attempts[0]["score"], pre.questions.len());
}

/// A course folder with the checkout's book, lab file and quizzes.
fn course_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy(&entry.path(), &target);
            } else {
                std::fs::copy(entry.path(), target).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&repo().join("book/src"), &dir.path().join("book/src"));
    copy(&repo().join("book/theme"), &dir.path().join("book/theme"));
    std::fs::copy(repo().join("book/book.toml"), dir.path().join("book/book.toml")).unwrap();
    copy(&repo().join("quizzes"), &dir.path().join("quizzes"));
    std::fs::create_dir_all(dir.path().join("labs")).unwrap();
    std::fs::copy(
        repo().join("labs/deploy-django-eb.md"),
        dir.path().join("labs/deploy-django-eb.md"),
    )
    .unwrap();
    dir
}

/// Waits for the next `reload` event of a `--watch` server.
fn reloads(served: &Served) -> std::sync::mpsc::Receiver<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", served.port)).unwrap();
    write!(
        stream,
        "GET /_labcheck/reload HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n\r\n",
        served.port
    )
    .unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if line.starts_with("event: reload") && tx.send(()).is_err() {
                return;
            }
        }
    });
    rx
}

#[test]
fn watch_rebuilds_shows_a_broken_quiz_or_lab_with_its_place_and_recovers() {
    let course = course_copy();
    let served = serve(
        labcheck(),
        &["--course-dir", course.path().to_str().unwrap(), "--watch"],
    );
    let page = served.request("GET", "/media-s3.html", &[], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("content=\"api reload\""));
    let reloaded = reloads(&served);
    std::thread::sleep(Duration::from_millis(300));
    let wait = || {
        reloaded
            .recv_timeout(Duration::from_secs(120))
            .expect("a reload after the change")
    };

    let quiz: PathBuf = course.path().join("quizzes/media-s3.toml");
    let good = std::fs::read_to_string(&quiz).unwrap();
    std::fs::write(&quiz, format!("{good}\n[[questions]]\ntype = \n")).unwrap();
    wait();
    let broken_line = good.lines().count() + 3;
    let page = served.request("GET", "/media-s3.html", &[], "");
    assert_eq!(page.status, 500);
    assert!(
        page.body.contains(&format!("quizzes/media-s3.toml:{broken_line}:")),
        "the error names the file and line:\n{}",
        page.body
    );

    std::fs::write(&quiz, &good).unwrap();
    wait();
    let page = served.request("GET", "/media-s3.html", &[], "");
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("labcheck-quiz-data"));

    let lab = course.path().join("labs/deploy-django-eb.md");
    let text = std::fs::read_to_string(&lab).unwrap();
    std::fs::write(
        &lab,
        text.replacen("id = \"s3.cors\"", "id = \"s3.cors\"\npionts = 2", 1),
    )
    .unwrap();
    wait();
    let page = served.request("GET", "/lab.html", &[], "");
    assert_eq!(page.status, 500);
    assert!(
        page.body.contains("labs/deploy-django-eb.md:") && page.body.contains("pionts"),
        "{}",
        page.body
    );
}
