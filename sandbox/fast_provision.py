"""Provision sandbox accounts inside the moto process, through moto's backends.

Loaded by moto_launcher.py, which serves it as POST /sandbox/provision (not an
AWS API, never recorded; requests one at a time, this module, provision.py and
sandbox_common.py reloaded for each, so edits need no moto restart). `sandbox/provision --accounts N` calls it: building
an account this way takes a few milliseconds, where the same state made
through the AWS APIs (about 50 requests, each a round trip through botocore
and moto's request handling) takes a few hundred.

Each account is first emptied (everything moto holds for it, in every
service, is dropped), then given the state `provision.py` makes through the
API, built from the same definitions (provision.py's documents and option
settings, sandbox_common's names), so labcheck grades both alike:

  s3     the media bucket (us-west-2): CORS GET from *, public access block
         on, no policy, ACL private; the pictures copied from a template
         bucket that `load_pets` filled (the Django app is not started per
         account);
  ec2    the three security groups in the default VPC, cache and DB rules
         from the EB group;
  iam    instance role (trust ec2, inline media policy, web tier policy
         attached) in its instance profile; the grader role (optional);
  rds    DB subnet group over the default VPC's subnets, the MySQL instance;
  cache  the serverless cache (the launcher's store);
  eb     application and environment with the option settings of the guide,
         and the environment's running instance (tagged as Elastic Beanstalk
         tags it).
An entry's "resources" (a subset of s3, rds, cache, eb) leaves the others
out: the state of a learner who deleted some of them.

Request body (JSON):
  {"region": "us-west-2",
   "template": {"account": "999999999999", "bucket": "pets-project-..."},
   "accounts": [{"account": "300000000000",
                 "grader": {"instructor": "123456789012", "external_id": "x"},
                 "resources": ["rds", "eb"]}, ...]}
  "grader": null leaves the grader role out.
Answer: {"ok": true, "accounts": [...], "seconds": 0.12}; a bad request is
HTTP 400 {"ok": false, "error": "..."}.
"""

import json
import time

import provision as p
import sandbox_common as c


class BadRequest(Exception):
    pass


# The lab's resources that cost money, each of which an account may be given
# or not ("resources": [...], default all; the network and IAM always): an
# account after the learner cleaned up has none ([]).
RESOURCES = ("s3", "rds", "cache", "eb")


# ---- emptying an account ------------------------------------------------------


def reset_account(account: str) -> None:
    """Drops everything moto holds for `account`, in every service, as if it
    had never been used (the backends are made again on first use). S3's
    objects are disposed of and its bucket names freed; other accounts are
    untouched."""
    from moto.core.base_backend import BackendDict, backend_lock
    from moto.s3.models import s3_backends

    with backend_lock:
        if account in s3_backends:
            for backend in list(s3_backends[account].values()):
                for bucket in list(backend.buckets.values()):
                    for key in list(bucket.keys.values()):
                        if hasattr(key, "dispose"):
                            key.dispose()
                    for part in list(bucket.multiparts.values()):
                        part.dispose()
                    s3_backends.bucket_accounts.pop(bucket.name, None)
        for backend_dict in list(BackendDict._instances):
            if account in backend_dict:
                dict.pop(backend_dict, account, None)


# ---- the services -----------------------------------------------------------------


def _s3(account: str, region: str, template) -> str:
    from moto.s3.models import get_canned_acl, s3_backends

    s3 = s3_backends[account]["aws"]
    bucket = c.bucket_name(account, region)
    s3.create_bucket(bucket, region)
    rule = p.CORS["CORSRules"][0]
    # The shape moto's XML parser gives PutBucketCors.
    s3.put_bucket_cors(
        bucket,
        [
            {
                "AllowedMethod": rule["AllowedMethods"]
                if len(rule["AllowedMethods"]) > 1
                else rule["AllowedMethods"][0],
                "AllowedOrigin": rule["AllowedOrigins"][0],
                "AllowedHeader": rule["AllowedHeaders"][0],
                "MaxAgeSeconds": str(rule["MaxAgeSeconds"]),
            }
        ],
    )
    s3.put_public_access_block(bucket, {k: "true" if v else "false" for k, v in p.PRIVATE_BLOCK.items()})
    s3.put_bucket_acl(bucket, get_canned_acl("private"))
    dest = s3.get_bucket(bucket)
    for src in template:
        s3.copy_object(src, bucket, src.name, storage="STANDARD")
        dest.keys[src.name].set_acl(dest.acl)
    return bucket


def _network(account: str, region: str) -> dict:
    from moto.ec2.models import ec2_backends
    from moto.ec2.responses.security_groups import parse_sg_attributes_from_dict

    ec2 = ec2_backends[account][region]
    default = ec2.get_default_vpc()
    vpc = default.id if default is not None else ec2.create_default_vpc().id
    eb = ec2.create_security_group(
        c.SG_EB, "Elastic Beanstalk instances of the pets project", vpc_id=vpc, tags={}
    )
    cache = ec2.create_security_group(
        c.SG_CACHE, "pets-project cache: 6379 from the EB instances", vpc_id=vpc, tags={}
    )
    db = ec2.create_security_group(
        c.SG_DB, "pets-project database: 3306 from the EB instances", vpc_id=vpc, tags={}
    )
    rules = [
        (cache, (int(c.REDIS_PORT), int(c.REDIS_TLS_PORT))),
        (db, (int(c.MYSQL_PORT), int(c.MYSQL_PORT))),
    ]
    for group, (low, high) in rules:
        perm = {
            "IpProtocol": "tcp",
            "FromPort": low,
            "ToPort": high,
            "UserIdGroupPairs": [{"GroupId": eb.id}],
        }
        proto, from_port, to_port, ranges, sources, prefixes = parse_sg_attributes_from_dict(perm)
        ec2.authorize_security_group_ingress(
            group_name_or_id=group.id,
            ip_protocol=proto,
            from_port=from_port,
            to_port=to_port,
            ip_ranges=ranges,
            sgrule_tags={},
            source_groups=sources,
            prefix_list_ids=prefixes,
            security_rule_ids=[],
        )
    return {"eb": eb.id, "cache": cache.id, "db": db.id, "vpc": vpc}


def _iam(account: str, bucket: str, grader) -> None:
    from moto.iam.models import iam_backends

    iam = iam_backends[account]["aws"]
    iam.create_role(c.INSTANCE_ROLE, json.dumps(p.INSTANCE_TRUST), None, None, None, [], 3600)
    iam.attach_role_policy(c.WEB_TIER_POLICY_ARN, c.INSTANCE_ROLE)
    iam.put_role_policy(c.INSTANCE_ROLE, c.MEDIA_POLICY, json.dumps(p.media_policy(bucket)))
    iam.create_instance_profile(c.INSTANCE_PROFILE, "/", role_names=[], tags=[])
    iam.add_role_to_instance_profile(c.INSTANCE_PROFILE, c.INSTANCE_ROLE)
    if grader is not None:
        trust = c.grader_trust(grader["instructor"], grader["external_id"])
        iam.create_role(c.GRADER_ROLE, json.dumps(trust), None, None, c.GRADER_DESCRIPTION, [], 3600)
        iam.put_role_policy(c.GRADER_ROLE, c.GRADER_POLICY, json.dumps(c.GRADER_POLICY_DOC))


def _rds(account: str, region: str, sgs: dict) -> None:
    from moto.ec2.models import ec2_backends
    from moto.rds.models import rds_backends

    ec2 = ec2_backends[account][region]
    rds = rds_backends[account][region]
    subnets = [s for s in ec2.describe_subnets(filters={"vpc-id": [sgs["vpc"]]})]
    rds.create_subnet_group(c.DB_SUBNET_GROUP, "pets-project database subnets", subnets, [])
    rds.create_db_instance(
        {
            "db_instance_identifier": c.DB_INSTANCE,
            "db_instance_class": "db.t3.micro",
            "engine": "mysql",
            "engine_version": "8.0.40",
            "allocated_storage": 20,
            "master_username": c.DB_MASTER_USER,
            "master_user_password": c.DB_MASTER_PASSWORD,
            "db_name": c.DB_NAME,
            "vpc_security_group_ids": [sgs["db"]],
            "publicly_accessible": False,
            "db_subnet_group_name": c.DB_SUBNET_GROUP,
            "port": 3306,
        }
    )


def _cache(account: str, region: str, sgs: dict) -> None:
    from moto.elasticache.models import elasticache_backends

    import moto_launcher

    backend = elasticache_backends[account][region]
    moto_launcher.add_serverless_cache(
        backend,
        region,
        account,
        {
            "ServerlessCacheName": c.CACHE_NAME,
            "Engine": "valkey",
            "MajorEngineVersion": "8",
            "Description": "pets project sessions",
            "SecurityGroupIds": [sgs["cache"]],
        },
    )


def _eb(account: str, region: str, sgs: dict) -> None:
    from moto.ec2.models import ec2_backends
    from moto.elasticbeanstalk.models import eb_backends

    eb = eb_backends[account][region]
    app = eb.create_application(c.EB_APP)
    env = eb.create_environment(app, environment_name=c.EB_ENV, stack_name=c.EB_STACK, tags={})
    for s in p.eb_option_settings(account, sgs, region):
        env.option_settings[(s["Namespace"], s["OptionName"])] = s["Value"]
    env.platform_arn_value = None
    ec2_backends[account][region].run_instances(
        c.EB_IMAGE,
        1,
        None,
        [],
        instance_type=c.EB_INSTANCE_TYPE,
        is_instance_type_default=False,
        region_name=region,
        security_group_ids=[sgs["eb"]],
        tags={"instance": p.eb_instance_tags(env.environment_id)},
    )


# ---- the endpoint ------------------------------------------------------------------


def _template_objects(spec: dict) -> list:
    from moto.s3.models import s3_backends

    account, bucket = spec.get("account"), spec.get("bucket")
    if not account or account not in s3_backends:
        raise BadRequest(f"template account {account} holds nothing")
    buckets = s3_backends[account]["aws"].buckets
    if bucket not in buckets:
        raise BadRequest(f"no template bucket {bucket} in account {account}")
    keys = [k for k in buckets[bucket].keys.values() if getattr(k, "storage_class", "STANDARD") == "STANDARD"]
    if not keys:
        raise BadRequest(f"template bucket {bucket} holds no object")
    return keys


def provision_accounts(body: dict) -> dict:
    region = body.get("region") or c.REGION
    entries = body.get("accounts")
    if not isinstance(entries, list) or not entries:
        raise BadRequest("no accounts given")
    spec = body.get("template") or {}
    protected = {c.DEFAULT_ACCOUNT, spec.get("account")}
    for e in entries:
        acct = str((e or {}).get("account", ""))
        if not (len(acct) == 12 and acct.isdigit()):
            raise BadRequest(f"account id must be 12 digits, got {acct!r}")
        if acct in protected:
            raise BadRequest(
                f"account {acct} is the default or the template account: "
                "provision it with sandbox/provision --account"
            )
        g = e.get("grader")
        if g is not None and not (isinstance(g, dict) and g.get("instructor") and g.get("external_id")):
            raise BadRequest(f"account {acct}: grader needs instructor and external_id")
        wanted = e.get("resources")
        if wanted is not None and not (isinstance(wanted, list) and set(wanted) <= set(RESOURCES)):
            raise BadRequest(f"account {acct}: resources is a list of {', '.join(RESOURCES)}")
    start = time.perf_counter()
    done = []
    template = _template_objects(spec)
    for e in entries:
        account = e["account"]
        keep = set(RESOURCES if e.get("resources") is None else e["resources"])
        reset_account(account)
        bucket = _s3(account, region, template) if "s3" in keep else c.bucket_name(account, region)
        sgs = _network(account, region)
        _iam(account, bucket, e.get("grader"))
        if "rds" in keep:
            _rds(account, region, sgs)
        if "cache" in keep:
            _cache(account, region, sgs)
        if "eb" in keep:
            _eb(account, region, sgs)
        done.append(account)
    return {
        "ok": True,
        "accounts": done,
        "objects": [k.name for k in template],
        "seconds": round(time.perf_counter() - start, 4),
    }


def handle(environ) -> tuple[str, dict]:
    """The WSGI side: (status line, JSON answer)."""
    if environ.get("REQUEST_METHOD") != "POST":
        return "405 METHOD NOT ALLOWED", {"ok": False, "error": "POST a JSON body"}
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"{}")
        return "200 OK", provision_accounts(body)
    except (BadRequest, ValueError) as err:
        return "400 BAD REQUEST", {"ok": False, "error": str(err)}
    except Exception as err:  # noqa: BLE001 -- any moto error: say which, keep serving
        return "500 INTERNAL SERVER ERROR", {"ok": False, "error": f"{type(err).__name__}: {err}"}
