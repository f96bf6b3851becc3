"""Introduce one named fault into the sandbox.

Run through sandbox/break. SCENARIOS is plain data (name -> description,
scope, red, expect and function): write a function taking the account id, add
one entry. `red` lists the checks the fault must turn red in a full
`labcheck check` of the lab, and nothing else; `expect` (optional) names
other checks and the verdict they must give (`pass` for a real state a
correct lab may be in, `error` for one that cannot be graded yet): the integration test
`scenarios::every_fault_turns_exactly_its_checks_red` breaks each scenario and
holds it to that list (`sandbox/break --list --json` is how it reads them),
and `scenarios::every_check_has_a_fault_and_a_pass` fails when a check of the
lab is in no scenario's list.
`sandbox/up` repairs every scenario (of the default account; `sandbox/provision
--account ID` repairs another account's).

Scope: "account" faults change moto state in one account only; "global" faults
act on what all accounts share (the Redis and MariaDB servers, the pets
database, the sessions in Redis, the deployed project copy in .state/project
and the site that serves it): --account is accepted and ignored, and every
account sees the fault.
"""

import argparse
import difflib
import json
import os
import re
import subprocess
import sys

import pidfile
import provision
import sandbox_common as c


def _empty_bucket(s3, bucket: str) -> int:
    n = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objs = [
            {"Key": o["Key"], "VersionId": o["VersionId"]}
            for o in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if objs:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": objs, "Quiet": True})
            n += len(objs)
    return n


def break_no_bucket(account: str) -> str:
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    _empty_bucket(s3, bucket)
    s3.delete_bucket(Bucket=bucket)
    return f"deleted bucket {bucket} and its objects"


def break_no_cors(account: str) -> str:
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    s3.delete_bucket_cors(Bucket=bucket)
    return f"deleted the CORS configuration of {bucket}"


def _bucket_policy(account: str, statement: dict, block_off: bool) -> str:
    """Gives the media bucket a policy of one statement (its Resource: the
    bucket's objects unless it names one), its public access block deleted
    first if `block_off`. Returns the bucket's name."""
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    if block_off:
        s3.delete_public_access_block(Bucket=bucket)
    statement = {"Resource": f"arn:aws:s3:::{bucket}/*", **statement}
    s3.put_bucket_policy(
        Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    return bucket


def break_public_bucket(account: str) -> str:
    grant = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}
    bucket = _bucket_policy(account, grant, block_off=True)
    return f"turned the public access block off and made {bucket} world-readable by policy"


def break_account_block_only(account: str) -> str:
    """The bucket's own Block Public Access goes; the account's blocks all."""
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    s3.delete_public_access_block(Bucket=bucket)
    c.s3control_client(account).put_public_access_block(
        AccountId=account, PublicAccessBlockConfiguration=provision.PRIVATE_BLOCK
    )
    return (
        f"deleted the public access block of {bucket}; the account {account} blocks public access (all four)"
    )


def break_public_policy_condition(account: str) -> str:
    """A policy granting everyone s3:GetObject under a condition anyone
    meets (TLS): still public."""
    grant = {
        "Sid": "PublicReadOverTls",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    bucket = _bucket_policy(account, grant, block_off=True)
    return f"turned the public access block of {bucket} off; its policy grants everyone s3:GetObject over TLS"


def break_policy_denies_location(account: str) -> str:
    """The learner's own bucket policy denies s3:GetBucketLocation: S3
    answers 403, as it does for a stranger's bucket."""
    bucket = c.bucket_name(account)
    deny = {
        "Sid": "NoLocation",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetBucketLocation",
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    _bucket_policy(account, deny, block_off=False)
    return f"the policy of {bucket} denies s3:GetBucketLocation to everyone"


def break_empty_bucket(account: str) -> str:
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    n = _empty_bucket(s3, bucket)
    return f"deleted all {n} objects of {bucket}"


def break_archived_media(account: str) -> str:
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    keys = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    ]
    for key in keys:
        s3.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource={"Bucket": bucket, "Key": key},
            StorageClass="GLACIER",
            MetadataDirective="COPY",
        )
    return f"moved all {len(keys)} objects of {bucket} to the GLACIER storage class"


# ---- cache and database: per account (moto) --------------------------------


def _group_id(account: str, name: str) -> str:
    ec2 = c.client("ec2", account)
    groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])[
        "SecurityGroups"
    ]
    if not groups:
        raise SystemExit(f"error: no security group {name} in account {account}: provision it first")
    return groups[0]["GroupId"]


def _revoke_port(account: str, name: str, port: int) -> str:
    ec2 = c.client("ec2", account)
    gid = _group_id(account, name)
    perms = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["IpPermissions"]
    gone = [
        p
        for p in perms
        if p.get("FromPort") is not None and p["FromPort"] <= port <= p.get("ToPort", p["FromPort"])
    ]
    for p in gone:
        keep = {
            k: v
            for k, v in p.items()
            if k
            in (
                "IpProtocol",
                "FromPort",
                "ToPort",
                "UserIdGroupPairs",
                "IpRanges",
                "Ipv6Ranges",
                "PrefixListIds",
            )
            and v
        }
        for pair in keep.get("UserIdGroupPairs", []):
            for k in list(pair):
                if k not in ("GroupId", "UserId"):
                    pair.pop(k)
        ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[keep])
    return f"revoked {len(gone)} inbound rule(s) for port {port} from {name} ({gid})"


def break_cache_sg_closed(account: str) -> str:
    return _revoke_port(account, c.SG_CACHE, int(c.REDIS_TLS_PORT))


def break_db_sg_closed(account: str) -> str:
    return _revoke_port(account, c.SG_DB, int(c.MYSQL_PORT))


def break_db_sg_prefix_list(account: str) -> str:
    """The DB security group admits its port from a managed prefix list
    holding the VPC's range, instead of from the EB group: still the EB
    instances, which live in that range."""
    ec2 = c.client("ec2", account)
    gid = _group_id(account, c.SG_DB)
    vpc_id = ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]["VpcId"]
    cidr = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["CidrBlock"]
    pl = ec2.create_managed_prefix_list(
        PrefixListName="pets-project-vpc",
        MaxEntries=5,
        AddressFamily="IPv4",
        Entries=[{"Cidr": cidr, "Description": "the lab's VPC"}],
    )["PrefixList"]["PrefixListId"]
    gone = _revoke_port(account, c.SG_DB, int(c.MYSQL_PORT))
    port = int(c.MYSQL_PORT)
    ec2.authorize_security_group_ingress(
        GroupId=gid,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "PrefixListIds": [{"PrefixListId": pl}]}
        ],
    )
    return f"{gone}; {c.SG_DB} admits {port} from prefix list {pl} ({cidr}, the VPC's range)"


def break_cache_no_tls(account: str) -> str:
    ec = c.client("elasticache", account)
    sg = _group_id(account, c.SG_CACHE)
    try:
        ec.delete_serverless_cache(ServerlessCacheName=c.CACHE_NAME)
    except ec.exceptions.ClientError as err:
        if err.response["Error"]["Code"] != "ServerlessCacheNotFoundFault":
            raise
    ec.create_replication_group(
        ReplicationGroupId=c.CACHE_NAME,
        ReplicationGroupDescription="pets project sessions",
        Engine="redis",
        EngineVersion="7.1",
        CacheNodeType="cache.t4g.micro",
        NumCacheClusters=1,
        Port=6379,
        TransitEncryptionEnabled=False,
        SecurityGroupIds=[sg],
    )
    group = ec.describe_replication_groups(ReplicationGroupId=c.CACHE_NAME)["ReplicationGroups"][0]
    ep = group["NodeGroups"][0]["PrimaryEndpoint"]
    return (
        f"replaced serverless cache {c.CACHE_NAME} by replication group {c.CACHE_NAME} "
        f"(redis, encryption in transit off) at {ep['Address']}:{ep['Port']} (plain Redis)"
    )


# ---- shared servers and the pets database: global -----------------------------


def _stop(name: str, pattern: str) -> str:
    try:
        pid = pidfile.stop(c.STATE / f"{name}.pid", pattern)
    except TimeoutError as err:
        raise SystemExit(f"error: {name}: {err}") from None
    return f"stopped {name} (pid {pid})" if pid else f"{name} was not running"


def _sql(statements: str) -> str:
    env = dict(os.environ, MYSQL_PWD=c.DB_PASSWORD)
    proc = subprocess.run(
        [
            "mariadb",
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            c.MYSQL_PORT,
            "-u",
            c.DB_USER,
            "--batch",
            "--skip-column-names",
            c.DB_NAME,
            "-e",
            statements,
        ],
        check=False,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"error: SQL failed: {proc.stderr.strip()}")
    return proc.stdout


def _redis(*args: str) -> str:
    proc = subprocess.run(
        [
            "redis-cli",
            "--tls",
            "--cacert",
            str(c.CA_FILE),
            "-h",
            "127.0.0.1",
            "-p",
            c.REDIS_TLS_PORT,
            "-n",
            "0",
            *args,
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"error: redis-cli failed: {proc.stderr.strip()}")
    return proc.stdout


def break_cache_down(account: str) -> str:
    return _stop("redis", "redis-server") + " (plain :26379 and TLS :26380)"


def break_db_down(account: str) -> str:
    return _stop("mariadb", "mariadbd|mysqld")


def break_cache_requires_auth(account: str) -> str:
    """Redis as a serverless cache with a user group attached (ElastiCache RBAC):
    the app's user signs in with a password, a client that does not sign in
    gets NOAUTH. The passwords are kept in c.REDIS_AUTH (owner-only) for the
    tests and for sandbox/up, which repairs the fault."""
    import secrets

    admin, app = secrets.token_hex(16), secrets.token_hex(20)
    c.REDIS_AUTH.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(c.REDIS_AUTH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"admin": admin, "user": c.CACHE_APP_USER, "password": app}, f)
    _redis("ACL", "SETUSER", c.CACHE_APP_USER, "reset", "on", f">{app}", "~*", "&*", "+@all")
    _redis("ACL", "SETUSER", "default", "resetpass", f">{admin}")
    return f"Redis requires signing in: user {c.CACHE_APP_USER}, its password in {c.REDIS_AUTH}"


def break_no_sessions(account: str) -> str:
    keys = _redis("--scan", "--pattern", "*django.contrib.sessions.cache*").split()
    for i in range(0, len(keys), 100):
        _redis("DEL", *keys[i : i + 100])
    return f"deleted {len(keys)} Django session key(s) from Redis"


def break_missing_migration(account: str) -> str:
    _sql(
        "DROP TABLE IF EXISTS pets_app_vetvisit; "
        "DELETE FROM django_migrations WHERE app = 'pets_app' AND name = '0001_initial';"
    )
    return "dropped table pets_app_vetvisit and the pets_app 0001_initial migration record"


LAB_TABLES = [
    "pets_app_vetvisit",
    "pets_app_vaccinationcard",
    "pets_app_pet_breed",
    "pets_app_pet",
    "pets_app_breed",
]


def break_empty_tables(account: str) -> str:
    _sql(" ".join(f"DELETE FROM {t};" for t in LAB_TABLES))
    return f"deleted every row of {', '.join(LAB_TABLES)}"


def break_no_superuser(account: str) -> str:
    n = _sql("SELECT COUNT(*) FROM auth_user WHERE is_superuser = 1;").strip()
    supers = "SELECT id FROM auth_user WHERE is_superuser = 1"
    _sql(
        f"DELETE FROM django_admin_log WHERE user_id IN ({supers}); "
        f"DELETE FROM auth_user_groups WHERE user_id IN ({supers}); "
        f"DELETE FROM auth_user_user_permissions WHERE user_id IN ({supers}); "
        "DELETE FROM auth_user WHERE is_superuser = 1;"
    )
    return f"deleted {n} superuser(s) from auth_user"


# ---- Elastic Beanstalk: per account (moto) ----------------------------------


def _env_arn(account: str) -> str:
    eb = c.client("elasticbeanstalk", account)
    envs = eb.describe_environments(ApplicationName=c.EB_APP, EnvironmentNames=[c.EB_ENV])["Environments"]
    if not envs:
        raise SystemExit(f"error: no environment {c.EB_ENV} in account {account}: provision it first")
    return envs[0]["EnvironmentArn"]


def break_health_red(account: str) -> str:
    eb = c.client("elasticbeanstalk", account)
    eb.update_tags_for_resource(
        ResourceArn=_env_arn(account), TagsToAdd=[{"Key": "sandbox:health", "Value": "Red"}]
    )
    return (
        f"environment {c.EB_ENV} is Red (HealthStatus Severe; cause and ERROR event: "
        "100.0 % of the requests are failing with HTTP 5xx)"
    )


def break_no_db_envvars(account: str) -> str:
    eb = c.client("elasticbeanstalk", account)
    _env_arn(account)
    ns = c.EB_PROPERTIES_NS
    names = ["RDS_USER_NAME", "RDS_USER_PASSWORD"]
    eb.update_environment(
        EnvironmentName=c.EB_ENV, OptionsToRemove=[{"Namespace": ns, "OptionName": n} for n in names]
    )
    return f"removed the environment properties {' and '.join(names)} from {c.EB_ENV}"


def break_role_no_s3(account: str) -> str:
    iam = c.client("iam", account)
    role = c.INSTANCE_ROLE
    try:
        inline = iam.list_role_policies(RoleName=role)["PolicyNames"]
    except iam.exceptions.NoSuchEntityException:
        raise SystemExit(f"error: no role {role} in account {account}: provision it first")
    for name in inline:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    detached = []
    for att in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        if att["PolicyArn"] != c.WEB_TIER_POLICY_ARN:
            iam.detach_role_policy(RoleName=role, PolicyArn=att["PolicyArn"])
            detached.append(att["PolicyName"])
    gone = inline + detached
    return (
        f"role {role} lost {', '.join(gone) or 'no policy'}: it keeps only "
        "AWSElasticBeanstalkWebTier (S3 on elasticbeanstalk-* buckets), nothing on the media bucket"
    )


def break_platform_mismatch(account: str) -> str:
    eb = c.client("elasticbeanstalk", account)
    _env_arn(account)
    eb.update_environment(EnvironmentName=c.EB_ENV, SolutionStackName=c.EB_STACK_OLD)
    return f'environment {c.EB_ENV} now runs on "{c.EB_STACK_OLD}" (Django 5.2 needs Python 3.10+)'


def _tag_env(account: str, **tags: str) -> None:
    eb = c.client("elasticbeanstalk", account)
    eb.update_tags_for_resource(
        ResourceArn=_env_arn(account),
        TagsToAdd=[{"Key": f"sandbox:{k}", "Value": v} for k, v in tags.items()],
    )


def break_eb_updating(account: str) -> str:
    _tag_env(account, status="Updating")
    return f"environment {c.EB_ENV} is Updating (as during an eb deploy or eb setenv)"


def break_health_yellow_4xx(account: str) -> str:
    """A learner without the rule that ignores the app's 4xx answers, whose
    environment turns Yellow from them alone."""
    _tag_env(account, health="Yellow", causes="4xx")
    c.client("elasticbeanstalk", account).update_environment(
        EnvironmentName=c.EB_ENV,
        OptionsToRemove=[
            {"Namespace": "aws:elasticbeanstalk:healthreporting:system", "OptionName": "ConfigDocument"}
        ],
    )
    return (
        f"environment {c.EB_ENV} has no rule ignoring the app's 4xx answers and is Yellow (Warning) "
        "only because of them (cause: 42.9 % of the requests are erroring with HTTP 4xx.)"
    )


def break_health_yellow_impaired(account: str) -> str:
    _tag_env(account, health="Yellow", causes="impaired")
    return f"environment {c.EB_ENV} is Yellow (Warning): Impaired services on 1 out of 1 instance."


def break_password_in_secrets(account: str) -> str:
    """The password moves from the environment properties to the secrets
    namespace, as the ARN of a Secrets Manager secret holding it."""
    sm = c.client("secretsmanager", account)
    name = "pets-project/db-password"
    try:
        arn = sm.create_secret(Name=name, SecretString=c.DB_PASSWORD)["ARN"]
    except sm.exceptions.ResourceExistsException:
        arn = sm.describe_secret(SecretId=name)["ARN"]
    eb = c.client("elasticbeanstalk", account)
    _env_arn(account)
    eb.update_environment(
        EnvironmentName=c.EB_ENV,
        OptionSettings=[
            {"Namespace": c.EB_SECRETS_NS, "OptionName": "RDS_USER_PASSWORD", "Value": arn},
        ],
        OptionsToRemove=[{"Namespace": c.EB_PROPERTIES_NS, "OptionName": "RDS_USER_PASSWORD"}],
    )
    return f"RDS_USER_PASSWORD of {c.EB_ENV} is now the secret {arn} (aws:elasticbeanstalk:application:environmentsecrets)"


def break_other_instance_profile(account: str) -> str:
    """The environment runs with another instance profile, whose role has
    the web tier policy only; the lab's profile keeps its media policy."""
    iam = c.client("iam", account)
    try:
        iam.create_role(RoleName=c.OTHER_ROLE, AssumeRolePolicyDocument=json.dumps(provision.INSTANCE_TRUST))
        iam.attach_role_policy(RoleName=c.OTHER_ROLE, PolicyArn=c.WEB_TIER_POLICY_ARN)
        iam.create_instance_profile(InstanceProfileName=c.OTHER_PROFILE)
        iam.add_role_to_instance_profile(InstanceProfileName=c.OTHER_PROFILE, RoleName=c.OTHER_ROLE)
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    arn = iam.get_instance_profile(InstanceProfileName=c.OTHER_PROFILE)["InstanceProfile"]["Arn"]
    c.client("elasticbeanstalk", account).update_environment(
        EnvironmentName=c.EB_ENV,
        OptionSettings=[
            {
                "Namespace": "aws:autoscaling:launchconfiguration",
                "OptionName": "IamInstanceProfile",
                "Value": arn,
            }
        ],
    )
    return (
        f"environment {c.EB_ENV} uses instance profile {arn} (role {c.OTHER_ROLE}: web tier policy only); "
        f"{c.INSTANCE_PROFILE} is unchanged"
    )


# ---- the database's state: per account (moto) ------------------------------------


def _db_status(account: str, status: str) -> str:
    rds = c.client("rds", account)
    arn = rds.describe_db_instances(DBInstanceIdentifier=c.DB_INSTANCE)["DBInstances"][0]["DBInstanceArn"]
    rds.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "sandbox:status", "Value": status}])
    return f"DB instance {c.DB_INSTANCE} is {status}"


def break_db_backing_up(account: str) -> str:
    return _db_status(account, "backing-up")


def break_db_storage_optimization(account: str) -> str:
    return _db_status(account, "storage-optimization") + " (after a storage change; it can last hours)"


def break_db_stopped(account: str) -> str:
    c.client("rds", account).stop_db_instance(DBInstanceIdentifier=c.DB_INSTANCE)
    return f"stopped DB instance {c.DB_INSTANCE} (StopDBInstance)"


# ---- the deployed project copy and the site: global ----------------------------


def _copy_file(rel: str):
    path = c.PROJECT_COPY / rel
    if not path.is_file():
        raise SystemExit(f"error: no {path}: run sandbox/up first (it deploys the project copy)")
    return path


def _append(rel: str, lines: str):
    """Appends `lines` to a file of the project copy, on a line of their own."""
    path = _copy_file(rel)
    text = path.read_text()
    if text and not text.endswith("\n"):
        text += "\n"
    path.write_text(text + lines)
    return path


def _restart_app(media_local: bool = False) -> str:
    import app

    app.start(media_local=media_local, force=True)
    return "gunicorn restarted"


def break_debug_on(account: str) -> str:
    settings = _append("pets_project/settings.py", "\n# Added while debugging a deployment\nDEBUG = True\n")
    return (
        f"appended DEBUG = True to {settings} and {_restart_app()}: unknown URLs show Django's debug 404 page"
    )


def break_static_missing(account: str) -> str:
    import shutil

    root = c.PROJECT_COPY / "static"
    n = 0
    if root.is_dir():
        for entry in root.iterdir():
            n += 1
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
    root.mkdir(parents=True, exist_ok=True)
    return f"emptied STATIC_ROOT {root} ({n} entries removed): /static/ answers 404"


def break_media_local(account: str) -> str:
    return (
        f"{_restart_app(media_local=True)} without AWS_STORAGE_BUCKET_NAME: media on the "
        "local disk, pictures shown as /media/... (the project copy is unchanged)"
    )


def break_hardcoded_password(account: str) -> str:
    settings = _copy_file("pets_project/settings.py")
    text = settings.read_text()
    new, n = re.subn(
        r'("PASSWORD"\s*:\s*)(?!["\'])[^,\n]+',
        lambda m: m.group(1) + json.dumps(c.DB_PASSWORD),
        text,
        count=1,
    )
    if n == 0:
        raise SystemExit(f'error: no "PASSWORD": entry to replace in {settings}')
    settings.write_text(new)
    return f"wrote the database password as a string literal into DATABASES in {settings}"


def break_awsebcli_in_requirements(account: str) -> str:
    req = _append("requirements.txt", "awsebcli==3.20.10\n")
    return f"appended awsebcli==3.20.10 to {req}"


def break_bad_wsgipath(account: str) -> str:
    conf = _copy_file(".ebextensions/django.config")
    text = conf.read_text()
    new, n = re.subn(r"(WSGIPath:\s*)\S+", r"\1pets_project.wsgi_missing:application", text, count=1)
    if n == 0:
        raise SystemExit(f"error: no WSGIPath in {conf}")
    conf.write_text(new)
    return f"WSGIPath in {conf} now names pets_project.wsgi_missing:application (no such module; the app keeps running)"


# ---- whole resources gone: per account (moto) ----------------------------------


def break_no_cache(account: str) -> str:
    c.client("elasticache", account).delete_serverless_cache(ServerlessCacheName=c.CACHE_NAME)
    return f"deleted the serverless cache {c.CACHE_NAME}"


def break_no_db_instance(account: str) -> str:
    c.client("rds", account).delete_db_instance(DBInstanceIdentifier=c.DB_INSTANCE, SkipFinalSnapshot=True)
    return f"deleted the DB instance {c.DB_INSTANCE} (no final snapshot)"


def break_no_eb_app(account: str) -> str:
    c.client("elasticbeanstalk", account).delete_application(
        ApplicationName=c.EB_APP, TerminateEnvByForce=True
    )
    return f"deleted the Beanstalk application {c.EB_APP} and its environment"


# ---- the site and the deployment checklist: global ------------------------------


def break_site_down(account: str) -> str:
    return _stop("nginx", "nginx") + ": the site's URL answers nothing"


def break_deploy_check_error(account: str) -> str:
    settings = _append("pets_project/settings.py", '\nSECURE_REFERRER_POLICY = "same-origin-please"\n')
    return (
        f"appended an invalid SECURE_REFERRER_POLICY to {settings}: "
        "`manage.py check --deploy` reports error security.E023 (the app keeps running)"
    )


SCENARIOS = {
    "no-bucket": {
        "description": "the media bucket does not exist (deleted with its objects)",
        "scope": "account",
        "red": ["s3.bucket"],
        "run": break_no_bucket,
    },
    "no-cors": {
        "description": "the media bucket has no CORS configuration",
        "scope": "account",
        "red": ["s3.cors"],
        "run": break_no_cors,
    },
    "public-bucket": {
        "description": "public access block off and a policy granting s3:GetObject to everyone",
        "scope": "account",
        "red": ["s3.private"],
        "run": break_public_bucket,
    },
    "account-block-only": {
        "description": "the bucket has no public access block of its own; the account's blocks everything",
        "scope": "account",
        "red": [],
        "expect": {"s3.private": "pass"},
        "run": break_account_block_only,
    },
    "public-policy-condition": {
        "description": "public access block off and a policy granting everyone s3:GetObject under a condition anyone meets",
        "scope": "account",
        "red": ["s3.private"],
        "run": break_public_policy_condition,
    },
    "policy-denies-location": {
        "description": "the bucket's own policy denies s3:GetBucketLocation (a 403, as for a stranger's bucket)",
        "scope": "account",
        "red": [],
        "expect": {"s3.bucket": "pass"},
        "run": break_policy_denies_location,
    },
    "empty-bucket": {
        "description": "the media bucket exists but holds no objects",
        "scope": "account",
        "red": ["s3.media"],
        "run": break_empty_bucket,
    },
    "archived-media": {
        "description": "every media object is archived (GLACIER), so downloads fail",
        "scope": "account",
        "red": ["s3.presigned"],
        "run": break_archived_media,
    },
    "cache-no-tls": {
        "description": "the serverless cache is replaced by a replication group with "
        "encryption in transit off (plain endpoint 127.0.0.1:26379)",
        "scope": "account",
        "red": ["cache.tls"],
        "run": break_cache_no_tls,
    },
    "cache-sg-closed": {
        "description": "the cache security group no longer admits the cache port (6379 on AWS) from the EB group",
        "scope": "account",
        "red": ["cache.network"],
        "run": break_cache_sg_closed,
    },
    "db-sg-closed": {
        "description": "the DB security group no longer admits the DB port (3306 on AWS) from the EB group",
        "scope": "account",
        "red": ["rds.network"],
        "run": break_db_sg_closed,
    },
    "db-sg-prefix-list": {
        "description": "the DB security group admits the DB port from a prefix list holding the VPC's range, not from the EB group",
        "scope": "account",
        "red": [],
        "expect": {"rds.network": "pass"},
        "run": break_db_sg_prefix_list,
    },
    "cache-down": {
        "description": "the Redis server is stopped (plain and TLS ports)",
        "scope": "global",
        "red": ["cache.reachable"],
        "run": break_cache_down,
    },
    "cache-requires-auth": {
        "description": "the cache requires signing in, as ElastiCache does with a user group (RBAC) attached",
        "scope": "global",
        "red": ["cache.reachable"],
        "run": break_cache_requires_auth,
    },
    "no-sessions": {
        "description": "no Django session key in Redis",
        "scope": "global",
        "red": ["cache.sessions"],
        "run": break_no_sessions,
    },
    "db-down": {
        "description": "the MariaDB server is stopped",
        "scope": "global",
        "red": ["rds.reachable", "eb.site"],
        "run": break_db_down,
    },
    "missing-migration": {
        "description": "table pets_app_vetvisit dropped and pets_app 0001_initial unrecorded",
        "scope": "global",
        "red": ["rds.migrated"],
        "run": break_missing_migration,
    },
    "empty-tables": {
        "description": "the lab tables (breeds, pets, cards, visits) hold no rows",
        "scope": "global",
        "red": ["rds.data", "eb.media"],
        "run": break_empty_tables,
    },
    "no-superuser": {
        "description": "no Django superuser in auth_user",
        "scope": "global",
        "red": ["rds.superuser"],
        "run": break_no_superuser,
    },
    "health-red": {
        "description": "the Beanstalk environment's health is Red (Severe, HTTP 5xx cause, an ERROR event)",
        "scope": "account",
        "red": ["eb.env"],
        "run": break_health_red,
    },
    "eb-updating": {
        "description": "the environment is Updating, as during every eb deploy or eb setenv",
        "scope": "account",
        "red": [],
        "expect": {"eb.env": "error", "eb.envvars": "error", "eb.site": "error"},
        "run": break_eb_updating,
    },
    "health-yellow-4xx": {
        "description": "the environment is Yellow (Warning) only because the app answers many requests with 4xx",
        "scope": "account",
        "red": [],
        "expect": {"eb.env": "pass"},
        "run": break_health_yellow_4xx,
    },
    "health-yellow-impaired": {
        "description": "the environment is Yellow (Warning): impaired services on its instance",
        "scope": "account",
        "red": ["eb.env"],
        "run": break_health_yellow_impaired,
    },
    "db-backing-up": {
        "description": "the DB instance is backing-up (up and serving)",
        "scope": "account",
        "red": [],
        "expect": {"rds.instance": "pass"},
        "run": break_db_backing_up,
    },
    "db-storage-optimization": {
        "description": "the DB instance is in storage-optimization (up and serving, for hours)",
        "scope": "account",
        "red": [],
        "expect": {"rds.instance": "pass"},
        "run": break_db_storage_optimization,
    },
    "db-stopped": {
        "description": "the DB instance is stopped",
        "scope": "account",
        "red": ["rds.instance"],
        "run": break_db_stopped,
    },
    "password-in-secrets": {
        "description": "the database password reaches the app as a Secrets Manager secret (environmentsecrets), not a property",
        "scope": "account",
        "red": [],
        "expect": {"eb.envvars": "pass"},
        "run": break_password_in_secrets,
    },
    "other-instance-profile": {
        "description": "the environment uses another instance profile, whose role cannot reach the media bucket",
        "scope": "account",
        "red": ["eb.role"],
        "run": break_other_instance_profile,
    },
    "no-db-envvars": {
        "description": "the environment properties RDS_USER_NAME and RDS_USER_PASSWORD are gone",
        "scope": "account",
        "red": ["eb.envvars"],
        "run": break_no_db_envvars,
    },
    "role-no-s3": {
        "description": "the instance role keeps no policy on the media bucket (web tier policy only)",
        "scope": "account",
        "red": ["eb.role"],
        "run": break_role_no_s3,
    },
    "platform-mismatch": {
        "description": f'the environment runs on "{c.EB_STACK_OLD}", too old for Django 5.2',
        "scope": "account",
        "red": ["eb.platform"],
        "run": break_platform_mismatch,
    },
    "debug-on": {
        "description": "the deployed settings end with DEBUG = True and the app is restarted (debug 404 page)",
        "scope": "global",
        "red": ["project.settings", "eb.debug-off"],
        "run": break_debug_on,
    },
    "static-missing": {
        "description": "the deployed copy's STATIC_ROOT is empty: /static/ answers 404",
        "scope": "global",
        "red": ["project.static", "eb.static"],
        "run": break_static_missing,
    },
    "media-local": {
        "description": "the app is restarted without AWS_STORAGE_BUCKET_NAME: pictures from /media/, not S3",
        "scope": "global",
        "red": ["eb.media"],
        "run": break_media_local,
    },
    "hardcoded-password": {
        "description": "the deployed settings.py holds the database password as a string literal",
        "scope": "global",
        "red": ["project.settings"],
        "run": break_hardcoded_password,
    },
    "awsebcli-in-requirements": {
        "description": "the deployed requirements.txt lists awsebcli==3.20.10",
        "scope": "global",
        "red": ["project.requirements"],
        "run": break_awsebcli_in_requirements,
    },
    "bad-wsgipath": {
        "description": "the deployed .ebextensions/django.config names a WSGI module that does not exist",
        "scope": "global",
        "red": ["project.ebextensions"],
        "run": break_bad_wsgipath,
    },
    "no-cache": {
        "description": "the serverless cache does not exist",
        "scope": "account",
        "red": ["cache.exists"],
        "run": break_no_cache,
    },
    "no-db-instance": {
        "description": "the DB instance does not exist",
        "scope": "account",
        "red": ["rds.instance"],
        "run": break_no_db_instance,
    },
    "no-eb-app": {
        "description": "the Beanstalk application (and so its environment) does not exist",
        "scope": "account",
        "red": ["eb.app"],
        "run": break_no_eb_app,
    },
    "site-down": {
        "description": "nginx is stopped: the site's URL answers nothing",
        "scope": "global",
        "red": ["eb.site"],
        "run": break_site_down,
    },
    "deploy-check-error": {
        "description": "the deployed settings hold an invalid SECURE_REFERRER_POLICY (check --deploy: security.E023)",
        "scope": "global",
        "red": ["project.deploy-check"],
        "run": break_deploy_check_error,
    },
}


def print_json(out=sys.stdout) -> None:
    rows = [
        {
            "name": name,
            "scope": sc["scope"],
            "red": sc["red"],
            "expect": sc.get("expect", {}),
            "description": sc["description"],
        }
        for name, sc in SCENARIOS.items()
    ]
    json.dump(rows, out, indent=1)
    print(file=out)


def print_list(out=sys.stdout) -> None:
    width = max(len(n) for n in SCENARIOS)
    for name, sc in SCENARIOS.items():
        print(f"  {name:<{width}}  {sc['scope']:<7}  {sc['description']}", file=out)


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="sandbox/break",
        description="Introduce one named fault into a sandbox account "
        "(sandbox/up or sandbox/provision repairs it).",
    )
    ap.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument(
        "--json",
        action="store_true",
        help="with --list: as JSON (name, scope, the checks it turns red, description)",
    )
    ap.add_argument(
        "--account",
        default=c.DEFAULT_ACCOUNT,
        type=c.valid_account,
        help=f"12-digit account id (default {c.DEFAULT_ACCOUNT})",
    )
    args = ap.parse_args()
    if args.list:
        print_json() if args.json else print_list()
        return 0
    if args.scenario not in SCENARIOS:
        what = f"unknown scenario {args.scenario!r}" if args.scenario else "no scenario given"
        print(f"[break] error: {what}; known scenarios:", file=sys.stderr)
        print_list(sys.stderr)
        close = difflib.get_close_matches(args.scenario or "", SCENARIOS, n=1)
        if close:
            print(f"[break] did you mean {close[0]!r}?", file=sys.stderr)
        return 2
    sc = SCENARIOS[args.scenario]
    done = sc["run"](args.account)
    if sc["scope"] == "global":
        print(f"[break] {args.scenario} (global: shared by every account): {done}")
        print("[break] repair with: sandbox/up")
    else:
        print(f"[break] {args.scenario} (account {args.account}): {done}")
        print(
            "[break] repair with: sandbox/up   (or sandbox/provision"
            + ("" if args.account == c.DEFAULT_ACCOUNT else f" --account {args.account}")
            + ")"
        )
    return 0


if __name__ == "__main__":
    sys.exit(c.run_main(main))
