"""One set of names: the variables the lab saves to `~/pets-lab.env`, the
properties its `eb create --envvars` hands to Elastic Beanstalk, the
variables the reference project reads and those the sandbox gives it are the
same.

The lab's names are read from the lab file, the project's from its
settings, the sandbox's from `sandbox_common` (through the sandbox's own
Python) and from the Beanstalk environment moto holds: none is written again
here. That the reference project, given exactly the lab's properties, keeps
media in S3 and sessions in Redis is shown by the walkthrough
(test_walkthrough.py), which deploys it with the values the lab's commands
produced.
"""

import json
import os
import re
import subprocess
import unittest

import guide

ROOT = guide.ROOT
SANDBOX = ROOT / "sandbox"
SANDBOX_PY = SANDBOX / ".venv" / "bin" / "python"
VENV_BIN = guide.Path(os.environ.get("COURSE_VENV", ROOT / "tests" / "course" / ".venv")) / "bin"

# The AWS SDK's own configuration, which ~/.aws/config supplies in the IDE
# and sandbox/env in the sandbox's shell: not the lab's to name.
SDK_CONFIGURATION = {"AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"}

# The names of a Beanstalk environment's properties, as a --query.
PROPERTY_NAMES = (
    "ConfigurationSettings[0].OptionSettings"
    "[?Namespace=='aws:elasticbeanstalk:application:environment'].OptionName"
)

SANDBOX_NAMES = """
import json, sys
sys.path.insert(0, sys.argv[1])
import sandbox_common as c
print(json.dumps({
    "properties": sorted(c.lab_properties()),
    "stand_ins": sorted(c.stand_ins()),
    "environ": sorted(c.app_environ()),
    "media_local": sorted(c.app_environ(media_local=True)),
    "app": c.EB_APP,
    "env": c.EB_ENV,
}))
"""


def sandbox_names():
    """What sandbox_common gives the deployed project, by name."""
    if not SANDBOX_PY.exists():
        raise AssertionError(f"{SANDBOX_PY} is missing: start the sandbox with sandbox/up first")
    out = subprocess.run(
        [SANDBOX_PY, "-c", SANDBOX_NAMES, str(SANDBOX)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if out.returncode != 0:
        raise AssertionError(f"sandbox_common does not load: {out.stderr}")
    return json.loads(out.stdout)


def sandbox_env_exports():
    """The names sandbox/env exports."""
    return set(re.findall(r"^export (\w+)=", (SANDBOX / "env").read_text(), re.MULTILINE))


class LabNames(unittest.TestCase):
    """The lab against itself and against the reference project."""

    def setUp(self):
        self.lab = guide.lab()
        self.raw, self.properties = guide.beanstalk_properties(self.lab)
        self.saved = guide.saved_names(self.lab)
        self.reads = guide.reference_reads()

    def test_each_property_passes_the_variable_of_its_own_name(self):
        wrong = [pair for pair in self.raw.split(",") if pair != "{0}=${0}".format(pair.split("=", 1)[0])]
        self.assertEqual(
            wrong, [], "each property is NAME=$NAME, so shell, settings and Beanstalk share one name"
        )
        self.assertEqual(len(self.properties), len(set(self.properties)), self.properties)

    def test_every_property_is_saved_and_read_by_the_reference_project(self):
        self.assertEqual(
            [p for p in self.properties if p not in self.saved],
            [],
            "properties whose variable ~/pets-lab.env does not hold (a new terminal would pass them empty)",
        )
        self.assertEqual(
            [p for p in self.properties if p not in self.reads],
            [],
            "properties the reference project (labs/pets_project) does not read under that name",
        )

    def test_the_parsers_see_what_they_should(self):
        # The lab's heredoc and echo forms, and the reference project's readers.
        self.assertIn("AWS_STORAGE_BUCKET_NAME", self.saved)
        self.assertIn("CACHE_LOCATION", self.saved)
        self.assertIn("DJANGO_CSRF_TRUSTED_ORIGINS", self.reads)  # env_list(...)
        self.assertIn("DJANGO_DEBUG", self.reads)  # env_flag(...)
        with self.assertRaises(KeyError):
            guide.expand_strictly("A=$A,B=$B", {"A": "1"})
        self.assertEqual(guide.expand_strictly("A=$A,B=${B}", {"A": "1", "B": "2"}), "A=1,B=2")


class SandboxNames(unittest.TestCase):
    """The sandbox gives the project the lab's names, and only stand-ins for
    what AWS itself provides besides."""

    @classmethod
    def setUpClass(cls):
        lab = guide.lab()
        cls.raw, cls.properties = guide.beanstalk_properties(lab)
        cls.saved = set(guide.saved_names(lab))
        cls.reads = set(guide.reference_reads())
        cls.sandbox = sandbox_names()

    def test_the_deployed_project_gets_the_labs_properties_and_stand_ins_only(self):
        self.assertEqual(self.sandbox["properties"], sorted(self.properties))
        environ = set(self.sandbox["environ"])
        stand_ins = set(self.sandbox["stand_ins"])
        process = {
            "PATH",
            "HOME",
            "LANG",
            "LC_ALL",
            "TZ",
            "DJANGO_SETTINGS_MODULE",
            "PYTHONDONTWRITEBYTECODE",
        }
        self.assertEqual(sorted(environ - set(self.properties) - stand_ins - process), [])
        # A stand-in is never one of the lab's names: it would hide a missing property.
        self.assertEqual(sorted(stand_ins & (self.saved | set(self.properties))), [])
        # The media-local fault is the bucket's property missing, nothing else.
        self.assertEqual(environ - set(self.sandbox["media_local"]), {"AWS_STORAGE_BUCKET_NAME"})

    def test_the_shell_of_sandbox_env_holds_the_labs_names(self):
        exports = sandbox_env_exports()
        stand_ins = set(self.sandbox["stand_ins"])
        # Every variable the lab saves and the project reads is there ...
        self.assertEqual(sorted((self.saved & self.reads) - exports), [])
        # ... and no name the project reads that the lab never sets.
        foreign = (exports & self.reads) - self.saved - stand_ins - SDK_CONFIGURATION
        self.assertEqual(sorted(foreign), [], "sandbox/env sets names the lab does not tell learners to set")

    def test_the_sandboxs_beanstalk_environment_has_the_labs_properties(self):
        env = dict(os.environ)
        env.update(
            dict(
                re.findall(
                    r"^export (AWS_ENDPOINT_URL|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY_ID)=(\S+)$",
                    (SANDBOX / "env").read_text(),
                    re.MULTILINE,
                )
            )
        )
        env.update({"AWS_DEFAULT_REGION": "us-west-2", "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""})
        env.pop("AWS_PROFILE", None)
        out = subprocess.run(
            [
                VENV_BIN / "aws",
                "elasticbeanstalk",
                "describe-configuration-settings",
                "--application-name",
                self.sandbox["app"],
                "--environment-name",
                self.sandbox["env"],
                "--query",
                PROPERTY_NAMES,
                "--output",
                "json",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if out.returncode != 0:
            self.fail(
                f"the sandbox's Beanstalk environment cannot be read (is the sandbox up?): {out.stderr}"
            )
        self.assertEqual(sorted(json.loads(out.stdout)), sorted(self.properties))


if __name__ == "__main__":
    unittest.main()
