"""Put the solved lab state into one moto account, creating or repairing it.

Run through sandbox/provision (which uses the sandbox venv). Every step checks
what is there and fixes what differs, so running it after any `sandbox/break`
scenario restores the solved state.
"""

import argparse
import json
import sys

from botocore.exceptions import ClientError

import sandbox_common as c


def code(err: ClientError) -> str:
    return err.response.get("Error", {}).get("Code", "")


def log(msg: str) -> None:
    print(f"[provision] {msg}", flush=True)


# ---- S3 -------------------------------------------------------------------

CORS = {
    "CORSRules": [
        {
            "AllowedMethods": ["GET"],
            "AllowedOrigins": ["*"],
            "AllowedHeaders": ["*"],
            "MaxAgeSeconds": 3000,
        }
    ]
}

PRIVATE_BLOCK = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def provision_s3(account: str) -> str:
    s3 = c.client("s3", account)
    bucket = c.bucket_name(account)
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as err:
        if code(err) not in ("404", "NoSuchBucket", "NotFound"):
            raise
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": c.REGION})
        log(f"created bucket {bucket}")
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration=CORS)
    # Remove any policy first: a public policy would be refused once the block is on.
    s3.delete_bucket_policy(Bucket=bucket)
    # The account-level block (the account-block-only fault) goes too: the
    # solved lab blocks public access on the bucket itself.
    c.s3control_client(account).delete_public_access_block(AccountId=account)
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=PRIVATE_BLOCK)
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    # The pictures themselves are stored by the app (load_pets, through
    # django-storages: provision_app). An object the app could not serve
    # (archived to another storage class) is removed so that load_pets stores
    # it again.
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            if obj.get("StorageClass", "STANDARD") != "STANDARD":
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
                log(f"s3: removed {obj['Key']} ({obj['StorageClass']}); the app stores it again")
    log(f"s3: bucket {bucket} private, CORS GET *")
    return bucket


# ---- EC2 security groups ----------------------------------------------------


def default_vpc(ec2) -> str:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    if vpcs:
        return vpcs[0]["VpcId"]
    return ec2.create_default_vpc()["Vpc"]["VpcId"]


def ensure_sg(ec2, name: str, desc: str, vpc: str) -> str:
    found = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    if found:
        return found[0]["GroupId"]
    return ec2.create_security_group(GroupName=name, Description=desc, VpcId=vpc)["GroupId"]


def ensure_ingress_from(ec2, group_id: str, ports: tuple[int, int], source_group: str) -> None:
    """An inbound TCP rule for the port range `ports` from `source_group`."""
    low, high = ports
    perms = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["IpPermissions"]
    for p in perms:
        if (
            p.get("FromPort") == low
            and p.get("ToPort") == high
            and any(pair.get("GroupId") == source_group for pair in p.get("UserIdGroupPairs", []))
        ):
            return
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": low,
                "ToPort": high,
                "UserIdGroupPairs": [{"GroupId": source_group}],
            }
        ],
    )


def provision_network(account: str) -> dict:
    ec2 = c.client("ec2", account)
    vpc = default_vpc(ec2)
    eb = ensure_sg(ec2, c.SG_EB, "Elastic Beanstalk instances of the pets project", vpc)
    cache = ensure_sg(ec2, c.SG_CACHE, "pets-project cache: 6379 from the EB instances", vpc)
    db = ensure_sg(ec2, c.SG_DB, "pets-project database: 3306 from the EB instances", vpc)
    # The rules admit the ports the endpoints report, as on AWS: here the
    # sandbox's Redis (plain and TLS) and MariaDB ports stand in for 6379 and 3306.
    cache_ports = (int(c.REDIS_PORT), int(c.REDIS_TLS_PORT))
    db_ports = (int(c.MYSQL_PORT), int(c.MYSQL_PORT))
    ensure_ingress_from(ec2, cache, cache_ports, eb)
    ensure_ingress_from(ec2, db, db_ports, eb)
    db_vpc = ec2.describe_security_groups(GroupIds=[db])["SecurityGroups"][0].get("VpcId") or vpc
    log(
        f"ec2: security groups eb={eb} cache={cache} ({cache_ports[0]}-{cache_ports[1]} from eb) "
        f"db={db} ({db_ports[0]} from eb)"
    )
    return {"eb": eb, "cache": cache, "db": db, "vpc": db_vpc}


# ---- IAM instance profile -----------------------------------------------------


INSTANCE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


def media_policy(bucket: str) -> dict:
    """The instance role's inline policy: the media bucket, nothing more."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": f"arn:aws:s3:::{bucket}"},
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::{bucket}/*",
            },
        ],
    }


def provision_iam(account: str, bucket: str) -> None:
    iam = c.client("iam", account)
    trust = INSTANCE_TRUST
    policy = media_policy(bucket)
    try:
        iam.get_role(RoleName=c.INSTANCE_ROLE)
    except ClientError as err:
        if code(err) != "NoSuchEntity":
            raise
        iam.create_role(RoleName=c.INSTANCE_ROLE, AssumeRolePolicyDocument=json.dumps(trust))
    iam.update_assume_role_policy(RoleName=c.INSTANCE_ROLE, PolicyDocument=json.dumps(trust))
    # As the guide does: the AWS managed web-tier policy attached (it grants
    # S3 on elasticbeanstalk-* buckets only) plus the lab's inline policy for
    # the media bucket. Anything else attached or inline goes.
    for name in iam.list_role_policies(RoleName=c.INSTANCE_ROLE)["PolicyNames"]:
        if name != c.MEDIA_POLICY:
            iam.delete_role_policy(RoleName=c.INSTANCE_ROLE, PolicyName=name)
    attached = [
        a["PolicyArn"] for a in iam.list_attached_role_policies(RoleName=c.INSTANCE_ROLE)["AttachedPolicies"]
    ]
    for arn in attached:
        if arn != c.WEB_TIER_POLICY_ARN:
            iam.detach_role_policy(RoleName=c.INSTANCE_ROLE, PolicyArn=arn)
    if c.WEB_TIER_POLICY_ARN not in attached:
        iam.attach_role_policy(RoleName=c.INSTANCE_ROLE, PolicyArn=c.WEB_TIER_POLICY_ARN)
    iam.put_role_policy(
        RoleName=c.INSTANCE_ROLE, PolicyName=c.MEDIA_POLICY, PolicyDocument=json.dumps(policy)
    )
    try:
        prof = iam.get_instance_profile(InstanceProfileName=c.INSTANCE_PROFILE)["InstanceProfile"]
    except ClientError as err:
        if code(err) != "NoSuchEntity":
            raise
        prof = iam.create_instance_profile(InstanceProfileName=c.INSTANCE_PROFILE)["InstanceProfile"]
    roles = [r["RoleName"] for r in prof.get("Roles", [])]
    for r in roles:
        if r != c.INSTANCE_ROLE:
            iam.remove_role_from_instance_profile(InstanceProfileName=c.INSTANCE_PROFILE, RoleName=r)
    if c.INSTANCE_ROLE not in roles:
        iam.add_role_to_instance_profile(InstanceProfileName=c.INSTANCE_PROFILE, RoleName=c.INSTANCE_ROLE)
    log(
        f"iam: instance profile {c.INSTANCE_PROFILE} -> role {c.INSTANCE_ROLE} "
        f"(inline {c.MEDIA_POLICY} on the media bucket, AWSElasticBeanstalkWebTier attached)"
    )


def provision_grader(account: str, instructor: str, external_id: str | None) -> None:
    """The role labcheck's cohort grading assumes: `labcheck-grader`, trusted
    by the instructor's principal under the external id, with an inline
    read-only policy. external_id None: no grader role (deleted if there)."""
    iam = c.client("iam", account)
    try:
        iam.get_role(RoleName=c.GRADER_ROLE)
        exists = True
    except ClientError as err:
        if code(err) != "NoSuchEntity":
            raise
        exists = False
    if external_id is None:
        if exists:
            for name in iam.list_role_policies(RoleName=c.GRADER_ROLE)["PolicyNames"]:
                iam.delete_role_policy(RoleName=c.GRADER_ROLE, PolicyName=name)
            for att in iam.list_attached_role_policies(RoleName=c.GRADER_ROLE)["AttachedPolicies"]:
                iam.detach_role_policy(RoleName=c.GRADER_ROLE, PolicyArn=att["PolicyArn"])
            iam.delete_role(RoleName=c.GRADER_ROLE)
            log(f"iam: deleted grader role {c.GRADER_ROLE}")
        return
    trust = json.dumps(c.grader_trust(instructor, external_id))
    if not exists:
        iam.create_role(
            RoleName=c.GRADER_ROLE, AssumeRolePolicyDocument=trust, Description=c.GRADER_DESCRIPTION
        )
    else:
        iam.update_assume_role_policy(RoleName=c.GRADER_ROLE, PolicyDocument=trust)
    for name in iam.list_role_policies(RoleName=c.GRADER_ROLE)["PolicyNames"]:
        if name != c.GRADER_POLICY:
            iam.delete_role_policy(RoleName=c.GRADER_ROLE, PolicyName=name)
    iam.put_role_policy(
        RoleName=c.GRADER_ROLE, PolicyName=c.GRADER_POLICY, PolicyDocument=json.dumps(c.GRADER_POLICY_DOC)
    )
    log(
        f"iam: grader role arn:aws:iam::{account}:role/{c.GRADER_ROLE} trusts "
        f"{c.instructor_principal(instructor)} with external id {external_id!r} (inline {c.GRADER_POLICY})"
    )


# ---- RDS --------------------------------------------------------------------


def ensure_db_subnet_group(account: str, rds, vpc: str) -> None:
    """A DB subnet group over the subnets of the DB security group's VPC."""
    ec2 = c.client("ec2", account)
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ]
    try:
        group = rds.describe_db_subnet_groups(DBSubnetGroupName=c.DB_SUBNET_GROUP)["DBSubnetGroups"][0]
    except ClientError as err:
        if code(err) != "DBSubnetGroupNotFoundFault":
            raise
        group = None
    if group is not None and group.get("VpcId") != vpc:
        rds.delete_db_subnet_group(DBSubnetGroupName=c.DB_SUBNET_GROUP)
        group = None
    if group is None:
        rds.create_db_subnet_group(
            DBSubnetGroupName=c.DB_SUBNET_GROUP,
            SubnetIds=subnets,
            DBSubnetGroupDescription="pets-project database subnets",
        )
        log(f"rds: created DB subnet group {c.DB_SUBNET_GROUP} in {vpc}")


def provision_rds(account: str, sgs: dict) -> None:
    rds = c.client("rds", account)
    ensure_db_subnet_group(account, rds, sgs["vpc"])
    try:
        inst = rds.describe_db_instances(DBInstanceIdentifier=c.DB_INSTANCE)["DBInstances"][0]
    except ClientError as err:
        if code(err) != "DBInstanceNotFound":
            raise
        rds.create_db_instance(
            DBInstanceIdentifier=c.DB_INSTANCE,
            DBInstanceClass="db.t3.micro",
            Engine="mysql",
            EngineVersion="8.0.40",
            AllocatedStorage=20,
            MasterUsername=c.DB_MASTER_USER,
            MasterUserPassword=c.DB_MASTER_PASSWORD,
            DBName=c.DB_NAME,
            VpcSecurityGroupIds=[sgs["db"]],
            PubliclyAccessible=False,
            DBSubnetGroupName=c.DB_SUBNET_GROUP,
            Port=3306,
        )
        log(f"rds: created {c.DB_INSTANCE}")
        inst = rds.describe_db_instances(DBInstanceIdentifier=c.DB_INSTANCE)["DBInstances"][0]
    # A status set by a fault's tag (db-backing-up...) goes with the tag.
    tags = rds.list_tags_for_resource(ResourceName=inst["DBInstanceArn"])["TagList"]
    stray = [t["Key"] for t in tags if t["Key"].startswith("sandbox:")]
    if stray:
        rds.remove_tags_from_resource(ResourceName=inst["DBInstanceArn"], TagKeys=stray)
        inst = rds.describe_db_instances(DBInstanceIdentifier=c.DB_INSTANCE)["DBInstances"][0]
    if inst["DBInstanceStatus"] == "stopped":
        rds.start_db_instance(DBInstanceIdentifier=c.DB_INSTANCE)
    current = sorted(g["VpcSecurityGroupId"] for g in inst.get("VpcSecurityGroups", []))
    subnet_group = (inst.get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
    if current != [sgs["db"]] or subnet_group != c.DB_SUBNET_GROUP:
        rds.modify_db_instance(
            DBInstanceIdentifier=c.DB_INSTANCE,
            VpcSecurityGroupIds=[sgs["db"]],
            DBSubnetGroupName=c.DB_SUBNET_GROUP,
            ApplyImmediately=True,
        )
    inst = rds.describe_db_instances(DBInstanceIdentifier=c.DB_INSTANCE)["DBInstances"][0]
    ep = inst["Endpoint"]
    log(
        f"rds: {c.DB_INSTANCE} {inst['Engine']} {inst['DBInstanceStatus']} at "
        f"{ep['Address']}:{ep['Port']}, subnet group in {inst['DBSubnetGroup']['VpcId']}"
    )


# ---- ElastiCache serverless ---------------------------------------------------


def remove_other_caches(ec) -> None:
    """A replication group or cluster under the cache's name (the `cache-no-tls`
    fault) goes: the solved lab has the serverless cache only."""
    try:
        ec.describe_replication_groups(ReplicationGroupId=c.CACHE_NAME)
        ec.delete_replication_group(ReplicationGroupId=c.CACHE_NAME)
        log(f"cache: deleted replication group {c.CACHE_NAME}")
    except ClientError as err:
        if code(err) != "ReplicationGroupNotFoundFault":
            raise
    try:
        ec.describe_cache_clusters(CacheClusterId=c.CACHE_NAME)
        ec.delete_cache_cluster(CacheClusterId=c.CACHE_NAME)
        log(f"cache: deleted cache cluster {c.CACHE_NAME}")
    except ClientError as err:
        if code(err) != "CacheClusterNotFound":
            raise


def provision_cache(account: str, sgs: dict) -> None:
    ec = c.client("elasticache", account)
    remove_other_caches(ec)
    try:
        cache = ec.describe_serverless_caches(ServerlessCacheName=c.CACHE_NAME)["ServerlessCaches"][0]
    except ClientError as err:
        if code(err) != "ServerlessCacheNotFoundFault":
            raise
        cache = ec.create_serverless_cache(
            ServerlessCacheName=c.CACHE_NAME,
            Engine="valkey",
            MajorEngineVersion="8",
            Description="pets project sessions",
            SecurityGroupIds=[sgs["cache"]],
        )["ServerlessCache"]
        log(f"cache: created serverless cache {c.CACHE_NAME}")
    if cache.get("SecurityGroupIds") != [sgs["cache"]]:
        cache = ec.modify_serverless_cache(ServerlessCacheName=c.CACHE_NAME, SecurityGroupIds=[sgs["cache"]])[
            "ServerlessCache"
        ]
    ep = cache["Endpoint"]
    log(f"cache: {c.CACHE_NAME} {cache['Engine']} {cache['Status']} at {ep['Address']}:{ep['Port']}")


# ---- Elastic Beanstalk ----------------------------------------------------------


# The enhanced health rule document of the reference project's
# .ebextensions/health.config (Elastic Beanstalk developer guide,
# "Configuring enhanced health rules").
IGNORE_APP_4XX = {
    "Rules": {"Environment": {"Application": {"ApplicationRequests4xx": {"Enabled": False}}}},
    "Version": 1,
}


def eb_option_settings(account: str, sgs: dict, region: str = c.REGION) -> list[dict]:
    """What `eb create ... --envvars ...` of the guide leaves: the environment
    properties it sets, under its names (the database's and the cache's
    addresses are the sandbox servers', as the RDS and cache endpoints say;
    the account's media bucket in `region`), which a grader also gives a
    learner's settings in place of its own variables; the instance profile,
    the security group, single instance, the WSGIPath of
    .ebextensions/django.config and the health rule of
    .ebextensions/health.config."""
    env_ns = c.EB_PROPERTIES_NS
    props = c.lab_properties(account, region)
    return [{"Namespace": env_ns, "OptionName": k, "Value": v} for k, v in props.items()] + [
        {
            "Namespace": "aws:autoscaling:launchconfiguration",
            "OptionName": "IamInstanceProfile",
            "Value": c.INSTANCE_PROFILE,
        },
        {
            "Namespace": "aws:autoscaling:launchconfiguration",
            "OptionName": "InstanceType",
            "Value": c.EB_INSTANCE_TYPE,
        },
        {
            "Namespace": "aws:autoscaling:launchconfiguration",
            "OptionName": "SecurityGroups",
            "Value": sgs["eb"],
        },
        {
            "Namespace": "aws:elasticbeanstalk:environment",
            "OptionName": "EnvironmentType",
            "Value": "SingleInstance",
        },
        {
            "Namespace": "aws:elasticbeanstalk:container:python",
            "OptionName": "WSGIPath",
            "Value": "pets_project.wsgi:application",
        },
        {
            # .ebextensions/health.config: enhanced health leaves the app's 4xx answers out.
            "Namespace": "aws:elasticbeanstalk:healthreporting:system",
            "OptionName": "ConfigDocument",
            "Value": json.dumps(IGNORE_APP_4XX),
        },
    ]


def provision_eb(account: str, sgs: dict) -> None:
    eb = c.client("elasticbeanstalk", account)
    if not eb.describe_applications(ApplicationNames=[c.EB_APP])["Applications"]:
        eb.create_application(ApplicationName=c.EB_APP)
        log(f"eb: created application {c.EB_APP}")
    envs = eb.describe_environments(ApplicationName=c.EB_APP, EnvironmentNames=[c.EB_ENV])["Environments"]
    settings = eb_option_settings(account, sgs)
    if not envs:
        eb.create_environment(
            ApplicationName=c.EB_APP,
            EnvironmentName=c.EB_ENV,
            SolutionStackName=c.EB_STACK,
            OptionSettings=settings,
        )
        log(f"eb: created environment {c.EB_ENV}")
        envs = eb.describe_environments(EnvironmentNames=[c.EB_ENV])["Environments"]
    else:
        # Environment properties and secrets beyond the solved set go, too.
        namespaces = (c.EB_PROPERTIES_NS, c.EB_SECRETS_NS)
        current = eb.describe_configuration_settings(ApplicationName=c.EB_APP, EnvironmentName=c.EB_ENV)[
            "ConfigurationSettings"
        ][0]
        wanted = {(s["Namespace"], s["OptionName"]) for s in settings if s["Namespace"] in namespaces}
        extra = [
            {"Namespace": o["Namespace"], "OptionName": o["OptionName"]}
            for o in current.get("OptionSettings", [])
            if o["Namespace"] in namespaces and (o["Namespace"], o["OptionName"]) not in wanted
        ]
        eb.update_environment(
            EnvironmentName=c.EB_ENV,
            SolutionStackName=c.EB_STACK,
            OptionSettings=settings,
            OptionsToRemove=extra,
        )
    env = envs[0]
    tags = eb.list_tags_for_resource(ResourceArn=env["EnvironmentArn"])["ResourceTags"]
    stray = [t["Key"] for t in tags if t["Key"].startswith("sandbox:")]
    if stray:
        eb.update_tags_for_resource(ResourceArn=env["EnvironmentArn"], TagsToRemove=stray)
    env = eb.describe_environments(EnvironmentNames=[c.EB_ENV])["Environments"][0]
    provision_eb_instance(account, env["EnvironmentId"], sgs)
    log(f"eb: {c.EB_APP}/{c.EB_ENV} {env['EnvironmentId']} {env['Status']} {env['Health']} at {env['CNAME']}")


def eb_instance_tags(env_id: str) -> dict:
    """The tags Elastic Beanstalk puts on its environment's instances."""
    return {c.EB_ENV_NAME_TAG: c.EB_ENV, c.EB_ENV_ID_TAG: env_id}


def provision_eb_instance(account: str, env_id: str, sgs: dict) -> None:
    """The environment's running instance, as Elastic Beanstalk launches it
    (moto launches none): one, of the guide's type, tagged with the
    environment; another environment's instances are terminated."""
    ec2 = c.client("ec2", account)
    running = ec2.describe_instances(
        Filters=[
            {"Name": "tag-key", "Values": [c.EB_ENV_ID_TAG]},
            {"Name": "instance-state-name", "Values": ["pending", "running"]},
        ]
    )
    mine, stale = [], []
    for i in (i for r in running["Reservations"] for i in r["Instances"]):
        tags = {t["Key"]: t["Value"] for t in i.get("Tags", [])}
        (mine if tags.get(c.EB_ENV_ID_TAG) == env_id else stale).append(i["InstanceId"])
    if stale:
        ec2.terminate_instances(InstanceIds=stale)
    if not mine:
        tags = [{"Key": k, "Value": v} for k, v in eb_instance_tags(env_id).items()]
        ec2.run_instances(
            ImageId=c.EB_IMAGE,
            InstanceType=c.EB_INSTANCE_TYPE,
            MinCount=1,
            MaxCount=1,
            SecurityGroupIds=[sgs["eb"]],
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        log(f"ec2: launched the environment's {c.EB_INSTANCE_TYPE} instance")


# ---- the pets project's data and pictures ---------------------------------------


def provision_app(account: str, bucket: str, static: bool) -> None:
    """Runs app_tasks.py in the app venv as this account's site would run:
    migrations, load_pets (pictures into this account's bucket through
    django-storages), superuser. These run from labs/pets_project, the
    pristine source, so a damaged deployed copy cannot get in the way. With
    `static`, collectstatic then fills the deployed copy's STATIC_ROOT
    (.state/project/static), which nginx serves at /static/."""
    import subprocess

    if not c.APP_PY.exists():
        raise SystemExit(f"error: no app venv at {c.APP_PY.parent.parent}: run sandbox/up first")
    c.secret(c.ADMIN_PASSWORD_FILE)
    cmd = [str(c.APP_PY), str(c.HERE / "app_tasks.py"), "--admin-password-file", str(c.ADMIN_PASSWORD_FILE)]
    proc = subprocess.run(cmd, check=False, cwd=c.APP_DIR, env=c.app_environ(account))
    if proc.returncode != 0:
        raise SystemExit(
            f"error: the pets project's set-up failed for account {account} (exit {proc.returncode})"
        )
    s3 = c.client("s3", account)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    log(f"s3: {bucket} holds {', '.join(keys) or 'nothing'}")
    if static:
        collectstatic()


def collectstatic() -> None:
    """collectstatic in the deployed copy (its STATIC_ROOT is .state/project/static)."""
    import subprocess

    if not (c.PROJECT_COPY / "manage.py").exists():
        log(f"static: no deployed copy at {c.PROJECT_COPY} yet (sandbox/up makes it); skipped")
        return
    proc = subprocess.run(
        [str(c.APP_PY), "manage.py", "collectstatic", "--noinput", "-v", "1"],
        check=False,
        cwd=c.PROJECT_COPY,
        env=c.app_environ(c.DEFAULT_ACCOUNT),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
        raise SystemExit(f"error: collectstatic failed in {c.PROJECT_COPY}")
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    log(f"static: collectstatic into {c.PROJECT_COPY / 'static'}: {lines[-1] if lines else 'done'}")


def provision(
    account: str,
    static: bool = False,
    instructor: str = c.DEFAULT_INSTRUCTOR,
    external_id: str | None = c.DEFAULT_EXTERNAL_ID,
) -> None:
    bucket = provision_s3(account)
    sgs = provision_network(account)
    provision_iam(account, bucket)
    provision_grader(account, instructor, external_id)
    provision_rds(account, sgs)
    provision_cache(account, sgs)
    provision_eb(account, sgs)
    provision_app(account, bucket, static)


# ---- many accounts at once ------------------------------------------------------


def fixture_pictures() -> set[str]:
    """The picture names load_pets stores (the fixture's Pet.picture fields)."""
    fixture = c.APP_DIR / "pets_app" / "fixtures" / "pets.json"
    return {
        r["fields"]["picture"]
        for r in json.loads(fixture.read_text())
        if r.get("model") == "pets_app.pet" and r["fields"].get("picture")
    }


def ensure_template() -> str:
    """The template bucket (account c.TEMPLATE_ACCOUNT) holding the pictures as
    load_pets stores them; filled through load_pets when it is missing or
    lacks one. Returns the bucket name."""
    account = c.TEMPLATE_ACCOUNT
    bucket = c.bucket_name(account)
    s3 = c.client("s3", account)
    try:
        objs = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    except ClientError as err:
        if code(err) not in ("NoSuchBucket", "404"):
            raise
        objs = []
    have = {o["Key"] for o in objs if o.get("StorageClass", "STANDARD") == "STANDARD"}
    if not fixture_pictures() <= have:
        log(f"template: filling {bucket} through load_pets (once per moto start)")
        provision_s3(account)
        provision_app(account, bucket, static=False)
    return bucket


def post_json(path: str, body: dict, timeout: float = 600) -> dict:
    import urllib.error
    import urllib.request

    req = urllib.request.Request(
        c.ENDPOINT + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        try:
            detail = json.loads(err.read()).get("error")
        except ValueError:
            detail = None
        if err.code == 404:
            detail = (
                "moto does not know /sandbox/provision: it runs an older launcher; "
                "restart it with sandbox/up --restart-moto (every account but the "
                "default one is lost)"
            )
        raise SystemExit(f"error: {path}: HTTP {err.code}: {detail}")
    except urllib.error.URLError as err:
        raise SystemExit(f"error: moto does not answer at {c.ENDPOINT}: run sandbox/up first ({err})")


def account_range(first: str, n: int) -> list[str]:
    start = int(first)
    if n < 1:
        raise SystemExit("error: --accounts must be at least 1")
    if start + n - 1 > 999_999_999_999:
        raise SystemExit(f"error: {n} accounts from {first} run past 999999999999")
    ids = [f"{start + i:012d}" for i in range(n)]
    for reserved in (c.DEFAULT_ACCOUNT, c.TEMPLATE_ACCOUNT):
        if reserved in ids:
            raise SystemExit(
                f"error: the range {ids[0]}..{ids[-1]} includes account {reserved} "
                "(the default or the template account): choose another --first"
            )
    return ids


def provision_many(entries: list[dict], batch: int = 50) -> float:
    """Provisions accounts in-process in moto (POST /sandbox/provision), from
    scratch: each account's earlier state is dropped. `entries`: [{"account":
    ID, "grader": {"instructor", "external_id"} or None, optionally
    "resources": a subset of s3, rds, cache, eb}]. Returns seconds."""
    import time

    start = time.perf_counter()
    template = {"account": c.TEMPLATE_ACCOUNT, "bucket": ensure_template()}
    for i in range(0, len(entries), batch):
        chunk = entries[i : i + batch]
        answer = post_json(
            "/sandbox/provision", {"region": c.REGION, "template": template, "accounts": chunk}
        )
        if not answer.get("ok"):
            raise SystemExit(f"error: /sandbox/provision: {answer.get('error')}")
        log(
            f"accounts {chunk[0]['account']}..{chunk[-1]['account']}: solved lab state "
            f"({len(chunk)} in {answer['seconds']:.2f} s in moto; pictures "
            f"{', '.join(answer['objects'])})"
        )
    return time.perf_counter() - start


def resources_list(text: str) -> list[str]:
    """--resources: `none`, or a comma-separated subset of the lab's resources."""
    import fast_provision

    if text.strip() == "none":
        return []
    wanted = [w.strip() for w in text.split(",") if w.strip()]
    unknown = [w for w in wanted if w not in fast_provision.RESOURCES]
    if unknown or not wanted:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give none, or some of {', '.join(fast_provision.RESOURCES)} separated by commas"
        )
    return wanted


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="sandbox/provision",
        description="Put the solved lab state into a moto account (or, with --accounts, "
        "into N new accounts at once).",
    )
    ap.add_argument(
        "--account",
        default=c.DEFAULT_ACCOUNT,
        type=c.valid_account,
        help=f"12-digit account id (default {c.DEFAULT_ACCOUNT})",
    )
    ap.add_argument(
        "--static",
        action="store_true",
        help="also run collectstatic in the deployed copy, and fill the template "
        "bucket --accounts copies pictures from if needed (sandbox/up does)",
    )
    ap.add_argument(
        "--accounts",
        type=int,
        metavar="N",
        help="provision N accounts from --first on (ids FIRST, FIRST+1, ...), "
        "each re-created from scratch, in-process in moto",
    )
    ap.add_argument(
        "--first",
        default="300000000000",
        type=c.valid_account,
        help="first account id for --accounts (default 300000000000)",
    )
    c.add_grader_options(ap)
    ap.add_argument(
        "--no-grader",
        action="store_true",
        help="no grader role (deleted if present): the account cannot be graded",
    )
    ap.add_argument(
        "--resources",
        type=resources_list,
        metavar="LIST",
        help="with --accounts: only these of the lab's resources, comma-separated "
        "(s3, rds, cache, eb), or none: what a learner who deleted the others has left",
    )
    args = ap.parse_args()
    external_id = None if args.no_grader else args.external_id
    if args.resources is not None and args.accounts is None:
        ap.error("--resources needs --accounts")
    if args.accounts is not None:
        ids = account_range(args.first, args.accounts)
        grader = None if external_id is None else {"instructor": args.instructor, "external_id": external_id}
        extra = {} if args.resources is None else {"resources": args.resources}
        seconds = provision_many([{"account": a, "grader": grader, **extra} for a in ids])
        log(f"provisioned {len(ids)} accounts in {seconds:.2f} s ({len(ids) / seconds:.1f}/s)")
        return 0
    provision(args.account, static=args.static, instructor=args.instructor, external_id=external_id)
    log(f"account {args.account}: solved lab state in place ({c.REGION})")
    if args.static:
        log(f"template: {ensure_template()} holds the pictures for --accounts")
    return 0


if __name__ == "__main__":
    sys.exit(c.run_main(main))
