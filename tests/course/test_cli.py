"""Every AWS CLI and EB CLI command the course shows is valid.

The commands come from the shell blocks and the inline code of labs/*.md and
book/src/*.md, and from the `fix` of every check block. Each is parsed by the
tool itself, in process and offline:

- `aws ...` by the AWS CLI's own driver (its command table, built from
  botocore's service models and the CLI's customizations): the service, the
  operation and every option must exist, required options must be present,
  shorthand and JSON values must parse, and the resulting request must pass
  botocore's parameter validation. A handler answers each request before it
  is sent, so nothing leaves the machine;
- `eb ...` by the EB CLI's own argument parser (awsebcli's cement
  controllers), with every command body replaced by a no-op; `--envvars`
  and `eb setenv` values must be NAME=VALUE pairs.
"""

import contextlib
import io
import logging
import os
import re
import tempfile
import unittest
from pathlib import Path

import guide

# --- The AWS CLI, without the network -----------------------------------------
from awscli import clidriver
from awscli.botocore import waiter as botocore_waiter
from awscli.botocore.awsrequest import AWSResponse

# Requests that passed botocore's parameter validation and were answered locally.
ANSWERED = []


def _answer_locally(model=None, **kwargs):
    """before-call: an empty, successful answer instead of a request."""
    ANSWERED.append(model.name if model else "?")
    return AWSResponse("https://localhost/", 200, {}, None), {
        "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "local", "HTTPHeaders": {}}
    }


def _wait_once(self, **kwargs):
    """A waiter makes its describe call once (validated, answered locally)
    instead of polling until the answer it waits for."""
    self._operation_method(**kwargs)


# The CLI may load its botocore under two names (`botocore` and
# `awscli.botocore`): patch the waiter of each.
import botocore.waiter

for _module in {botocore_waiter, botocore.waiter}:
    _module.Waiter.wait = _wait_once


class Aws:
    """One AWS CLI driver, run in a scratch folder with scratch config files."""

    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.driver = clidriver.create_clidriver()
        self.driver.session.register("before-call", _answer_locally)

    def run(self, args):
        out, err = io.StringIO(), io.StringIO()
        cwd = os.getcwd()
        try:
            os.chdir(self.workdir)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                rc = self.driver.main(args)
        except SystemExit as e:
            rc = e.code
        finally:
            os.chdir(cwd)
        return rc, err.getvalue().strip()


INPUT_ERRORS = (
    r"Parameter validation failed|Unknown options|arguments are required|Error parsing parameter|Invalid"
)

# Commands of the AWS CLI version 2, which the guide uses, that version 1 (the
# one on PyPI, whose command table this test reads) does not have.
AWS_V2_ONLY = {("sso", "login"), ("configure", "sso")}


def aws_options(driver, words):
    """The options `aws WORDS` accepts, or an error: the service and the
    operation must exist. Options are matched exactly (argparse would
    accept an abbreviation, which the course should not print)."""
    names = {"--" + n for n in driver._get_argument_table()}
    table = driver._get_command_table()
    if words and words[0].startswith("-"):
        return names, None  # only global options: `aws --version`
    if not words or words[0] not in table:
        return None, f"no service `{words[0] if words else ''}`"
    if tuple(words[:2]) in AWS_V2_ONLY:
        return "v2", None
    node, i = table[words[0]], 1
    while i < len(words) and not words[i].startswith("-"):
        if isinstance(node, clidriver.ServiceCommand):
            sub = node._get_command_table()
        else:
            sub = getattr(node, "subcommand_table", None) or {}
        if words[i] in sub:
            node = sub[words[i]]
            i += 1
        elif isinstance(node, clidriver.ServiceCommand):
            return None, f"`aws {' '.join(words[:i])}` has no command `{words[i]}`"
        else:
            break  # a positional argument (a path, a variable name)
    if isinstance(node, clidriver.ServiceCommand):
        return None, f"`aws {' '.join(words[:i])}` needs an operation"
    names |= {"--" + n for n in getattr(node, "arg_table", {}) or {}}
    return names, None


def unknown_options(words, names):
    return [w.split("=", 1)[0] for w in words if w.startswith("--") and w.split("=", 1)[0] not in names]


# --- The EB CLI's parser, without running anything ----------------------------

logging.getLogger("cement").setLevel(logging.ERROR)
from cement.core.controller import CementBaseController
from ebcli.core import ebcore, hooks
from ebcli.core.abstractcontroller import AbstractBaseController

_parsed = []


def _record(self):
    _parsed.append((type(self).__name__, vars(self.app.pargs)))


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


# Quiet: the EB CLI's default log level ("WARN") makes cement warn on every run.
ebcore.EB.Meta.defaults["log.logging"]["level"] = "ERROR"
hooks.pre_run_hook = lambda app: None
for _cls in [AbstractBaseController, *_subclasses(CementBaseController)]:
    if "do_command" in vars(_cls):
        _cls.do_command = _record


def eb(args):
    """Parses `eb ARGS`: (ok, message)."""
    _parsed.clear()
    app = ebcore.EB(argv=list(args))
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            app.setup()
            app.run()
    except SystemExit as e:
        if e.code not in (0, None):
            return False, err.getvalue().strip().splitlines()[-1:] or [f"exit {e.code}"]
    finally:
        with contextlib.suppress(SystemExit):
            app.close()
    if args and args[0] == "--version":
        return True, ""
    if not _parsed:
        return False, "no eb command ran (an unknown command?)"
    controller, pargs = _parsed[0]
    pairs = []
    if pargs.get("envvars"):
        pairs += pargs["envvars"].split(",")
    if controller == "SetEnvController":
        pairs += pargs.get("varKey") or []
    bad = [p for p in pairs if "=" not in p or not p.split("=", 1)[0]]
    if bad:
        return False, f"not NAME=VALUE: {bad}"
    return True, controller


class _Parsed(Exception):
    pass


def eb_mention(args):
    """For `eb ...` as the prose mentions it (values may be left out): the
    command must exist and each option must be one of its options."""
    seen = {}
    original = CementBaseController._parse_args

    def capture(self):
        seen["controller"] = type(self).__name__
        seen["options"] = set(self.app.args._option_string_actions)
        raise _Parsed()

    CementBaseController._parse_args = capture
    app = ebcore.EB(argv=list(args))
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            app.setup()
            app.run()
    except (_Parsed, SystemExit):
        pass
    finally:
        CementBaseController._parse_args = original
        with contextlib.suppress(SystemExit):
            app.close()
    if not seen:
        return False, "the EB CLI did not get as far as its options"
    if args and not args[0].startswith("-") and seen["controller"] == "EbBaseController":
        return False, f"no eb command `{args[0]}`"
    unknown = [
        a.split("=", 1)[0] for a in args if a.startswith("-") and a.split("=", 1)[0] not in seen["options"]
    ]
    if unknown:
        return False, f"unknown options {unknown}"
    return True, seen["controller"]


# --- Finding the commands ------------------------------------------------------


found_commands = guide.cli_commands


def heredoc_files():
    """Files the course writes with `cat > FILE <<EOF`, as the CLI reads them."""
    files = {}
    for doc in guide.course_docs():
        for block in doc.blocks:
            if block.lang in guide.SHELL_LANGS:
                for name, (body, expands) in guide.script(block.text).files.items():
                    files.setdefault(name, guide.expand(body, guide.SAMPLE) if expands else body)
    return files


class CliCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory(prefix="labcheck-course-cli-")
        home = Path(cls.scratch.name)
        work = home / "environment" / "django"
        (work / "media").mkdir(parents=True)
        (work / "media" / "luna.jpeg").write_bytes(b"\xff\xd8\xff\xe0 a picture")
        for name, body in heredoc_files().items():
            if not name.startswith("~"):
                (work / name).parent.mkdir(parents=True, exist_ok=True)
                (work / name).write_text(body)
        # Files a command writes otherwise (`labcheck policy > x.json`).
        written = set()
        for doc in guide.course_docs():
            for block in doc.blocks:
                if block.lang in guide.SHELL_LANGS:
                    written.update(re.findall(r">\s*([\w.-]+\.(?:json|ya?ml))\b", block.text))
        for _, words, _ in found_commands():
            written.update(w[7:] for w in words if w.startswith("file://"))
        for name in written:
            if not (work / name).exists():
                (work / name).write_text("{}\n")
        cls.env = {
            # No real account, no network: fake credentials, no metadata
            # service, and an endpoint nobody listens on (requests are
            # answered before they are sent anyway).
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "AWS_SECRET_ACCESS_KEY": "example",
            "AWS_DEFAULT_REGION": "us-west-2",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
            "AWS_CONFIG_FILE": str(home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials"),
            "AWS_PAGER": "",
        }
        cls.saved = {k: os.environ.get(k) for k in cls.env}
        cls.saved["AWS_PROFILE"] = os.environ.pop("AWS_PROFILE", None)
        os.environ.update(cls.env)
        cls.aws = Aws(work)
        cls.commands = found_commands()

    @classmethod
    def tearDownClass(cls):
        for k, v in cls.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        cls.scratch.cleanup()

    def test_the_course_shows_commands_of_both_clis(self):
        aws = [w for _, w, run in self.commands if w[0] == "aws" and run]
        ebs = [w for _, w, run in self.commands if w[0] == "eb" and run]
        self.assertGreaterEqual(len(aws), 40, "the course's aws commands are found")
        self.assertGreaterEqual(len(ebs), 15, "the course's eb commands are found")

    def test_every_aws_command_is_valid(self):
        bad = []
        for where, words, runnable in self.commands:
            if words[0] != "aws":
                continue
            args = [guide.expand(w, guide.SAMPLE) for w in words[1:]]
            shown = f"{where}: aws {' '.join(args)}\n    -> "
            names, error = aws_options(self.aws.driver, args)
            if error:
                bad.append(shown + error)
                continue
            if names == "v2":
                continue
            unknown = unknown_options(args, names)
            if unknown:
                bad.append(shown + f"unknown options {unknown}")
                continue
            if not runnable:
                continue
            before = len(ANSWERED)
            rc, err = self.aws.run(args)
            unset = args[:2] == ["configure", "get"] and rc == 1  # a setting not set yet
            # A command that chains calls and reads their answers
            # (`cloudformation deploy`) stops at an empty answer: it is
            # valid as far as it got (its arguments parsed, its first
            # request validated), unless the error is about its input.
            chained = len(ANSWERED) > before and not re.search(INPUT_ERRORS, err)
            if rc != 0 and not unset and not chained:
                bad.append(shown + (err.splitlines()[-1] if err else f"exit {rc}"))
        self.assertEqual(bad, [], "invalid AWS CLI commands:\n" + "\n".join(bad))

    def test_every_eb_command_is_valid(self):
        bad = []
        for where, words, runnable in self.commands:
            if words[0] != "eb":
                continue
            args = [guide.expand(w, guide.SAMPLE) for w in words[1:]]
            ok, why = eb(args) if runnable else (True, "")
            if ok:  # options exactly as the EB CLI spells them
                ok, why = eb_mention(args)
            if not ok:
                bad.append(f"{where}: eb {' '.join(args)}\n    -> {why}")
        self.assertEqual(bad, [], "invalid EB CLI commands:\n" + "\n".join(bad))

    def test_the_validators_reject_what_the_clis_reject(self):
        # A typo in an option, a missing required option, a bad shorthand
        # value, an unknown operation: each must be caught.
        names, _ = aws_options(self.aws.driver, ["s3api", "put-bucket-cors"])
        self.assertEqual(unknown_options(["--bucket", "b", "--cors-config", "x"], names), ["--cors-config"])
        self.assertEqual(aws_options(self.aws.driver, ["rds", "frob"])[1], "`aws rds` has no command `frob`")
        for args in (
            ["s3api", "put-bucket-cors", "--bucket", "b"],
            ["ec2", "authorize-security-group-ingress", "--protocol", "tcp", "--port", "6379", "--group"],
            ["rds", "create-db-instance", "--engine", "mysql"],
            [
                "s3api",
                "put-public-access-block",
                "--bucket",
                "b",
                "--public-access-block-configuration",
                "BlockPublicAcl=true",
            ],
            ["elasticache", "create-serverless-caches", "--serverless-cache-name", "x", "--engine", "valkey"],
        ):
            rc, _ = self.aws.run(args)
            self.assertNotEqual(rc, 0, f"aws {' '.join(args)} should be rejected")
        for args in (
            ["create", "pets-project-env", "--instance_size", "t3.micro"],
            ["setenv", "RDS_USER_NAME"],
            ["deploi"],
        ):
            ok, _ = eb(args)
            self.assertFalse(ok, f"eb {' '.join(args)} should be rejected")
        ok, _ = eb(["create", "pets-project-env", "--database", "--single"])
        self.assertTrue(ok, "eb create --database is a real option")
        self.assertTrue(eb_mention(["create", "--instance_profile"])[0])
        self.assertFalse(eb_mention(["create", "--instance-profile"])[0])
        # argparse takes --instance-type as short for --instance-types (spot
        # instances): the exact-option check catches it.
        self.assertTrue(eb(["create", "e", "--instance-type", "t3.micro"])[0])
        self.assertFalse(eb_mention(["create", "e", "--instance-type", "t3.micro"])[0])
        self.assertFalse(eb_mention(["frob", "--single"])[0])

    def test_no_random_value_can_be_taken_for_an_option(self):
        """A value the course makes at random and then passes as an option's
        argument (`--master-user-password "$X"`) must not be able to start
        with `-`: the CLIs would read it as an option (one run in 64 did,
        with secrets.token_urlsafe). Hex digits cannot."""
        shell = "\n".join(
            block.text
            for doc in guide.course_docs()
            for block in doc.blocks
            if block.lang in guide.SHELL_LANGS
        )
        made = re.findall(r'export (\w+)=\$\(python3? -c "([^"]*)"\)', shell)
        self.assertTrue(made, "the course makes its secrets with python -c")
        risky = []
        for var, code in made:
            if "token_hex" in code:
                continue
            for m in re.finditer(r'(--[\w-]+)[ =]"?\$\{?' + var + r"\b", shell):
                risky.append(f"{m.group(1)} takes ${var}, made by `{code}`, which may start with -")
        self.assertEqual(risky, [])

    def test_the_shell_splitter(self):
        line = 'until [ "$(aws elasticache describe-serverless-caches --query "A[0]" --output text)" = available ]; do sleep 20; done'
        got = guide.commands(line)
        self.assertEqual(got[0][:3], ["aws", "elasticache", "describe-serverless-caches"])
        self.assertEqual(got[1][0], "[")
        self.assertEqual(got[2], ["sleep", "20"])
        got = guide.commands(
            'KEY=$(aws s3api list-objects-v2 --bucket "$BUCKET") && curl -fsS "$(aws s3 presign "s3://$BUCKET/$KEY")" # c'
        )
        self.assertEqual(
            [w[:3] for w in got],
            [["aws", "s3api", "list-objects-v2"], ["aws", "s3", "presign"], ["curl", "-fsS", "__SUBST__"]],
        )
        s = guide.script("cat > a.json <<'EOF'\n{\"$X\": 1}\nEOF\naws s3 ls \\\n  s3://b\n")
        self.assertEqual(s.lines, ["cat > a.json <<'EOF'", "aws s3 ls    s3://b"])
        self.assertEqual(s.files, {"a.json": ('{"$X": 1}\n', False)})


if __name__ == "__main__":
    unittest.main()
