//! The `project` step against real Python and Django: the sandbox's app
//! virtualenv (made by sandbox/up) runs copies of the reference project and
//! small broken projects under tests/fixtures/projects/. These checks make
//! no AWS calls, but `labcheck check` identifies the account first, so they
//! run against a sandbox learner.

use crate::common::{Learner, check, repo, shared_learner, text, write};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A long, varied key, so that `check --deploy` does not warn about it.
const SECRET_KEY: &str = "labcheck-test-Zq8vK2mX9pL4wN7rT1yB6cF3hJ5dG0sA-not-a-real-key";

/// One sandbox account for the whole file: the project checks only need an
/// identity, and never change the account.
fn the_learner() -> Learner {
    shared_learner("project_step")
}

fn python() -> PathBuf {
    let python = repo().join("sandbox/.app-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run sandbox/up (or scripts/test), which creates the app's virtualenv",
        python.display()
    );
    python
}

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/projects").join(name)
}

/// A copy of labs/pets_project without what is local to one machine.
fn reference_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path, top: bool) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().to_string();
            let skip = matches!(name.as_str(), ".venv" | "venv" | "__pycache__" | "db.sqlite3")
                || (top && matches!(name.as_str(), "static" | "media"));
            if skip {
                continue;
            }
            let (src, dst) = (entry.path(), to.join(&name));
            if entry.file_type().unwrap().is_dir() {
                copy(&src, &dst, false);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&repo().join("labs/pets_project"), dir.path(), true);
    dir
}

/// The variables the app reads on Beanstalk, pointed at the sandbox, as
/// `sandbox_common.app_environ()` sets them (the password comes from
/// sandbox/env through `Learner::labcheck`).
fn production_env(account: &str) -> Vec<(String, String)> {
    [
        ("DJANGO_SECRET_KEY", SECRET_KEY.to_string()),
        ("RDS_HOSTNAME", "127.0.0.1".into()),
        ("RDS_PORT", "23306".into()),
        ("RDS_DB_NAME", "pets".into()),
        ("RDS_USER_NAME", "django".into()),
        ("CACHE_LOCATION", "rediss://127.0.0.1:26380/0".into()),
        ("AWS_STORAGE_BUCKET_NAME", format!("pets-project-us-west-2-{account}")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// Removes what the machine's environment (or sandbox/env, through
/// `Learner::labcheck`) could add to the app's settings, so that each test
/// says exactly what the settings see.
fn scrub(cmd: &mut Command) {
    let app_var = |k: &str| {
        k.starts_with("DJANGO_")
            || k.starts_with("CACHE_")
            || k.starts_with("RDS_") && k != "RDS_USER_PASSWORD"
            || matches!(
                k,
                "AWS_STORAGE_BUCKET_NAME" | "AWS_S3_REGION_NAME" | "AWS_S3_ENDPOINT_URL" | "VIRTUAL_ENV" | "PYTHONPATH"
            )
    };
    let inherited = std::env::vars().map(|(k, _)| k);
    let configured: Vec<String> = cmd.get_envs().map(|(k, _)| k.to_string_lossy().to_string()).collect();
    for k in inherited.chain(configured).filter(|k| app_var(k)) {
        cmd.env_remove(k);
    }
}

/// labcheck for the shared learner, on `dir`, with the production env
/// changed by `env` (an empty value removes the variable).
fn labcheck(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let l = the_learner();
    let mut cmd = l.labcheck();
    scrub(&mut cmd);
    cmd.envs(production_env(&l.account));
    for (k, v) in env {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.arg("check")
        .args(args)
        .args(["--set", &format!("project_dir={}", dir.display())]);
    if !args.iter().any(|a| a.starts_with("python=")) {
        cmd.args(["--set", &format!("python={}", python().display())]);
    }
    cmd.output().expect("run labcheck")
}

fn json_check(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, Value, String) {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let out = labcheck(dir, &all, env);
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("labcheck did not print a JSON report ({e}):\n{}", text(&out)));
    assert!(
        !text(&out).contains(SECRET_KEY),
        "the secret key leaked:\n{}",
        text(&out)
    );
    (out.status.code().unwrap_or(-1), report, text(&out))
}

fn collectstatic(dir: &Path) {
    let l = the_learner();
    let mut cmd = Command::new(python());
    scrub(&mut cmd);
    let out = cmd
        .args(["manage.py", "collectstatic", "--noinput"])
        .current_dir(dir)
        .envs(production_env(&l.account))
        .env("RDS_USER_PASSWORD", "sandbox-db-password")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "collectstatic failed:\n{}", text(&out));
}

/// The line number of the first line of `path` holding `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().position(|l| l.contains(needle)).expect("needle in file") + 1
}

fn lab_hint(report: &Value, id: &str) -> String {
    check(report, id)["hint"].as_str().unwrap_or_default().to_string()
}

fn replace_in(path: &Path, from: &str, to: &str) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    let line = text[..text.find(from).unwrap()].lines().count().max(1);
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    line
}

#[test]
fn the_reference_project_passes_every_project_check() {
    let dir = reference_copy();
    collectstatic(dir.path());
    let (code, report, _) = json_check(dir.path(), &["project"], &[]);
    assert_eq!(code, 0, "{report:#}");
    let account = &the_learner().account;
    assert_eq!(
        check(&report, "project.settings")["message"],
        format!(
            "settings pets_project.settings (from pets_project/wsgi.py): \
             DEBUG is off; ALLOWED_HOSTS admits .elasticbeanstalk.com; media on S3 (bucket pets-project-us-west-2-{account}); \
             sessions in Redis over TLS (rediss://127.0.0.1:26380/0); database mysql pets on 127.0.0.1; \
             no password, secret key or AWS key written in pets_project/settings.py"
        )
    );
    let effective = &check(&report, "project.settings")["evidence"]["effective"];
    assert_eq!(effective["databases"]["default"]["password_set"], true);
    assert_eq!(
        check(&report, "project.settings")["evidence"]["django_version"],
        "5.2.19"
    );
    assert_eq!(
        check(&report, "project.ebextensions")["message"],
        ".ebextensions/django.config, .ebextensions/health.config: WSGIPath pets_project.wsgi:application names a module of the bundle; static files: /static → static"
    );
    assert_eq!(
        check(&report, "project.requirements")["message"],
        "requirements.txt pins what the app needs (Django 5.2.19, gunicorn 27.0.1, django-storages 1.14.6, boto3 1.44.8, \
         redis 8.1.0, PyMySQL 1.2.4, pillow 13.0.0) and leaves out awsebcli"
    );
    let stat = check(&report, "project.static");
    let message = stat["message"].as_str().unwrap();
    let n = stat["evidence"]["expected"].as_u64().unwrap();
    assert!(n > 100, "{stat}");
    assert_eq!(
        message,
        format!(
            "STATIC_ROOT static/ holds {n} files, every one of the {n} files collectstatic gathers (admin/css/base.css among them)"
        )
    );
    assert_eq!(
        check(&report, "project.deploy-check")["message"],
        "manage.py check --deploy reports no error; 4 warnings: security.W004, security.W008, security.W012, security.W016"
    );
    // labcheck left no bytecode behind in the learner's project.
    assert!(!dir.path().join("pets_project/__pycache__").exists());
}

#[test]
fn local_development_settings_fail_settings() {
    let dir = reference_copy();
    // What the project does on a laptop: debug on, SQLite, sessions in the
    // database, media on disk.
    let (code, report, _) = json_check(
        dir.path(),
        &["project.settings"],
        &[
            ("DJANGO_DEBUG", "1"),
            ("RDS_HOSTNAME", ""),
            ("CACHE_LOCATION", ""),
            ("AWS_STORAGE_BUCKET_NAME", ""),
        ],
    );
    assert_eq!(code, 1, "{report:#}");
    let s = check(&report, "project.settings");
    assert_eq!(s["status"], "fail");
    assert_eq!(
        s["message"],
        "settings pets_project.settings (from pets_project/wsgi.py): DEBUG is True; \
         STORAGES['default'] is django.core.files.storage.FileSystemStorage, not S3 (storages.backends.s3.S3Storage); \
         SESSION_ENGINE is django.contrib.sessions.backends.db: sessions are not kept in the cache (django.contrib.sessions.backends.cache); \
         DATABASES['default'] is SQLite (db.sqlite3), not the RDS database"
    );
    assert!(
        lab_hint(&report, "project.settings").starts_with("Set DEBUG = False"),
        "{s}"
    );
    assert!(s["fix"].as_str().unwrap().contains("manage.py diffsettings"), "{s}");
}

#[test]
fn hosts_and_a_plain_redis_url_fail_settings_without_showing_its_password() {
    let dir = reference_copy();
    let cache_password = "Cache-Pass-6611";
    let location = format!("redis://:{cache_password}@127.0.0.1:26379/0");
    let (code, report, all) = json_check(
        dir.path(),
        &["project.settings"],
        &[("DJANGO_ALLOWED_HOSTS", "localhost"), ("CACHE_LOCATION", &location)],
    );
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        check(&report, "project.settings")["message"],
        "settings pets_project.settings (from pets_project/wsgi.py): ALLOWED_HOSTS ['localhost'] does not admit .elasticbeanstalk.com; \
         the cache LOCATION redis://***@127.0.0.1:26379/0 does not use TLS: ElastiCache serverless needs rediss://"
    );
    assert!(!all.contains(cache_password), "the cache password leaked:\n{all}");
}

#[test]
fn a_password_in_the_source_fails_settings_and_never_shows() {
    let dir = reference_copy();
    let password = "Literal-Db-Pass-4242";
    let settings = dir.path().join("pets_project/settings.py");
    let line = replace_in(
        &settings,
        "os.environ[\"RDS_USER_PASSWORD\"]",
        &format!("\"{password}\""),
    );
    let key_id = "AKIAIOSFODNN7EXAMPLE";
    write(
        dir.path(),
        "pets_project/settings_local.py",
        &format!("# local overrides\nAWS_ACCESS_KEY_ID = \"{key_id}\"\n"),
    );
    let (code, report, all) = json_check(dir.path(), &["project.settings"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let s = check(&report, "project.settings");
    assert_eq!(
        s["message"],
        format!(
            "settings pets_project.settings (from pets_project/wsgi.py): \
             pets_project/settings_local.py:2: AWS_ACCESS_KEY_ID is written in the source; \
             pets_project/settings.py:{line}: DATABASES['default']['PASSWORD'] is written in the source, and is the value the settings use"
        )
    );
    assert!(
        s["hint"]
            .as_str()
            .unwrap()
            .contains("os.environ[\"RDS_USER_PASSWORD\"]"),
        "{s}"
    );
    for secret in [password, key_id] {
        assert!(!all.contains(secret), "{secret} leaked in the JSON report:\n{all}");
    }
    for format in ["human", "junit"] {
        let out = labcheck(dir.path(), &["project.settings", "--format", format, "-v"], &[]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let all = text(&out);
        assert!(all.contains(&format!("pets_project/settings.py:{line}")), "{all}");
        for secret in [password, key_id] {
            assert!(!all.contains(secret), "{secret} leaked in the {format} report:\n{all}");
        }
    }
}

#[test]
fn a_missing_environment_variable_cannot_be_evaluated() {
    let dir = reference_copy();
    collectstatic(dir.path());
    let (code, report, _) = json_check(dir.path(), &["project"], &[("RDS_USER_PASSWORD", "")]);
    let s = check(&report, "project.settings");
    assert_eq!(s["status"], "error", "{report:#}");
    assert_eq!(
        s["message"],
        format!(
            "reading the settings pets_project.settings stopped at pets_project/settings.py:{}: \
             the settings need RDS_USER_PASSWORD from the environment, and it is not set where labcheck runs",
            line_of(
                &dir.path().join("pets_project/settings.py"),
                "os.environ[\"RDS_USER_PASSWORD\"]"
            )
        )
    );
    assert!(s["hint"].as_str().unwrap().contains("source ~/pets-lab.env"), "{s}");
    // They need the settings to load, not to pass: here they cannot load.
    for id in ["project.static", "project.deploy-check"] {
        assert_eq!(check(&report, id)["status"], "error", "{id}");
    }
    // Nothing failed: the checks that could run passed, the rest is unknown.
    assert_eq!(code, 3, "{report:#}");
}

#[test]
fn no_manage_py_fails_and_says_to_set_project_dir() {
    let dir = fixture("not-a-project");
    let (code, report, _) = json_check(&dir, &["project.settings", "project.static"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let s = check(&report, "project.settings");
    assert_eq!(s["status"], "fail");
    assert_eq!(
        s["message"],
        format!(
            "no manage.py in {} nor in the folders up to two levels below it: labcheck cannot find the Django project",
            dir.display()
        )
    );
    assert!(s["hint"].as_str().unwrap().contains("--set project_dir=PATH"), "{s}");
    assert_eq!(check(&report, "project.static")["status"], "fail");
}

#[test]
fn no_python_or_no_django_is_an_error_with_a_hint() {
    let dir = reference_copy();
    let (code, report, _) = json_check(
        dir.path(),
        &["project.settings", "--set", "python=/nonexistent/bin/python"],
        &[],
    );
    assert_eq!(code, 3, "{report:#}");
    let s = check(&report, "project.settings");
    assert_eq!(s["status"], "error");
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .starts_with("cannot run Python /nonexistent/bin/python (from the python parameter): "),
        "{s}"
    );
    assert!(
        s["hint"].as_str().unwrap().contains("--set python=.venv/bin/python"),
        "{s}"
    );

    // A Python that cannot see any installed package (-S: no site-packages).
    let bare = tempfile::tempdir().unwrap();
    let wrapper = write(bare.path(), "python", "#!/bin/sh\nexec python3 -S \"$@\"\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (code, report, _) = json_check(
        dir.path(),
        &["project.settings", "--set", &format!("python={}", wrapper.display())],
        &[],
    );
    assert_eq!(code, 3, "{report:#}");
    let s = check(&report, "project.settings");
    assert_eq!(s["status"], "error");
    assert_eq!(
        s["message"],
        format!(
            "Django is not importable with {} (from the python parameter)",
            wrapper.display()
        )
    );
    assert!(s["hint"].as_str().unwrap().contains("source .venv/bin/activate"), "{s}");
}

#[test]
fn bad_requirements_are_named_with_file_and_line() {
    let dir = fixture("bad-requirements");
    let (code, report, _) = json_check(&dir, &["project.requirements", "project.ebextensions"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let r = check(&report, "project.requirements");
    assert_eq!(r["status"], "fail");
    assert_eq!(
        r["message"],
        "requirements.txt does not list gunicorn; \
         requirements.txt:5: django is not pinned (>=5.0): pin it with ==; \
         requirements.txt:7: awsebcli is a development tool: remove it"
    );
    assert!(
        lab_hint(&report, "project.requirements").contains("delete any awsebcli line"),
        "{r}"
    );
    assert_eq!(
        r["evidence"]["files"],
        serde_json::json!(["requirements.txt", "requirements/base.txt"])
    );
    assert_eq!(
        r["evidence"]["ignored"][0],
        "requirements/base.txt:7: includes ../requirements.txt again (an include cycle): not read twice"
    );
    let e = check(&report, "project.ebextensions");
    assert_eq!(e["message"], format!("no .ebextensions folder in {}", dir.display()));
    assert!(
        e["fix"]
            .as_str()
            .unwrap()
            .contains("WSGIPath: pets_project.wsgi:application"),
        "{e}"
    );
}

#[test]
fn a_wrong_wsgi_path_and_static_folder_fail_ebextensions() {
    let dir = reference_copy();
    let config = dir.path().join(".ebextensions/django.config");
    replace_in(
        &config,
        "pets_project.wsgi:application",
        "pets_project.wsgii:application",
    );
    replace_in(&config, "/static: static", "/static: staticfiles");
    let (code, report, _) = json_check(dir.path(), &["project.ebextensions"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let e = check(&report, "project.ebextensions");
    assert_eq!(e["status"], "fail");
    assert_eq!(
        e["message"],
        ".ebextensions/django.config:3: option_settings → aws:elasticbeanstalk:container:python → WSGIPath is \
         pets_project.wsgii:application, but pets_project/wsgii.py does not exist in the source bundle; \
         .ebextensions/django.config:5: aws:elasticbeanstalk:environment:proxy:staticfiles → /static is staticfiles, \
         but STATIC_ROOT is static in the source bundle: the proxy would serve a folder collectstatic does not fill"
    );
    assert!(
        lab_hint(&report, "project.ebextensions").contains("module:callable"),
        "{e}"
    );
}

#[test]
fn a_tab_in_the_config_fails_ebextensions_with_file_and_line() {
    let dir = fixture("tab-ebextensions");
    let (code, report, _) = json_check(&dir, &["project.ebextensions"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let message = check(&report, "project.ebextensions")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with(".ebextensions/django.config:3:1: not valid YAML: "),
        "{message}"
    );
    assert!(
        message.ends_with("(the file holds tab characters: YAML indents with spaces only)"),
        "{message}"
    );
}

#[test]
fn an_empty_or_incomplete_static_root_fails_static() {
    let dir = reference_copy();
    std::fs::create_dir_all(dir.path().join("static")).unwrap();
    let (code, report, _) = json_check(dir.path(), &["project.static"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let s = check(&report, "project.static");
    let n = s["evidence"]["expected"].as_u64().unwrap();
    let message = s["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!(
            "STATIC_ROOT static/ holds 0 files, but {n} of the {n} files collectstatic gathers are missing: "
        )),
        "{s}"
    );
    assert!(
        lab_hint(&report, "project.static").starts_with("Run collectstatic"),
        "{s}"
    );
    assert_eq!(
        s["fix"],
        format!(
            "cd {} && python manage.py collectstatic --noinput",
            dir.path().display()
        )
    );

    collectstatic(dir.path());
    std::fs::remove_file(dir.path().join("static/admin/css/base.css")).unwrap();
    let (code, report, _) = json_check(dir.path(), &["project.static"], &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        check(&report, "project.static")["message"],
        format!(
            "STATIC_ROOT static/ holds {} files, but 1 of the {n} files collectstatic gathers are missing: admin/css/base.css",
            n - 1
        )
    );

    std::fs::remove_dir_all(dir.path().join("static")).unwrap();
    let (_, report, _) = json_check(dir.path(), &["project.static"], &[]);
    assert_eq!(
        check(&report, "project.static")["message"],
        "STATIC_ROOT static/ does not exist: collectstatic has not run, and no container command runs it on deployment"
    );
}

#[test]
fn a_deploy_check_error_fails_deploy_check_by_id() {
    let dir = reference_copy();
    let settings = dir.path().join("pets_project/settings.py");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str("\nSECURE_REFERRER_POLICY = \"from-anywhere\"\n");
    std::fs::write(&settings, text).unwrap();
    let (code, report, _) = json_check(dir.path(), &["project.deploy-check"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let d = check(&report, "project.deploy-check");
    assert_eq!(d["status"], "fail");
    assert_eq!(
        d["message"],
        "manage.py check --deploy reports 1 error: security.E023 You have set the SECURE_REFERRER_POLICY setting to an invalid value."
    );
    assert!(
        d["hint"]
            .as_str()
            .unwrap()
            .starts_with("security.E023: Valid values are: "),
        "{d}"
    );
    let ids: Vec<&str> = d["evidence"]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "security.E023",
            "security.W004",
            "security.W008",
            "security.W012",
            "security.W016"
        ]
    );
}

#[test]
fn settings_that_name_other_resources_leave_a_note() {
    let dir = reference_copy();
    let (code, report, _) = json_check(
        dir.path(),
        &["project.settings"],
        &[("AWS_STORAGE_BUCKET_NAME", "my-own-media"), ("RDS_DB_NAME", "petsdb")],
    );
    assert_eq!(code, 0, "{report:#}");
    let notes = report["notes"].as_array().cloned().unwrap_or_default();
    let notes: Vec<&str> = notes.iter().filter_map(Value::as_str).collect();
    // labcheck names the bucket it checked, or its default's pattern when
    // the account is not known (a run of project checks calls no AWS).
    assert!(
        notes.iter().any(
            |n| n.starts_with("the settings use bucket `my-own-media`, but labcheck")
                && n.ends_with("set `bucket = \"my-own-media\"` in labcheck.toml")
        ),
        "{notes:?}"
    );
    assert!(
        notes.contains(&"the settings use db_name `petsdb`, but labcheck checked `pets`; set `db_name = \"petsdb\"` in labcheck.toml"),
        "{notes:?}"
    );
}

/// What `expected.toml` says about one real project (see
/// tests/fixtures/real-projects/README.md).
#[derive(serde::Deserialize)]
struct Expected {
    venv: String,
    #[serde(default)]
    env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    project_dir: Option<String>,
    expect: std::collections::BTreeMap<String, Verdict>,
}

#[derive(serde::Deserialize)]
struct Verdict {
    status: String,
    #[serde(default)]
    message: Vec<String>,
}

/// The venv scripts/django-venvs made for `name` (it fails when it cannot
/// make one, so a missing venv fails here too, never skips a fixture).
fn django_venv(name: &str) -> PathBuf {
    let python = repo().join("tests/.django-venvs").join(name).join("bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/django-venvs (scripts/test does)",
        python.display()
    );
    python
}

/// A copy of the course whose project checks do not wait on
/// project.settings, when the lab still makes them: each check's own
/// verdict is what the fixtures pin.
fn course_without_project_needs() -> Option<tempfile::TempDir> {
    let lab = std::fs::read_to_string(repo().join("labs/deploy-django-eb.md")).unwrap();
    let needs = "needs = [\"project.settings\"]\n";
    if !lab.contains(needs) {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "labs/deploy-django-eb.md", &lab.replace(needs, ""));
    Some(dir)
}

/// labcheck on `dir` with only `env` for the project (nothing from this
/// machine or the sandbox's app), the Python of `venv`.
fn check_real_project(
    dir: &Path,
    python: &Path,
    env: &std::collections::BTreeMap<String, String>,
    course: Option<&Path>,
) -> Value {
    let l = the_learner();
    let base = l.labcheck();
    let keep: Vec<(String, String)> = base
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_string_lossy().to_string(), v?.to_string_lossy().to_string())))
        .filter(|(k, _)| k.starts_with("AWS_") || k.starts_with("LABCHECK_"))
        .filter(|(k, _)| k != "LABCHECK_PROJECT_DIR")
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labcheck"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::var("HOME").unwrap_or_default())
        .env("NO_COLOR", "1")
        .envs(keep)
        .envs(env)
        .args(["check", "project", "--format", "json"])
        .args(["--set", &format!("project_dir={}", dir.display())])
        .args(["--set", &format!("python={}", python.display())]);
    if let Some(course) = course {
        cmd.arg("--course-dir").arg(course);
    }
    let out = cmd.output().expect("run labcheck");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("labcheck did not print a JSON report ({e}):\n{}", text(&out)))
}

#[test]
fn real_projects_get_the_verdicts_read_by_hand() {
    let root = repo().join("tests/fixtures/real-projects");
    let course = course_without_project_needs();
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("expected.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    let mut wrong = Vec::new();
    let mut table = Vec::new();
    for name in &names {
        let expected: Expected =
            toml::from_str(&std::fs::read_to_string(root.join(name).join("expected.toml")).unwrap())
                .unwrap_or_else(|e| panic!("{name}/expected.toml: {e}"));
        let python = django_venv(&expected.venv);
        // A copy, so that nothing a run could leave behind stays in the tree.
        let copy = tempfile::tempdir().unwrap();
        let status = Command::new("cp")
            .arg("-a")
            .arg(root.join(name).join("project"))
            .arg(copy.path())
            .status()
            .unwrap();
        assert!(status.success());
        let dir = copy
            .path()
            .join("project")
            .join(expected.project_dir.as_deref().unwrap_or("."));
        let report = check_real_project(&dir, &python, &expected.env, course.as_ref().map(|c| c.path()));
        for (id, want) in &expected.expect {
            let got = check(&report, id);
            let status = got["status"].as_str().unwrap_or_default();
            let message = got["message"].as_str().unwrap_or_default();
            table.push(format!("{name:28} {id:22} {status:5} {message}"));
            let missing: Vec<&String> = want.message.iter().filter(|m| !message.contains(m.as_str())).collect();
            if status != want.status || !missing.is_empty() {
                wrong.push(format!(
                    "{name}: {id} is {status} ({message}); expected {} with {missing:?}",
                    want.status
                ));
            }
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(
        wrong.is_empty(),
        "{} wrong verdicts:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn utf16_requirements_from_powershell_are_read_as_pip_reads_them() {
    let dir = reference_copy();
    let path = dir.path().join("requirements.txt");
    let text = std::fs::read_to_string(&path).unwrap().replace('\n', "\r\n");
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    std::fs::write(&path, bytes).unwrap();
    let (code, report, _) = json_check(dir.path(), &["project.requirements"], &[]);
    assert_eq!(code, 0, "{report:#}");
    let message = check(&report, "project.requirements")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.ends_with("(note: requirements.txt: UTF-16LE with a BOM, which pip reads)"),
        "{message}"
    );
}

#[test]
fn requirement_lines_pip_accepts_are_accepted_and_dev_zero_is_refused() {
    let dir = reference_copy();
    let path = dir.path().join("requirements.txt");
    let mut text = std::fs::read_to_string(&path).unwrap();
    write(dir.path(), "vendor/localpkg-2.1.1.zip", "");
    text.push_str(
        "--index-url https://pypi.org/simple\n-e .\nvendor/localpkg-2.1.1.zip\n\
         pywin32==306 ; sys_platform == \"win32\"\nDjango==4.2.11 ; python_version < \"3.8\"\n\
         six==1.16.0 \\\n    --hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n",
    );
    std::fs::write(&path, &text).unwrap();
    let (code, report, _) = json_check(dir.path(), &["project.requirements"], &[]);
    assert_eq!(code, 0, "{report:#}");
    // The Windows-only line and the old Django are skipped on the platform's Python.
    let reqs = check(&report, "project.requirements")["evidence"]["requirements"].clone();
    let skipped: Vec<&str> = reqs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["skipped_on_platform"] == true)
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, ["pywin32", "django"], "{reqs:#}");

    std::fs::write(&path, format!("{text}-r /dev/zero\n")).unwrap();
    let (code, report, _) = json_check(dir.path(), &["project.requirements"], &[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        check(&report, "project.requirements")["message"]
            .as_str()
            .unwrap()
            .contains("cannot read the included file /dev/zero: not a regular file"),
        "{report:#}"
    );
}

#[test]
fn manage_py_below_the_bundle_root_is_graded_from_either_folder() {
    let bundle = tempfile::tempdir().unwrap();
    let project = reference_copy();
    let web = bundle.path().join("web");
    let status = Command::new("cp")
        .arg("-a")
        .arg(project.path())
        .arg(&web)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::rename(web.join("requirements.txt"), bundle.path().join("requirements.txt")).unwrap();
    std::fs::remove_dir_all(web.join(".ebextensions")).unwrap();
    write(
        bundle.path(),
        ".ebextensions/django.config",
        "option_settings:\n  aws:elasticbeanstalk:application:environment:\n    PYTHONPATH: \"/var/app/current/web:$PYTHONPATH\"\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: pets_project.wsgi:application\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static: web/static\n",
    );
    collectstatic(&web);
    for from in [bundle.path(), web.as_path()] {
        let (code, report, _) = json_check(from, &["project"], &[]);
        assert_eq!(code, 0, "from {}: {report:#}", from.display());
        let e = check(&report, "project.ebextensions")["message"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(e.contains("static files: /static → web/static"), "{e}");
        assert!(e.contains("Django project (manage.py) in web/"), "{e}");
    }
    // Without PYTHONPATH, the module is not where the platform looks.
    write(
        bundle.path(),
        ".ebextensions/django.config",
        "option_settings:\n  aws:elasticbeanstalk:container:python:\n    WSGIPath: pets_project.wsgi:application\n",
    );
    let (_, report, _) = json_check(bundle.path(), &["project.ebextensions"], &[]);
    let e = check(&report, "project.ebextensions");
    assert_eq!(e["status"], "fail");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("pets_project/wsgi.py does not exist in the source bundle"),
        "{e}"
    );
    // The fix names the project's own package and folders.
    let fix = e["fix"].as_str().unwrap();
    assert!(
        fix.contains("WSGIPath: pets_project.wsgi:application") && fix.contains("PYTHONPATH: /var/app/current/web"),
        "{fix}"
    );
}

#[test]
fn a_procfile_starts_the_app_and_wsgi_path_is_not_needed() {
    let dir = reference_copy();
    write(
        dir.path(),
        "Procfile",
        "web: gunicorn --bind :8000 --workers 2 pets_project.wsgi:application\n",
    );
    write(
        dir.path(),
        ".ebextensions/django.config",
        "option_settings:\n  aws:elasticbeanstalk:environment:proxy:staticfiles:\n    /static: static\n",
    );
    let (code, report, _) = json_check(dir.path(), &["project.ebextensions"], &[]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        check(&report, "project.ebextensions")["message"]
            .as_str()
            .unwrap()
            .contains("the Procfile starts pets_project.wsgi:application with gunicorn"),
        "{report:#}"
    );
    write(dir.path(), "Procfile", "web: gunicorn --bind :8000 petsproject.wsgi\n");
    let (code, report, _) = json_check(dir.path(), &["project.ebextensions"], &[]);
    assert_eq!(code, 1, "{report:#}");
    assert!(
        check(&report, "project.ebextensions")["message"]
            .as_str()
            .unwrap()
            .starts_with("Procfile:1 (gunicorn) is petsproject.wsgi, but petsproject/wsgi.py does not exist"),
        "{report:#}"
    );
}

#[test]
fn a_weak_literal_password_does_not_cut_ordinary_words() {
    let dir = reference_copy();
    let settings = dir.path().join("pets_project/settings.py");
    replace_in(&settings, "os.environ[\"RDS_USER_PASSWORD\"]", "\"postgres\"");
    let (code, report, all) = json_check(dir.path(), &["project.settings"], &[]);
    assert_eq!(code, 1, "{report:#}");
    let s = check(&report, "project.settings");
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .contains("DATABASES['default']['PASSWORD'] is written in the source"),
        "{s}"
    );
    assert!(
        s["hint"].as_str().unwrap().contains("A secret that was committed"),
        "{s}"
    );
    assert!(all.contains("django.db.backends.mysql"), "{all}");
    assert!(
        !all.contains("[redacted]"),
        "nothing here is a registered secret:\n{all}"
    );
}

#[test]
fn a_project_that_prints_forever_is_stopped_and_says_so() {
    let dir = reference_copy();
    let settings = dir.path().join("pets_project/settings.py");
    let mut text = std::fs::read_to_string(&settings).unwrap();
    text.push_str("\nimport sys\nwhile True:\n    sys.stdout.write(\"noise \" * 1000)\n");
    std::fs::write(&settings, text).unwrap();
    let (code, report, _) = json_check(dir.path(), &["project.settings"], &[]);
    assert_eq!(code, 3, "{report:#}");
    let s = check(&report, "project.settings");
    assert_eq!(s["status"], "error");
    assert!(s["message"].as_str().unwrap().contains("(the output was cut)"), "{s}");
}

/// collectstatic and Django's checklist need the settings to load, not to be
/// ready for production: with development settings they still run.
#[test]
fn static_and_deploy_check_run_when_settings_load_but_fail() {
    let dir = reference_copy();
    collectstatic(dir.path());
    let (_, report, _) = json_check(dir.path(), &["project"], &[("DJANGO_DEBUG", "1")]);
    assert_eq!(check(&report, "project.settings")["status"], "fail", "{report:#}");
    assert_eq!(check(&report, "project.static")["status"], "pass", "{report:#}");
    let deploy = check(&report, "project.deploy-check");
    assert_ne!(deploy["status"], "skip", "{report:#}");
}

/// The probe imports the storage classes in a forked copy while Django sets
/// up; a class whose module needs the apps loaded fails there, and must be
/// imported again after setup rather than judged by its name.
#[test]
fn a_storage_class_that_needs_the_apps_loaded_is_still_read() {
    let dir = reference_copy();
    write(
        dir.path(),
        "pets_project/media.py",
        "from pets_app.models import Pet  # needs the apps loaded\n\
         from storages.backends.s3 import S3Storage\n\n\n\
         class MediaStorage(S3Storage):\n    bucket_name = \"pets-media-from-class\"\n",
    );
    let settings = dir.path().join("pets_project/settings.py");
    replace_in(
        &settings,
        "    _media_backend = \"storages.backends.s3boto3.S3Boto3Storage\"",
        "    _media_backend = \"pets_project.media.MediaStorage\"",
    );
    let (_, report, _) = json_check(dir.path(), &["project.settings"], &[]);
    let s = check(&report, "project.settings");
    let storage = &s["evidence"]["effective"]["default_storage"];
    assert_eq!(storage["backend"], "pets_project.media.MediaStorage", "{s:#}");
    assert_eq!(storage["is_s3"], true, "{s:#}");
    assert_eq!(storage["class_bucket"], "pets-media-from-class", "{s:#}");
    assert!(storage["error"].is_null(), "{s:#}");
    assert!(!s["message"].as_str().unwrap().contains("not S3"), "{s:#}");
}
