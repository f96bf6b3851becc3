"""A learner follows the lab guide, as written, in the sandbox, and the
reference project is deployed with what the learner's commands set.

The shell blocks of *Before you begin* and of the `s3`, `cache`, `rds` and
`project` steps (and the IAM blocks of the `eb` step) run in order with the
AWS CLI, against a fresh, empty sandbox account. Each block runs in a new
shell that has sourced `~/pets-lab.env`, in the learner's project folder, so
a variable the guide forgets to save breaks a later block here as it would
in a new terminal. Then labcheck grades what those commands built, and every
check they concern must pass.

What the sandbox cannot do is left out, and said so: blocks that install
packages, run Django, open a Redis or MySQL connection or drive the EB CLI,
and the optional sections. The rest is as the learner has it: a HOME with
`~/.aws/config` naming the Region, an IDE instance with its security group,
and a project folder with a `media/` folder of pictures. Two stand-ins:
AWS_ENDPOINT_URL points the CLI at the sandbox, and a `curl` on PATH answers
the IDE's instance metadata requests (and refuses any URL that would leave
this machine).

Then the reference project (labs/pets_project) is deployed as the `eb` step
deploys the learner's: under gunicorn, with exactly the environment
properties of the guide's `eb create --envvars`, their values expanded from
the `~/pets-lab.env` the walk left, plus the sandbox's stand-ins for what AWS
gives an instance (the instance role's credentials, S3's endpoint, the CAs of
the cache and the database). One value is replaced: moto's RDS creates no
user in the MariaDB it points at, so the password is the sandbox's. The site
must then show pictures from the walk's bucket and keep a login's session in
Redis.
"""

import html
import http.cookiejar
import json
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import guide

ROOT = guide.ROOT
VENV_BIN = Path(os.environ.get("COURSE_VENV", ROOT / "tests" / "course" / ".venv")) / "bin"
REFERENCE = ROOT / "labs" / "pets_project"
PICTURES = REFERENCE / "pets_app" / "fixtures" / "pictures"
SANDBOX_PY = ROOT / "sandbox" / ".venv" / "bin" / "python"
APP_BIN = ROOT / "sandbox" / ".app-venv" / "bin"

# What the settings chose for media and sessions, and an upload through them.
BACKENDS = (
    "from django.conf import settings; "
    "print(settings.STORAGES['default']['BACKEND'], settings.SESSION_ENGINE)"
)
UPLOAD = (
    "from django.core.files.base import ContentFile; "
    "from django.core.files.storage import default_storage; "
    "print(default_storage.save('walkthrough-upload.txt', ContentFile(b'uploaded through django-storages')))"
)

# Programs a block may run here; a block with any other command is left out.
RUNNABLE = {"aws", "export", "echo", "cat", "chmod", "curl", "sleep", "[", "cd", "mkdir", "ls"}
# The steps walked through, and which of their blocks.
STEPS = {"": "all", "s3": "all", "cache": "all", "rds": "all", "project": "all", "eb": "aws iam"}
# The checks those commands make pass (the others need Django, a connection
# to the cache or the database, or a Beanstalk environment).
CHECKS = [
    "s3.bucket",
    "s3.cors",
    "s3.private",
    "s3.media",
    "s3.presigned",
    "cache.exists",
    "cache.tls",
    "cache.network",
    "rds.instance",
    "rds.network",
    "eb.role",
]

CURL_SHIM = r"""#!/usr/bin/env bash
# The stand-in IDE's instance metadata service, and a guard: no URL that
# leaves this machine is fetched.
for a in "$@"; do
  case "$a" in
    http://169.254.169.254/latest/api/token) echo "walkthrough-token"; exit 0 ;;
    http://169.254.169.254/latest/meta-data/instance-id) echo "$WALKTHROUGH_INSTANCE_ID"; exit 0 ;;
    http://169.254.169.254/*) echo "curl (walkthrough): no such metadata: $a" >&2; exit 22 ;;
    http://127.0.0.1:*|http://localhost:*) ;;
    http://*|https://*) echo "curl (walkthrough): refusing $a, which is not on this machine" >&2; exit 7 ;;
  esac
done
exec REAL_CURL "$@"
"""


def sandbox_env():
    """AWS_ENDPOINT_URL and the secret key from sandbox/env."""
    text = (ROOT / "sandbox" / "env").read_text()
    found = dict(re.findall(r"^export (AWS_ENDPOINT_URL|AWS_SECRET_ACCESS_KEY)=(\S+)$", text, re.MULTILINE))
    return found["AWS_ENDPOINT_URL"], found["AWS_SECRET_ACCESS_KEY"]


def labcheck_bin():
    given = os.environ.get("LABCHECK_BIN")
    return Path(given) if given else ROOT / "target" / "debug" / "labcheck"


def runnable(block, only):
    """None when the block runs here, else why it is left out."""
    parsed = guide.script(block.text)
    programs = [words[0] for line in parsed.lines for words in guide.commands(line)]
    if only != "all" and only not in block.text:
        return f"not a `{only}` block"
    if "optional" in block.section.lower():
        return f"in the optional section `{block.section}`"
    for words in (w for line in parsed.lines for w in guide.commands(line)):
        if words[0] == "python" and words[1:2] == ["-c"]:
            continue
        if words[0] not in RUNNABLE:
            return f"runs {words[0]}"
    if not programs:
        return "no command"
    return None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


STAND_INS = """
import json, sys
sys.path.insert(0, sys.argv[1])
import sandbox_common as c
print(json.dumps({"stand_ins": c.stand_ins(sys.argv[2]), "db_password": c.DB_PASSWORD,
                  "admin_user": c.ADMIN_USER, "admin_password": c.secret(c.ADMIN_PASSWORD_FILE),
                  "ca": str(c.CA_FILE)}))
"""


class Walkthrough(unittest.TestCase):
    """The guide walked once (setUpClass), then graded and deployed."""

    @classmethod
    def setUpClass(cls):
        status = subprocess.run([ROOT / "sandbox" / "status"], capture_output=True, text=True, check=False)
        if status.returncode != 0:
            raise AssertionError(
                "the sandbox is not up: start it with `sandbox/up` (scripts/test does), then run the "
                f"course tests again\n{status.stdout}{status.stderr}"
            )
        if not labcheck_bin().exists():
            raise AssertionError(f"{labcheck_bin()} is missing: run `cargo build` first (scripts/test does)")
        if not (VENV_BIN / "aws").exists():
            raise AssertionError(f"{VENV_BIN / 'aws'} is missing: run the course tests with tests/course/run")
        cls.tmp = tempfile.TemporaryDirectory(prefix="labcheck-walkthrough-")
        cls.home = Path(cls.tmp.name)
        cls.project = cls.home / "environment" / "django"
        media = cls.project / "media"
        media.mkdir(parents=True)
        for picture in PICTURES.iterdir():
            shutil.copy(picture, media / picture.name)
        (cls.home / ".aws").mkdir()
        (cls.home / ".aws" / "config").write_text("[default]\nregion = us-west-2\n")
        shims = cls.home / "shims"
        shims.mkdir()
        curl = shutil.which("curl") or "/usr/bin/curl"
        (shims / "curl").write_text(CURL_SHIM.replace("REAL_CURL", curl))
        (shims / "curl").chmod(0o755)
        cls.endpoint, secret = sandbox_env()
        # A fresh account: the sandbox makes one for any unused 12-digit key.
        cls.account = "7" + "".join(random.choice("0123456789") for _ in range(11))
        cls.env = {
            "HOME": str(cls.home),
            "PATH": os.pathsep.join([str(shims), str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": cls.account,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_ENDPOINT_URL": cls.endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "NO_COLOR": "1",
        }
        try:
            cls.walk()
        except BaseException:
            cls.tmp.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    @classmethod
    def aws(cls, *args):
        out = subprocess.run(
            ["aws", *args], env=cls.env, capture_output=True, text=True, timeout=60, check=False
        )
        if out.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)}: {out.stderr}")
        return out.stdout.strip()

    @classmethod
    def shell(cls, text, timeout=180):
        prelude = "if [ -f ~/pets-lab.env ]; then source ~/pets-lab.env; fi\n"
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", prelude + text],
            cwd=cls.project,
            env=cls.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    @classmethod
    def walk(cls):
        """The IDE, then every block of the walked steps that runs here."""
        cls.ide_sg = cls.aws(
            "ec2", "create-security-group", "--group-name", "pets-ide", "--description", "the course IDE",
            "--query", "GroupId", "--output", "text",
        )  # fmt: skip
        instance = cls.aws(
            "ec2", "run-instances", "--image-id", "ami-12345678", "--instance-type", "t3.small",
            "--security-group-ids", cls.ide_sg, "--query", "Instances[0].InstanceId", "--output", "text",
        )  # fmt: skip
        cls.env["WALKTHROUGH_INSTANCE_ID"] = instance
        cls.ran, cls.left_out, cls.failed = [], [], None
        for block in guide.lab().blocks:
            if block.lang != "bash" or block.step not in STEPS:
                continue
            why = runnable(block, STEPS[block.step])
            where = f"line {block.line} ({block.step or 'before you begin'})"
            if why:
                cls.left_out.append(f"{where}: {why}")
                continue
            out = cls.shell(block.text)
            if out.returncode != 0:
                cls.failed = (
                    f"the block at labs/deploy-django-eb.md:{block.line} failed (exit {out.returncode})\n"
                    f"--- block\n{block.text}--- stdout\n{out.stdout}--- stderr\n{out.stderr}"
                )
                return
            cls.ran.append(where)
        print(
            f"\nwalkthrough in account {cls.account}: ran {len(cls.ran)} blocks; left out {len(cls.left_out)}:"
        )
        for line in cls.left_out:
            print("  " + line)

    def setUp(self):
        if self.failed:
            self.fail(self.failed)

    def learner_variables(self):
        """What a new terminal has after `source ~/pets-lab.env`."""
        out = subprocess.run(
            ["bash", "-c", "source ~/pets-lab.env && env -0"],
            env={"HOME": str(self.home), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        return dict(kv.split("=", 1) for kv in out.stdout.split("\0") if "=" in kv)

    def test_the_guide_as_written_builds_what_its_checks_grade(self):
        steps_run = {r.split("(")[1].rstrip(")") for r in self.ran}
        self.assertEqual(steps_run, {"before you begin", "s3", "cache", "rds", "project", "eb"}, self.ran)
        self.assertGreaterEqual(len(self.ran), 15, self.ran)

        saved = (self.home / "pets-lab.env").read_text()
        self.assertIn(f"export IDE_SG={self.ide_sg}", saved)
        for var in (
            "BUCKET",
            "CACHE_SG",
            "CACHE_HOST",
            "DB_SG",
            "RDS_HOSTNAME",
            "RDS_PORT",
            "RDS_USER_PASSWORD",
        ):
            self.assertRegex(saved, rf"(?m)^export {var}=\S", f"~/pets-lab.env holds {var}")

        out = self.shell(f"{labcheck_bin()} check {' '.join(CHECKS)} --format json", timeout=300)
        self.assertIn(out.returncode, (0, 1, 3), out.stderr)
        report = json.loads(out.stdout)
        self.assertEqual(report["account"], self.account)
        status = {c["id"]: c for s in report["steps"] for c in s["checks"]}
        failing = {
            cid: f"{c['status']}: {c.get('message', '')}"
            for cid, c in status.items()
            if cid in CHECKS and c["status"] != "pass"
        }
        self.assertEqual(failing, {}, "checks that the walkthrough should have made pass")
        self.assertTrue(set(CHECKS) <= set(status), status.keys())

    def test_the_reference_project_deployed_with_the_labs_properties_uses_s3_and_redis(self):
        learner = self.learner_variables()
        raw, names = guide.beanstalk_properties(guide.lab())
        try:
            properties = dict(pair.split("=", 1) for pair in guide.expand_strictly(raw, learner).split(","))
        except KeyError as e:
            self.fail(f"`eb create --envvars` passes ${e.args[0]}, which ~/pets-lab.env does not hold")
        self.assertEqual(list(properties), names)
        empty = [name for name, value in properties.items() if not value]
        self.assertEqual(empty, [], "properties the walk left empty")

        out = subprocess.run(
            [SANDBOX_PY, "-c", STAND_INS, str(ROOT / "sandbox"), self.account],
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        sandbox = json.loads(out.stdout)
        # The one value the sandbox cannot take from the walk (see the module's doc).
        properties["RDS_USER_PASSWORD"] = sandbox["db_password"]
        base = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        environ = {
            **base,
            "DJANGO_SETTINGS_MODULE": "pets_project.settings",
            **properties,
            **sandbox["stand_ins"],
        }

        # A control: without the bucket's and the cache's properties the same
        # settings fall back to local storage and database sessions, so the
        # checks below tell the two apart.
        local = {k: v for k, v in environ.items() if k not in ("AWS_STORAGE_BUCKET_NAME", "CACHE_LOCATION")}
        self.assertEqual(
            self.django(local, BACKENDS).split(),
            ["django.core.files.storage.FileSystemStorage", "django.contrib.sessions.backends.db"],
        )
        self.assertEqual(
            self.django(environ, BACKENDS).split(),
            ["storages.backends.s3boto3.S3Boto3Storage", "django.contrib.sessions.backends.cache"],
        )

        port = free_port()
        server = subprocess.Popen(
            [APP_BIN / "gunicorn", "pets_project.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "1", "--no-control-socket"],
            cwd=REFERENCE, env=environ, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            site = f"http://127.0.0.1:{port}"
            page = self.wait_for_page(server, site + "/")
            self.pictures_come_from_the_bucket(page, properties["AWS_STORAGE_BUCKET_NAME"])
            self.an_upload_lands_in_the_bucket(environ, properties["AWS_STORAGE_BUCKET_NAME"])
            self.a_login_keeps_its_session_in_redis(site, sandbox, properties["CACHE_LOCATION"])
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
            server.stderr.close()

    def django(self, environ, code):
        out = subprocess.run(
            [APP_BIN / "python", "manage.py", "shell", "--verbosity", "0", "-c", code],
            cwd=REFERENCE,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def wait_for_page(self, server, url):
        for _ in range(240):
            if server.poll() is not None:
                self.fail(f"gunicorn exited ({server.returncode}): {server.stderr.read()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return r.read().decode()
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        self.fail(f"the reference project never answered {url}")

    def pictures_come_from_the_bucket(self, page, bucket):
        sources = [html.unescape(src) for src in re.findall(r'<img src="([^"]+)"', page)]
        self.assertTrue(sources, "the pet list shows pictures")
        for src in sources:
            self.assertTrue(src.startswith(f"{self.endpoint}/{bucket}/"), f"{src[:80]} is not in {bucket}")
            self.assertIn("X-Amz-Signature=", src)
        # The link downloads the picture the guide's `aws s3 cp media/` put there.
        name = urllib.parse.urlparse(sources[0]).path.rsplit("/", 1)[1]
        with urllib.request.urlopen(sources[0], timeout=15) as r:
            self.assertEqual(r.read(), (PICTURES / name).read_bytes())

    def an_upload_lands_in_the_bucket(self, environ, bucket):
        name = self.django(environ, UPLOAD).strip()
        self.assertTrue(name.startswith("walkthrough-upload"), name)
        self.aws("s3api", "head-object", "--bucket", bucket, "--key", name)

    def a_login_keeps_its_session_in_redis(self, site, sandbox, location):
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        login = f"{site}/admin/login/?next=/admin/"
        with opener.open(login, timeout=15) as r:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.read().decode()).group(1)
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token, "username": sandbox["admin_user"],
             "password": sandbox["admin_password"], "next": "/admin/"}
        ).encode()  # fmt: skip
        request = urllib.request.Request(login, data=form, headers={"Referer": login, "Origin": site})
        with opener.open(request, timeout=15) as r:
            self.assertEqual(urllib.parse.urlparse(r.geturl()).path, "/admin/", "the admin login succeeded")
        session = next(c.value for c in jar if c.name == "sessionid")
        cache = urllib.parse.urlparse(location)
        out = subprocess.run(
            ["redis-cli", "--tls", "--cacert", sandbox["ca"], "-h", cache.hostname, "-p", str(cache.port),
             "EXISTS", f":1:django.contrib.sessions.cache{session}"],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        self.assertEqual(
            (out.returncode, out.stdout.strip()), (0, "1"), f"the session in Redis: {out.stderr}"
        )


if __name__ == "__main__":
    unittest.main()
