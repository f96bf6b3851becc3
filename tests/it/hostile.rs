//! Learners' projects written to attack the grader (`tests/fixtures/hostile/`),
//! each graded in a cohort beside two innocent learners, with the sandbox
//! that runs learners' code. For each: nothing the attack reached is the
//! grader's (no canary of the instructor's variables, credentials or home in
//! the gradebook, the journal or anywhere the attack wrote), nothing it did
//! is visible outside its sandbox (files, processes after the run, a
//! listener's connections, moto's buckets), the innocent learners' results
//! are those of a run without it, and the gradebook and journal are
//! labcheck's alone. And the sandbox fails closed: with no bwrap, the checks
//! that run learners' code are left out, with the cause and the fix.

use crate::common::{SandboxTurn, labcheck, repo, sandbox_env, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

/// The checks that run a learner's code (project.ebextensions for its
/// static mapping, compared with the STATIC_ROOT the settings give).
const RUN_CODE: [&str; 4] = [
    "project.settings",
    "project.static",
    "project.ebextensions",
    "project.deploy-check",
];

/// The provisioned accounts every test here shares (graded read-only): the
/// roster lines of `sandbox/cohort`, by learner.
fn accounts() -> &'static BTreeMap<String, String> {
    static ACCOUNTS: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    ACCOUNTS.get_or_init(|| {
        let out = Command::new(repo().join("sandbox/cohort"))
            .args(["--accounts", "14", "--first", "731000000000"])
            .envs(sandbox_env())
            .output()
            .expect("run sandbox/cohort");
        assert!(out.status.success(), "sandbox/cohort failed:\n{}", text(&out));
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| (l.split(',').next().unwrap().to_string(), l.to_string()))
            .collect()
    })
}

/// The innocent learners: one solved, one whose bucket has no CORS rule.
const INNOCENTS: [&str; 2] = ["ada", "grace"];

/// Copies the sandbox's deployed reference project to `dest`, then lays
/// `overlays` (folders of tests/fixtures/hostile/) over it.
fn project(dest: &Path, overlays: &[&str]) {
    copy_tree(Path::new(&sandbox_env()["LABCHECK_PROJECT_DIR"]), dest);
    for o in overlays {
        copy_tree(&repo().join("tests/fixtures/hostile").join(o), dest);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let (src, dst) = (e.path(), to.join(e.file_name()));
        if e.file_name() == "__pycache__" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Every file under `dir` and its bytes, to see that nothing changed.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                todo.push(e.path());
            } else {
                out.insert(e.path(), std::fs::read(e.path()).unwrap());
            }
        }
    }
    out
}

/// (status, score, message) of each check of a learner, by id.
type Results = BTreeMap<String, (String, u64, String)>;

/// A learner's [`Results`], with the learner's project folder written as `PROJECT`.
fn results(book: &Value, learner: &str, project: &Path) -> Results {
    let row = book["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["learner"] == learner)
        .unwrap_or_else(|| panic!("no {learner} in the gradebook"));
    assert_eq!(row["grading_status"], "graded", "{row:#}");
    row["report"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["checks"].as_array().unwrap())
        .map(|c| {
            let message = c["message"]
                .as_str()
                .unwrap()
                .replace(&project.display().to_string(), "PROJECT");
            (
                c["id"].as_str().unwrap().to_string(),
                (
                    c["status"].as_str().unwrap().to_string(),
                    c["score"].as_u64().unwrap(),
                    message,
                ),
            )
        })
        .collect()
}

fn check<'a>(book: &'a Value, learner: &str, id: &str) -> &'a Value {
    let row = book["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["learner"] == learner)
        .unwrap();
    crate::common::check(&row["report"], id)
}

/// One cohort graded: its folder, roster, projects, and what the attack was told.
struct Arena {
    dir: tempfile::TempDir,
    marker: String,
    home: PathBuf,
    loot: PathBuf,
    journal: PathBuf,
    book: PathBuf,
    listener: std::net::TcpListener,
    canaries: Vec<String>,
    _turn: SandboxTurn,
}

impl Arena {
    /// A cohort of the innocent learners and, when given, `attacker` with
    /// the project of `overlays`.
    fn new(name: &str, attacker: Option<(&str, &[&str])>) -> Arena {
        let turn = SandboxTurn::shared();
        let dir = tempfile::tempdir().unwrap();
        // Open to every user: what keeps an attack out is the sandbox, not
        // the folder's permissions.
        std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let marker = format!("{name}-{}-{nanos}", std::process::id());
        let home = dir.path().join("home");
        let canaries = vec![
            format!("canary-aws-{marker}"),
            format!("canary-home-{marker}"),
            format!("canary-xid-{marker}"),
            format!("canary-ssh-{marker}"),
        ];
        crate::common::write(
            &home,
            ".aws/credentials",
            &format!(
                "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {}\n",
                canaries[0]
            ),
        );
        crate::common::write(&home, "secret-notes.txt", &canaries[1]);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let a = Arena {
            loot: dir.path().join("loot.txt"),
            journal: dir.path().join("journal.jsonl"),
            book: dir.path().join("gradebook.json"),
            dir,
            marker,
            home,
            listener,
            canaries,
            _turn: turn,
        };
        let mut roster = String::from("learner,account,region,external_id,project_dir\n");
        let mut learners: Vec<&str> = INNOCENTS.to_vec();
        learners.extend(attacker.map(|(l, _)| l));
        for learner in learners {
            let dest = a.project_of(learner);
            let overlays: Vec<&str> = match attacker {
                Some((l, o)) if l == learner => std::iter::once("common").chain(o.iter().copied()).collect(),
                _ => vec![],
            };
            project(&dest, &overlays);
            let told = serde_json::json!({
                "learner": learner,
                "marker": a.marker,
                "loot": a.loot,
                "journal": a.journal,
                "book": a.book,
                "victim": a.project_of(INNOCENTS[0]),
                "port": a.listener.local_addr().unwrap().port(),
                "endpoint": sandbox_env()["AWS_ENDPOINT_URL"],
                "instructor_home": a.home,
                "ssh_auth_sock": a.dir.path().join("agent.sock"),
            });
            std::fs::write(dest.join("hostile.json"), told.to_string()).unwrap();
            roster.push_str(&format!("{},{}\n", accounts()[learner], dest.display()));
        }
        std::fs::write(a.dir.path().join("roster.csv"), roster).unwrap();
        a
    }

    fn project_of(&self, learner: &str) -> PathBuf {
        self.dir.path().join("projects").join(learner)
    }

    /// The instructor's labcheck: the sandbox's variables, and canaries in
    /// its environment and home that no learner may see.
    fn instructor(&self) -> Command {
        let mut cmd = labcheck();
        cmd.envs(sandbox_env())
            .env("HOME", &self.home)
            .env("LABCHECK_EXTERNAL_ID", &self.canaries[2])
            .env("SSH_AUTH_SOCK", format!("/tmp/{}", self.canaries[3]));
        cmd
    }

    /// `cohort grade` with a journal and a JSON gradebook.
    fn grade(&self, cmd: Command, extra: &[&str]) -> (Output, Value) {
        let mut cmd = cmd;
        let out = cmd
            .args(["cohort", "grade"])
            .arg(self.dir.path().join("roster.csv"))
            .args(["--format", "json", "-o"])
            .arg(&self.book)
            .arg("--journal")
            .arg(&self.journal)
            .args(extra)
            .output()
            .expect("run labcheck cohort grade");
        let book = std::fs::read_to_string(&self.book)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_else(|| panic!("no gradebook:\n{}", text(&out)));
        (out, book)
    }

    /// Grades the cohort with its attacker, and holds it to everything an
    /// attack must not achieve. Returns the gradebook.
    fn graded_and_contained(&self, attacker: &str) -> Value {
        let innocents: Vec<_> = INNOCENTS.iter().map(|l| snapshot(&self.project_of(l))).collect();
        let own = snapshot(&self.project_of(attacker));
        let (out, book) = self.grade(self.instructor(), &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        // Give a process that outlived the run the time it asked for.
        std::thread::sleep(Duration::from_secs(3));

        // Nothing it wrote is anywhere outside its sandbox.
        for (i, l) in INNOCENTS.iter().enumerate() {
            assert!(snapshot(&self.project_of(l)) == innocents[i], "{l}'s project changed");
        }
        assert!(
            snapshot(&self.project_of(attacker)) == own,
            "the attacker's own project changed"
        );
        assert!(!self.loot.exists(), "the attack wrote {}", self.loot.display());
        let host_tmp = PathBuf::from(format!("/tmp/{}-loot", self.marker));
        assert!(!host_tmp.exists(), "the attack wrote {}", host_tmp.display());
        // No process of its is left.
        let left: Vec<String> = std::fs::read_dir("/proc")
            .unwrap()
            .flatten()
            .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .filter(|c| c.contains(&self.marker))
            .collect();
        assert!(left.is_empty(), "processes outlived the run: {left:?}");
        // No connection reached the listener.
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("the attack reached the test's listener: {other:?}"),
        }

        // The gradebook and the journal are labcheck's, and hold nothing of
        // the instructor's.
        let journal = std::fs::read_to_string(&self.journal).unwrap();
        let lines: Vec<Value> = journal
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("a journal line is not labcheck's ({e}): {l}")))
            .collect();
        assert_eq!(lines.len(), 4, "a header and three learners:\n{journal}");
        let whole = std::fs::read_to_string(&self.book).unwrap() + &journal + &text(&out);
        for canary in &self.canaries {
            assert!(!whole.contains(canary.as_str()), "{canary} got out");
        }
        assert_eq!(book["learners"].as_array().unwrap().len(), 3);

        // The innocent learners are graded as without the attacker.
        for l in INNOCENTS {
            assert_eq!(
                results(&book, l, &self.project_of(l)),
                baseline()[l],
                "{l} is graded otherwise beside the attacker"
            );
        }
        book
    }

    /// What the attack put in its report (the settings' ALLOWED_HOSTS),
    /// proving that way out works.
    fn reported(&self, book: &Value, attacker: &str) -> String {
        let settings = check(book, attacker, "project.settings");
        let hosts = settings["evidence"]["effective"]["allowed_hosts"].to_string();
        assert!(
            hosts.contains(&format!("hostile-{}", self.marker)),
            "the attack's report did not come through: {}",
            settings.to_string().chars().take(3000).collect::<String>()
        );
        hosts
    }
}

/// The innocent learners graded alone, once for every test.
fn baseline() -> &'static BTreeMap<&'static str, Results> {
    static BASELINE: OnceLock<BTreeMap<&'static str, Results>> = OnceLock::new();
    BASELINE.get_or_init(|| {
        let a = Arena::new("baseline", None);
        let (out, book) = a.grade(a.instructor(), &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        INNOCENTS
            .iter()
            .map(|l| (*l, results(&book, l, &a.project_of(l))))
            .collect()
    })
}

#[test]
fn a_project_that_steals_credentials_finds_none_of_the_graders() {
    let a = Arena::new("steal", Some(("alan", &["steal-credentials"])));
    let book = a.graded_and_contained("alan");
    let found = a.reported(&book, "alan");
    // It read its own variables and its sandbox's processes: the graders'
    // variables (AWS keys, the external id) and files are not there.
    let env = found.split("\",\"").find(|i| i.starts_with("env=")).unwrap();
    assert!(env.contains("('HOME'; '/home/learner')"), "{env}");
    for name in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "LABCHECK",
        "SSH_AUTH_SOCK",
    ] {
        assert!(!env.contains(name), "{name} in {env}");
    }
    assert!(found.contains("/proc/1/environ=refused"), "{found}");
    assert!(found.contains("agent=refused"), "{found}");
    // And its own project passes as the solved one it is.
    assert_eq!(check(&book, "alan", "project.settings")["status"], "pass");
}

#[test]
fn a_project_that_reads_the_instructors_home_sees_an_empty_one() {
    let a = Arena::new("home", Some(("edsger", &["read-home"])));
    let book = a.graded_and_contained("edsger");
    let found = a.reported(&book, "edsger");
    assert!(found.contains("secret-notes.txt=refused: FileNotFoundError"), "{found}");
    assert!(found.contains("ls ~=[]"), "its HOME is an empty tmpfs: {found}");
}

#[test]
fn a_project_that_writes_into_another_learners_project_changes_nothing() {
    let a = Arena::new("write", Some(("margaret", &["write-other-project"])));
    let book = a.graded_and_contained("margaret");
    let found = a.reported(&book, "margaret");
    assert!(found.contains("victim settings=refused"), "{found}");
    assert!(found.contains("own=refused: OSError"), "read-only: {found}");
}

#[test]
fn a_project_that_opens_connections_reaches_nothing() {
    let a = Arena::new("net", Some(("frances", &["network"])));
    let book = a.graded_and_contained("frances");
    let found = a.reported(&book, "frances");
    assert!(found.contains("listener=refused"), "{found}");
    assert!(found.contains("moto=refused"), "{found}");
    // moto holds no bucket the attack asked for.
    let out = labcheck()
        .envs(sandbox_env())
        .args(["check", "s3.bucket", "--format", "json"])
        .args(["--set", &format!("bucket=hostile-{}", a.marker)])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        crate::common::check(&report, "s3.bucket")["status"],
        "fail",
        "{report:#}"
    );
}

#[test]
fn a_process_that_leaves_the_group_dies_with_the_run() {
    let a = Arena::new("survivor", Some(("john", &["survivor"])));
    let book = a.graded_and_contained("john");
    a.reported(&book, "john");
}

#[test]
fn a_fork_bomb_stops_at_the_process_limit() {
    let a = Arena::new("forkbomb", Some(("radia", &["fork-bomb"])));
    let book = a.graded_and_contained("radia");
    let found = a.reported(&book, "radia");
    let forks: u64 = regex::Regex::new(r"forks-(\d+)").unwrap().captures(&found).unwrap()[1]
        .parse()
        .unwrap();
    assert!((1..16).contains(&forks), "{forks} forks");
}

#[test]
fn a_memory_hog_is_refused_memory_and_room() {
    let a = Arena::new("hog", Some(("barbara", &["memory-hog"])));
    let book = a.graded_and_contained("barbara");
    let found = a.reported(&book, "barbara");
    assert!(found.contains("allocation-refused"), "{found}");
    for room in ["tmp-mib-", "home-mib-"] {
        let mib: u64 = regex::Regex::new(&format!(r"{room}(\d+)"))
            .unwrap()
            .captures(&found)
            .unwrap()[1]
            .parse()
            .unwrap();
        assert!(mib <= 64, "{room}{mib}");
    }
}

#[test]
fn a_projects_own_python_is_never_run() {
    let a = Arena::new("venv", Some(("donald", &["venv-script"])));
    let book = a.graded_and_contained("donald");
    let row = book["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["learner"] == "donald")
        .unwrap();
    let notes = row["report"]["notes"].to_string();
    assert!(notes.contains(".venv is not run"), "{notes}");
    assert_eq!(check(&book, "donald", "project.settings")["status"], "pass");
}

#[test]
fn properties_that_change_how_python_starts_are_refused() {
    let a = Arena::new("loader", Some(("dennis", &["loader-properties"])));
    let book = a.graded_and_contained("dennis");
    let row = book["learners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["learner"] == "dennis")
        .unwrap();
    let notes = row["report"]["notes"].to_string();
    for name in ["LD_PRELOAD", "PYTHONSTARTUP", "PYTHONINSPECT", "PYTHONHOME"] {
        assert!(
            notes.contains(&format!("{name} (.ebextensions/zz-hostile.config:")),
            "{name}: {notes}"
        );
    }
    // PYTHONHOME=/nonexistent would have stopped Python: it ran as usual.
    assert_eq!(check(&book, "dennis", "project.settings")["status"], "pass");
}

#[test]
fn a_forged_report_cannot_pass_what_the_settings_text_fails() {
    let a = Arena::new("forged", Some(("tim", &["forged-probe"])));
    let book = a.graded_and_contained("tim");
    let settings = check(&book, "tim", "project.settings");
    assert_eq!(settings["status"], "fail", "{settings:#}");
    let message = settings["message"].as_str().unwrap();
    for plain in [
        "DEBUG is True as written in pets_project/settings.py:12",
        "pets_project/settings.py:13: SECRET_KEY is written in the source",
        "DATABASES['default'] is SQLite as written in pets_project/settings.py:",
    ] {
        assert!(message.contains(plain), "{plain}: {message}");
    }
    // That verdict rests on the files; what rests on the code's report says so.
    assert!(settings.get("basis").is_none(), "{settings:#}");
    for id in ["project.static", "project.deploy-check"] {
        assert_eq!(check(&book, "tim", id)["basis"], "learner-code", "{id}");
    }
    let csv = a
        .instructor()
        .args(["cohort", "merge"])
        .arg(&a.book)
        .args(["--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(csv.stdout).unwrap();
    let tim = csv.lines().find(|l| l.starts_with("tim,")).unwrap();
    let mark = tim
        .split("passed on what the learner's code reported: ")
        .nth(1)
        .unwrap_or_default();
    for id in ["project.static", "project.deploy-check"] {
        assert!(mark.contains(id), "{id}: {tim}");
    }
    assert!(!mark.contains("project.settings"), "{tim}");
}

#[test]
fn passwords_in_a_projects_urls_reach_no_gradebook() {
    let a = Arena::new("urls", Some(("hedy", &["secret-urls"])));
    let book = a.graded_and_contained("hedy");
    let hosts = a.reported(&book, "hedy");
    // The URLs came through, each with its password taken out.
    for kept in [
        "rediss://pets-app:[redacted]@pets.serverless.usw2.cache.amazonaws.com:6379/0",
        "mysql://admin:[redacted]@pets.abc.us-west-2.rds.amazonaws.com:3306/pets",
        "redis://:[redacted]@cache:6379",
        "rediss://pets-app:[redacted]@cache:6379",
    ] {
        assert!(hosts.contains(kept), "{kept}: {hosts}");
    }
    let passwords = [
        format!("cache-{}-pw", a.marker),
        format!("db-{}-pw", a.marker),
        format!("{}-pw", a.marker),
    ];
    let mut outputs = vec![
        (
            "the JSON gradebook".to_string(),
            std::fs::read_to_string(&a.book).unwrap(),
        ),
        ("the journal".to_string(), std::fs::read_to_string(&a.journal).unwrap()),
    ];
    for format in ["csv", "json", "junit", "html"] {
        let out = a
            .instructor()
            .args(["cohort", "merge"])
            .arg(&a.book)
            .args(["--format", format])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", text(&out));
        let shown = text(&out);
        assert!(shown.contains("hedy"), "{format} has no row of hedy: {shown}");
        outputs.push((format!("the {format} gradebook"), shown));
    }
    for (what, shown) in &outputs {
        for password in &passwords {
            assert!(!shown.contains(password.as_str()), "{password} is in {what}");
        }
    }
}

/// A folder with everything on PATH but bwrap.
fn path_without_bwrap(dir: &Path) -> String {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["sh", "python3"] {
        if let Some(found) = std::env::split_paths(&std::env::var_os("PATH").unwrap())
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
        {
            let _ = std::os::unix::fs::symlink(found, bin.join(tool));
        }
    }
    bin.display().to_string()
}

#[test]
fn without_a_sandbox_learners_code_is_left_out_unless_trusted() {
    let a = Arena::new("closed", None);
    let path = path_without_bwrap(a.dir.path());
    let mut cmd = a.instructor();
    cmd.env("PATH", &path);
    let (out, book) = a.grade(cmd, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("bubblewrap (bwrap) is not installed"),
        "{}",
        text(&out)
    );
    for l in INNOCENTS {
        for id in RUN_CODE {
            let c = check(&book, l, id);
            assert_eq!(
                (c["status"].as_str(), c["ungraded"].as_bool()),
                (Some("skip"), Some(true)),
                "{c:#}"
            );
            assert!(
                c["message"]
                    .as_str()
                    .unwrap()
                    .contains("bubblewrap (bwrap) is not installed"),
                "{c:#}"
            );
            assert!(
                c["hint"].as_str().unwrap().contains("apt-get install bubblewrap"),
                "{c:#}"
            );
            assert!(c["hint"].as_str().unwrap().contains("--trust-learner-code"), "{c:#}");
        }
    }
    let row = &book["learners"][0];
    assert!(
        row["notes"].to_string().contains("for want of a sandbox here"),
        "{row:#}"
    );

    // Trusted, they run: as they do in the sandbox.
    std::fs::remove_file(&a.journal).unwrap();
    let mut cmd = a.instructor();
    cmd.env("PATH", &path);
    let (out, book) = a.grade(cmd, &["--trust-learner-code"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for l in INNOCENTS {
        assert_eq!(results(&book, l, &a.project_of(l)), baseline()[l], "{l}");
    }
}

#[test]
fn a_ta_checking_one_clone_gets_the_sandbox_or_a_note() {
    let a = Arena::new("ta", None);
    let learner = crate::common::shared_learner("hostile-ta");
    let project = a.project_of("ada");
    let run = |extra: &[&str], path: Option<&str>| {
        let mut cmd = learner.labcheck();
        if let Some(p) = path {
            cmd.env("PATH", p);
        }
        let out = cmd
            .args(["check", "project", "--untrusted", "--format", "json", "--set"])
            .arg(format!("project_dir={}", project.display()))
            .args(extra)
            .output()
            .unwrap();
        serde_json::from_slice::<Value>(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    };
    let report = run(&[], None);
    for id in RUN_CODE {
        let c = crate::common::check(&report, id);
        assert_eq!(
            (c["status"].as_str(), c["basis"].as_str()),
            (Some("pass"), Some("learner-code")),
            "{c:#}"
        );
    }
    let path = path_without_bwrap(a.dir.path());
    let report = run(&[], Some(&path));
    for id in RUN_CODE {
        let c = crate::common::check(&report, id);
        assert_eq!(c["ungraded"], true, "{c:#}");
    }
    let report = run(&["--trust-learner-code"], Some(&path));
    for id in RUN_CODE {
        assert_eq!(crate::common::check(&report, id)["status"], "pass");
    }
}
