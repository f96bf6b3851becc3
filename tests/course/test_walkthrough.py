"""A learner follows the lab guide, as written, in the sandbox.

The shell blocks of *Before you begin* and of the `s3`, `cache` and `rds`
steps (and the IAM blocks of the `eb` step) run in order with the AWS CLI,
against a fresh, empty sandbox account. Each block runs in a new shell that
has sourced `~/pets-lab.env`, in the learner's project folder, so a
variable the guide forgets to save breaks a later block here as it would in
a new terminal. Then labcheck grades what those commands built, and every
check they concern must pass.

What the sandbox cannot do is left out, and said so: blocks that install
packages, run Django, open a Redis or MySQL connection or drive the EB CLI.
The rest is as the learner has it: a HOME with `~/.aws/config` naming the
Region, an IDE instance with its security group, and a project folder with
a `media/` folder of pictures. Two stand-ins: AWS_ENDPOINT_URL points the
CLI at the sandbox, and a `curl` on PATH answers the IDE's instance metadata
requests (and refuses any URL that would leave this machine).
"""

import json
import os
import random
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import guide

ROOT = guide.ROOT
VENV_BIN = Path(os.environ.get("COURSE_VENV", ROOT / "tests" / "course" / ".venv")) / "bin"

# Programs a block may run here; a block with any other command is left out.
RUNNABLE = {"aws", "export", "echo", "cat", "chmod", "curl", "sleep", "[", "cd", "mkdir", "ls"}
# The steps walked through, and which of their blocks.
STEPS = {"": "all", "s3": "all", "cache": "all", "rds": "all", "eb": "aws iam"}
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
    for words in (w for line in parsed.lines for w in guide.commands(line)):
        if words[0] == "python" and words[1:2] == ["-c"]:
            continue
        if words[0] not in RUNNABLE:
            return f"runs {words[0]}"
    if not programs:
        return "no command"
    return None


class Walkthrough(unittest.TestCase):
    def setUp(self):
        status = subprocess.run([ROOT / "sandbox" / "status"], capture_output=True, text=True, check=False)
        if status.returncode != 0:
            self.fail(
                "the sandbox is not up: start it with `sandbox/up` (scripts/test does), then run the "
                f"course tests again\n{status.stdout}{status.stderr}"
            )
        if not labcheck_bin().exists():
            self.fail(f"{labcheck_bin()} is missing: run `cargo build` first (scripts/test does)")
        if not (VENV_BIN / "aws").exists():
            self.fail(f"{VENV_BIN / 'aws'} is missing: run the course tests with tests/course/run")
        self.tmp = tempfile.TemporaryDirectory(prefix="labcheck-walkthrough-")
        self.home = Path(self.tmp.name)
        self.project = self.home / "environment" / "django"
        media = self.project / "media"
        media.mkdir(parents=True)
        for picture in (ROOT / "labs/pets_project/pets_app/fixtures/pictures").iterdir():
            shutil.copy(picture, media / picture.name)
        (self.home / ".aws").mkdir()
        (self.home / ".aws" / "config").write_text("[default]\nregion = us-west-2\n")
        shims = self.home / "shims"
        shims.mkdir()
        curl = shutil.which("curl") or "/usr/bin/curl"
        (shims / "curl").write_text(CURL_SHIM.replace("REAL_CURL", curl))
        (shims / "curl").chmod(0o755)
        endpoint, secret = sandbox_env()
        # A fresh account: the sandbox makes one for any unused 12-digit key.
        self.account = "7" + "".join(random.choice("0123456789") for _ in range(11))
        self.env = {
            "HOME": str(self.home),
            "PATH": os.pathsep.join([str(shims), str(VENV_BIN), "/usr/local/bin", "/usr/bin", "/bin"]),
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": self.account,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "NO_COLOR": "1",
        }
        # The IDE: an instance in its own security group.
        ide_sg = self.aws(
            "ec2",
            "create-security-group",
            "--group-name",
            "pets-ide",
            "--description",
            "the course IDE",
            "--query",
            "GroupId",
            "--output",
            "text",
        )
        instance = self.aws(
            "ec2",
            "run-instances",
            "--image-id",
            "ami-12345678",
            "--instance-type",
            "t3.small",
            "--security-group-ids",
            ide_sg,
            "--query",
            "Instances[0].InstanceId",
            "--output",
            "text",
        )
        self.env["WALKTHROUGH_INSTANCE_ID"] = instance
        self.ide_sg = ide_sg

    def tearDown(self):
        self.tmp.cleanup()

    def aws(self, *args):
        out = subprocess.run(
            ["aws", *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        self.assertEqual(out.returncode, 0, f"aws {' '.join(args)}: {out.stderr}")
        return out.stdout.strip()

    def shell(self, text, timeout=180):
        prelude = "if [ -f ~/pets-lab.env ]; then source ~/pets-lab.env; fi\n"
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", prelude + text],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def test_the_guide_as_written_builds_what_its_checks_grade(self):
        lab = guide.lab()
        ran, left_out = [], []
        for block in lab.blocks:
            if block.lang != "bash" or block.step not in STEPS:
                continue
            why = runnable(block, STEPS[block.step])
            if why:
                left_out.append(f"line {block.line} ({block.step or 'before you begin'}): {why}")
                continue
            out = self.shell(block.text)
            self.assertEqual(
                out.returncode,
                0,
                f"the block at labs/deploy-django-eb.md:{block.line} failed (exit {out.returncode})\n"
                f"--- block\n{block.text}--- stdout\n{out.stdout}--- stderr\n{out.stderr}",
            )
            ran.append(f"line {block.line} ({block.step or 'before you begin'})")
        print(f"\nwalkthrough in account {self.account}: ran {len(ran)} blocks; left out {len(left_out)}:")
        for line in left_out:
            print("  " + line)
        steps_run = {r.split("(")[1].rstrip(")") for r in ran}
        self.assertEqual(steps_run, {"before you begin", "s3", "cache", "rds", "eb"}, ran)
        self.assertGreaterEqual(len(ran), 15, ran)

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


if __name__ == "__main__":
    unittest.main()
