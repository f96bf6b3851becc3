"""Shared names and helpers for sandbox/provision.py and sandbox/breaks.py.

The names are the lab's defaults (DESIGN.md §3); the endpoint and region come
from the same variables `sandbox/env` exports.
"""

import os
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
DEFAULT_ACCOUNT = "123456789012"
REGION = os.environ.get("SANDBOX_REGION", "us-west-2")
ENDPOINT = os.environ.get("SANDBOX_AWS_ENDPOINT_URL", "http://127.0.0.1:24566")
SECRET = "sandbox-secret"

CACHE_NAME = "pets-project"
DB_INSTANCE = "pets-project-mysql"
DB_SUBNET_GROUP = "pets-project-db-subnets"
DB_NAME = "pets"
DB_MASTER_USER = "admin"
DB_MASTER_PASSWORD = "sandbox-admin-password"
DB_USER = "django"
DB_PASSWORD = os.environ.get("RDS_USER_PASSWORD", "sandbox-db-password")
EB_APP = "pets-project-ebapp"
EB_ENV = "pets-project-env"
EB_STACK = "64bit Amazon Linux 2023 v4.6.0 running Python 3.11"
INSTANCE_PROFILE = "pets-project-ebInstanceProfile"
# The role has the profile's name, as the lab makes it ("wrap the role in an
# instance profile of the same name").
INSTANCE_ROLE = INSTANCE_PROFILE
MEDIA_POLICY = "pets-project-media"  # the role's inline policy on the media bucket
WEB_TIER_POLICY_ARN = "arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier"
EB_STACK_OLD = "64bit Amazon Linux 2 v3.5.0 running Python 3.8"  # the platform-mismatch fault
# Where Beanstalk gives an environment its variables: properties, and secrets
# (the ARN of a Secrets Manager secret or Parameter Store parameter).
EB_PROPERTIES_NS = "aws:elasticbeanstalk:application:environment"
EB_SECRETS_NS = "aws:elasticbeanstalk:application:environmentsecrets"
# Another instance profile an environment may use (the other-instance-profile fault).
OTHER_PROFILE = "pets-project-otherInstanceProfile"
OTHER_ROLE = "pets-project-otherInstanceRole"
# The environment's one instance (`eb create --single --instance_type t3.micro`
# in the guide), tagged by Elastic Beanstalk with its environment's name and
# id; the image is any id (moto runs no image).
EB_INSTANCE_TYPE = "t3.micro"
EB_IMAGE = "ami-0a1b2c3d4e5f60718"
EB_ENV_NAME_TAG = "elasticbeanstalk:environment-name"
EB_ENV_ID_TAG = "elasticbeanstalk:environment-id"
SG_EB = "pets-project-eb-sg"
SG_CACHE = "pets-project-cache-sg"
SG_DB = "pets-project-db-sg"


# The grader role an instructor assumes in each learner's account (labcheck
# cohort grade, DESIGN.md §12): trusted by the instructor's own principal (not
# their whole account) under the learner's external id, read-only (moto does
# not enforce IAM policies: the policy is for show; the launcher does enforce
# the trust policy on AssumeRole).
GRADER_ROLE = "labcheck-grader"
GRADER_POLICY = "labcheck-read-only"
GRADER_DESCRIPTION = "labcheck cohort grading: read-only, for the instructor's account"
DEFAULT_INSTRUCTOR = DEFAULT_ACCOUNT
DEFAULT_EXTERNAL_ID = "labcheck-sandbox"
GRADER_POLICY_DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "LabcheckReadOnly",
            "Effect": "Allow",
            "Resource": "*",
            "Action": [
                "sts:GetCallerIdentity",
                "s3:ListAllMyBuckets",
                "s3:ListBucket",
                "s3:GetBucketLocation",
                "s3:GetBucketCors",
                "s3:GetBucketPolicy",
                "s3:GetBucketPolicyStatus",
                "s3:GetBucketPublicAccessBlock",
                "s3:GetAccountPublicAccessBlock",
                "s3:GetBucketAcl",
                "s3:GetObject",
                "ec2:DescribeSecurityGroups",
                "ec2:DescribeVpcs",
                "ec2:GetManagedPrefixListEntries",
                "ec2:DescribeSubnets",
                "elasticache:DescribeServerlessCaches",
                "elasticache:DescribeReplicationGroups",
                "elasticache:DescribeCacheClusters",
                "rds:DescribeDBInstances",
                "rds:DescribeDBSubnetGroups",
                "elasticbeanstalk:DescribeApplications",
                "elasticbeanstalk:DescribeEnvironments",
                "elasticbeanstalk:DescribeConfigurationSettings",
                "elasticbeanstalk:DescribeEnvironmentHealth",
                "elasticbeanstalk:DescribeEvents",
                "iam:GetInstanceProfile",
                "iam:GetRole",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:ListAttachedRolePolicies",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
            ],
        }
    ],
}

# The account whose bucket holds the pictures `sandbox/provision --accounts`
# copies into every new account (filled once by load_pets, like any account).
TEMPLATE_ACCOUNT = os.environ.get("SANDBOX_TEMPLATE_ACCOUNT", "999999999999")


# The IAM user a 12-digit access key acts as in the sandbox (moto's default
# identity, which it names arn:aws:sts::ID:user/moto).
SANDBOX_USER = "moto"


def instructor_principal(instructor: str) -> str:
    """The principal a grader role trusts: an IAM role or user ARN as given,
    or for an account id the identity of that account's 12-digit key."""
    if instructor.startswith("arn:"):
        return instructor
    return f"arn:aws:iam::{instructor}:user/{SANDBOX_USER}"


def grader_trust(instructor: str, external_id: str) -> dict:
    """The grader role's trust policy, as `labcheck policy --role-template`
    writes it: the instructor's principal, with the learner's external id."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": instructor_principal(instructor)},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }


def bucket_name(account: str, region: str = REGION) -> str:
    return f"pets-project-{region}-{account}"


def client(service: str, account: str, region: str = REGION):
    """A boto3 client acting as `account` (the 12-digit key selects it)."""
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id=account,
        aws_secret_access_key=SECRET,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def s3control_client(account: str):
    """An S3 Control client acting as `account`. Its endpoint rules put the
    account id in front of the host name (ACCOUNT.s3-control.REGION on
    AWS), which names no host on the sandbox's endpoint: the request goes
    to the endpoint as given, the account in its x-amz-account-id header."""
    s3control = client("s3control", account)
    prefix = f"//{account}."

    def as_given(request, **_):
        request.url = request.url.replace(prefix, "//", 1)

    s3control.meta.events.register("before-sign.s3-control.*", as_given)
    return s3control


def valid_account(value: str) -> str:
    if not (len(value) == 12 and value.isdigit()):
        raise SystemExit(f"error: account id must be 12 digits, got {value!r}")
    return value


def valid_instructor(value: str) -> str:
    """--instructor: an account id, or an IAM role or user ARN."""
    import re

    if re.match(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$", value):
        return value
    return valid_account(value)


def add_grader_options(ap) -> None:
    """--instructor and --external-id: whom each account's grader role trusts,
    and the external id it requires (sandbox/provision, sandbox/cohort)."""
    ap.add_argument(
        "--instructor",
        default=DEFAULT_INSTRUCTOR,
        type=valid_instructor,
        help="whom the grader role labcheck-grader trusts: an IAM role or user ARN, or an "
        f"account id for that account's 12-digit key ({instructor_principal('ID')}); "
        f"default {DEFAULT_INSTRUCTOR}",
    )
    ap.add_argument(
        "--external-id",
        default=DEFAULT_EXTERNAL_ID,
        help=f"external id the grader role requires (default {DEFAULT_EXTERNAL_ID})",
    )


# ---- the pets site (labs/pets_project) ------------------------------------

STATE = HERE / ".state"
LOG_DIR = STATE / "logs"
# The reference project (source, never changed by the sandbox) and its
# deployed copy: what gunicorn serves, what labcheck grades through
# LABCHECK_PROJECT_DIR, and what the global faults damage.
APP_DIR = (HERE.parent / "labs" / "pets_project").resolve()
PROJECT_COPY = STATE / "project"
APP_PY = HERE / ".app-venv" / "bin" / "python"
APP_SECRETS = STATE / "app"
SECRET_KEY_FILE = APP_SECRETS / "django-secret-key"
ADMIN_PASSWORD_FILE = APP_SECRETS / "admin-password"
ADMIN_USER = "admin"
ADMIN_EMAIL = "admin@example.com"
SITE_CNAME = os.environ.get("SANDBOX_SITE_CNAME", "127.0.0.1:28000")  # nginx
GUNICORN_PORT = os.environ.get("SANDBOX_GUNICORN_PORT", "28001")  # behind nginx
MYSQL_PORT = os.environ.get("SANDBOX_MYSQL_PORT", "23306")
REDIS_PORT = os.environ.get("SANDBOX_REDIS_PORT", "26379")
REDIS_TLS_PORT = os.environ.get("SANDBOX_REDIS_TLS_PORT", "26380")
CA_FILE = STATE / "tls" / "ca.pem"
# The cache-requires-auth fault keeps its passwords here (owner-only); sandbox/up
# reads it to repair the fault. The app's user, as the lab's optional RBAC part names it.
REDIS_AUTH = STATE / "redis-auth.json"
CACHE_APP_USER = "pets-app"


def secret(path: Path, nbytes: int = 32) -> str:
    """The secret stored in `path`, generated once (0600, never printed)."""
    import secrets

    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its value
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(value + "\n")
    return value


def lab_properties(account: str = DEFAULT_ACCOUNT, region: str = REGION) -> dict:
    """The environment properties the lab's `eb create --envvars` gives the
    app, under the lab's names, with this sandbox's values for `account` in
    `region`: what the learner's commands would produce here (the RDS and
    cache endpoints moto reports, that account's bucket). tests/course holds
    the names to the lab's own command."""
    return {
        "RDS_DB_NAME": DB_NAME,
        "RDS_USER_NAME": DB_USER,
        "RDS_USER_PASSWORD": DB_PASSWORD,
        "RDS_HOSTNAME": "127.0.0.1",
        "RDS_PORT": MYSQL_PORT,
        "DJANGO_SECRET_KEY": secret(SECRET_KEY_FILE, 50),
        "AWS_STORAGE_BUCKET_NAME": bucket_name(account, region),
        "AWS_REGION": region,
        "CACHE_LOCATION": f"rediss://127.0.0.1:{REDIS_TLS_PORT}",
    }


def stand_ins(account: str = DEFAULT_ACCOUNT) -> dict:
    """What AWS gives a Beanstalk instance without any property, stood in for
    by the sandbox: the instance role's credentials (the account's key), S3's
    own endpoint (moto), and the CAs that ElastiCache's and RDS's
    certificates chain to (the sandbox's CA)."""
    return {
        "AWS_ACCESS_KEY_ID": account,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_S3_ENDPOINT_URL": ENDPOINT,
        "AWS_EC2_METADATA_DISABLED": "true",
        "CACHE_CA_FILE": str(CA_FILE),
        "RDS_CA_FILE": str(CA_FILE),
    }


def app_environ(account: str = DEFAULT_ACCOUNT, media_local: bool = False) -> dict:
    """The environment the pets project runs with in the sandbox, as the
    Beanstalk environment of `account` would give it: the lab's properties
    and the stand-ins for what AWS provides, nothing else. Starts from a
    clean slate (PATH, HOME, LANG only) so nothing from the caller's shell
    leaks in. No DJANGO_SERVE_STATIC: nginx serves /static/, as the
    platform's proxy does; DEBUG and ALLOWED_HOSTS keep the project's
    production defaults. `media_local` leaves the bucket out (the
    `media-local` fault): the settings then store media on the local disk."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ") if k in os.environ}
    env.update({"DJANGO_SETTINGS_MODULE": "pets_project.settings", "PYTHONDONTWRITEBYTECODE": "1"})
    env.update(lab_properties(account))
    env.update(stand_ins(account))
    if media_local:
        del env["AWS_STORAGE_BUCKET_NAME"]
    return env


def run_main(main) -> int:
    """Run a script's main(), turning "moto is not there" into one clear line."""
    from botocore.exceptions import EndpointConnectionError

    try:
        return main()
    except EndpointConnectionError:
        print(
            f"error: moto does not answer at {ENDPOINT}: run sandbox/up first", file=__import__("sys").stderr
        )
        return 1
