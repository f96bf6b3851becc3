#!/usr/bin/env python3
"""Start moto in server mode for the labcheck sandbox, with this lab's gaps filled.

moto (pinned in requirements.txt) stands in for a learner's AWS account. Out of
the box it lacks or fakes a few things this lab reads, so this launcher patches
moto's backends and responses at import time, then serves moto's own WSGI app
on 127.0.0.1. Each patch below is a small named function; PATCHES lists them
and GET /sandbox/health reports which were applied.

Configuration (environment variables, with defaults):
  SANDBOX_MOTO_HOST      127.0.0.1        address to bind
  SANDBOX_MOTO_PORT      24566            port to bind
  SANDBOX_RDS_ADDRESS    127.0.0.1        Endpoint.Address of every RDS instance
  SANDBOX_RDS_PORT       23306            Endpoint.Port of every RDS instance
  SANDBOX_CACHE_ADDRESS  127.0.0.1        Endpoint.Address of serverless caches
  SANDBOX_CACHE_PORT     26380            Endpoint.Port of serverless caches (TLS redis), and
                                          of clusters / replication groups with TLS on
  SANDBOX_CACHE_PLAIN_PORT 26379          Endpoint.Port of clusters / replication groups with
                                          encryption in transit off (plain redis)
  SANDBOX_CACHE_CLUSTER_PORT 26390        ConfigurationEndpoint.Port of replication groups with
                                          cluster mode and TLS on (sandbox/redis_cluster.py)
  SANDBOX_SITE_CNAME     127.0.0.1:28000  CNAME of every Beanstalk environment
  MOTO_RECORDER_FILEPATH <sandbox>/.state/moto-recording.jsonl
  MOTO_ENABLE_RECORDING  True             record requests from start-up on
  MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS false  accounts cannot reach each other's buckets
  MOTO_EC2_LOAD_DEFAULT_AMIS false         no public AMI catalogue in each account (fast accounts)
"""

import json
import os
import random
import string
import sys
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATE = HERE / ".state"

HOST = os.environ.get("SANDBOX_MOTO_HOST", "127.0.0.1")
PORT = int(os.environ.get("SANDBOX_MOTO_PORT", "24566"))

# The recorder reads these when moto is imported, so set them first.
os.environ.setdefault("MOTO_ENABLE_RECORDING", "True")
os.environ.setdefault("MOTO_RECORDER_FILEPATH", str(STATE / "moto-recording.jsonl"))
os.environ.setdefault("MOTO_PORT", str(PORT))
# Accounts are separate learners: one account cannot read another's buckets
# (moto's default lets any account reach any bucket by name).
os.environ.setdefault("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", "false")
# moto otherwise loads ~1,300 public AMIs (each with a volume and a snapshot)
# into every account's EC2 backend on first use: 60 ms per account and region,
# for images nobody in this lab reads. Without them a new account starts fast.
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")


def rds_address() -> str:
    return os.environ.get("SANDBOX_RDS_ADDRESS", "127.0.0.1")


def rds_port() -> int:
    return int(os.environ.get("SANDBOX_RDS_PORT", "23306"))


def cache_address() -> str:
    return os.environ.get("SANDBOX_CACHE_ADDRESS", "127.0.0.1")


def cache_port() -> int:
    return int(os.environ.get("SANDBOX_CACHE_PORT", "26380"))


def cache_plain_port() -> int:
    return int(os.environ.get("SANDBOX_CACHE_PLAIN_PORT", "26379"))


def site_cname() -> str:
    return os.environ.get("SANDBOX_SITE_CNAME", "127.0.0.1:28000")


PATCHES = []


def patch(fn):
    """Register a patch; it is applied by apply_patches() before serving."""
    PATCHES.append(fn)
    return fn


# --------------------------------------------------------------------------
# Accounts
# --------------------------------------------------------------------------


@patch
def account_from_access_key():
    """A 12-digit access key id selects that account.

    moto 5.2.5 maps only access keys it issued (IAM users, STS) to accounts and
    sends every other key to 123456789012. The sandbox lets the access key be
    the account id, so `AWS_ACCESS_KEY_ID=111111111111` is a second learner.
    """
    import re

    import moto.iam.models as iam_models
    from moto.core.responses import BaseResponse

    # moto only picks 20-character keys out of the Authorization header (any
    # other key reads as "AKIAEXAMPLE"); accept a 12-digit key too.
    BaseResponse.access_key_regex = re.compile(
        r"AWS.*(?P<access_key>(?<![A-Z0-9])(?:[A-Z0-9]{20}|[0-9]{12})(?![A-Z0-9]))[:/]"
    )
    original = iam_models.get_account_id_from

    def get_account_id_from(access_key: str) -> str:
        if access_key and len(access_key) == 12 and access_key.isdigit():
            return access_key
        # moto scans every account's IAM backends (in every partition) for a key
        # it issued; with many accounts that is slow on every request. Its keys
        # encode their account (as AWS's do): look there first.
        owner = account_encoded_in_key(access_key)
        if owner and owner in iam_models.iam_backends:
            for partition in list(iam_models.iam_backends[owner].keys()):
                if access_key in iam_models.iam_backends[owner][partition].access_keys:
                    return owner
        return original(access_key)

    iam_models.get_account_id_from = get_account_id_from


def account_encoded_in_key(access_key: str) -> str | None:
    """The account an AKIA/ASIA key of moto's (or AWS's) encodes, as STS
    GetAccessKeyInfo decodes it: base32 characters 5-12 minus an offset, times
    two, plus the parity of character 13. None for any other string."""
    import base64

    from moto.iam.utils import ACCOUNT_OFFSET, AWS_ROLE_ALPHABET

    if not access_key or len(access_key) != 20 or access_key[:4] not in ("AKIA", "ASIA"):
        return None
    try:
        number = int.from_bytes(base64.b32decode(access_key[4:12]), "big") - ACCOUNT_OFFSET
    except ValueError:
        return None
    odd = AWS_ROLE_ALPHABET.find(access_key[12]) >= 16
    account = number * 2 + (1 if odd else 0)
    return f"{account:012d}" if 0 <= account < 10**12 else None


@patch
def access_key_from_sigv4_presigned_url():
    """A SigV4 presigned URL (X-Amz-Credential=KEY/date/region/s3/aws4_request,
    what the AWS SDKs for Rust/JS/Go produce) acts as the key's account; moto
    only reads the SigV2 AWSAccessKeyId query parameter."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.get_access_key

    def get_access_key(self) -> str:
        if "Authorization" not in self.headers:
            cred = (self.querystring.get("X-Amz-Credential") or [""])[0]
            if cred and "/" in cred:
                return cred.split("/", 1)[0]
        return original(self)

    BaseResponse.get_access_key = get_access_key


@patch
def anonymous_s3_request_acts_in_bucket_owner_account():
    """An unsigned S3 request (a browser fetching an object) is looked up in the
    account that owns the bucket, so public/private behaves the same for every
    sandbox account (moto would treat it as account 123456789012 and, with
    cross-account access off, deny it)."""
    from moto.s3.models import s3_backends
    from moto.s3.responses import S3Response

    original = S3Response.get_current_account

    def get_current_account(self) -> str:
        signed = "Authorization" in self.headers or any(
            k in self.querystring for k in ("X-Amz-Credential", "AWSAccessKeyId")
        )
        if not signed:
            host = str(self.headers.get("Host", "")).split(":")[0]
            first = host.split(".")[0] if host.count(".") and not host[0].isdigit() else ""
            path_bucket = self.path.lstrip("/").split("/", 1)[0]
            for name in (path_bucket, first):
                if name in s3_backends.bucket_accounts:
                    return s3_backends.bucket_accounts[name][1]
        return original(self)

    S3Response.get_current_account = get_current_account


# Condition keys that, fixed to given values, keep a grant to everyone from
# being public (S3 User Guide, "The meaning of public").
S3_NARROWING_KEYS = {
    "aws:sourceip",
    "aws:sourcearn",
    "aws:sourcevpc",
    "aws:sourcevpce",
    "aws:sourceowner",
    "aws:sourceaccount",
    "aws:sourceorgid",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:principalorgid",
    "aws:userid",
    "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
}


def s3_policy_is_public(policy) -> bool:
    """S3's verdict on a bucket policy (GetBucketPolicyStatus IsPublic): an
    Allow to everyone is public unless a condition fixes one of the keys S3
    names to values without wildcards or variables (an aws:SourceIp range
    other than /0); a condition anyone meets (aws:SecureTransport...) does
    not narrow it. moto 5.2.5 takes any Condition for private."""
    if isinstance(policy, bytes):
        policy = policy.decode("utf-8", "replace")
    statements = _policy_statements(policy)

    def everyone(principal) -> bool:
        if isinstance(principal, str):
            return "*" in principal
        if isinstance(principal, dict):
            return any("*" in str(p) for v in principal.values() for p in _as_list(v))
        return False

    def fixed(value: str, key: str, operator: str) -> bool:
        if operator == "IpAddress":
            return not value.endswith("/0")
        if key == "aws:userid" and value.endswith(":*"):
            return False
        return bool(value) and not any(ch in value for ch in "*?") and "${" not in value

    def narrows(condition) -> bool:
        if not isinstance(condition, dict):
            return False
        for operator, tests in condition.items():
            if operator.endswith("IfExists") or operator.startswith("ForAllValues:"):
                continue
            op = operator.removeprefix("ForAnyValue:")
            if op not in (
                "StringEquals",
                "StringEqualsIgnoreCase",
                "StringLike",
                "ArnEquals",
                "ArnLike",
                "IpAddress",
            ):
                continue
            for key, values in (tests or {}).items() if isinstance(tests, dict) else []:
                key = str(key).lower()
                values = [str(v) for v in _as_list(values)]
                if key in S3_NARROWING_KEYS and values and all(fixed(v, key, op) for v in values):
                    return True
        return False

    return any(
        st.get("Effect") == "Allow" and everyone(st.get("Principal")) and not narrows(st.get("Condition"))
        for st in statements
    )


def _bucket_policy_denies(policy, account: str, action: str, resources: list[str]) -> bool:
    """Whether an unconditional Deny of the bucket policy applies to the
    owner account's own request (`action` like s3:GetBucketLocation)."""
    from fnmatch import fnmatchcase

    if isinstance(policy, bytes):
        policy = policy.decode("utf-8", "replace")
    me = {"*", account, f"arn:aws:iam::{account}:root"}
    for st in _policy_statements(policy):
        if st.get("Effect") != "Deny" or st.get("Condition") or "Action" not in st:
            continue
        principal = st.get("Principal")
        named = _as_list(principal.get("AWS")) if isinstance(principal, dict) else _as_list(principal)
        if not any(str(p) in me for p in named):
            continue
        if not _action_matches(st["Action"], action):
            continue
        if any(fnmatchcase(r, str(pattern)) for pattern in _as_list(st.get("Resource")) for r in resources):
            return True
    return False


@patch
def s3_as_aws_judges():
    """S3 answers as it does on AWS where moto differs:

    - GetBucketPolicyStatus judges the policy by S3's rule (s3_policy_is_public);
    - ListBuckets gives each bucket's BucketRegion;
    - HeadBucket on another account's bucket answers 403 with the
      x-amz-bucket-region header (moto answers 403 without it);
    - an unconditional Deny in a bucket policy refuses the owner account's
      own requests it names (moto ignores bucket policies), with the
      message AWS gives a request in the owner's account ("... with an
      explicit deny in a resource-based policy"). Managing the policy
      itself stays allowed, as it does for the account's root user.
    """
    from moto.core.responses import ActionResult
    from moto.s3.exceptions import AccessDeniedByLock, NoSuchBucketPolicy, S3ClientError
    from moto.s3.models import s3_backends
    from moto.s3.responses import S3Response

    def get_bucket_policy_status(self):
        policy = self.backend.get_bucket_policy(self.bucket_name)
        if not policy:
            raise NoSuchBucketPolicy(bucket_name=self.bucket_name)
        self.data["Action"] = "GetBucketPolicyStatus"
        return self.serialized(ActionResult({"PolicyStatus": {"IsPublic": s3_policy_is_public(policy)}}))

    def all_buckets(self):
        buckets = [
            {"Name": b.name, "CreationDate": b.creation_date_ISO8601, "BucketRegion": b.region_name}
            for b in self.backend.list_buckets(
                prefix=self._get_param("prefix"),
                bucket_region=self._get_param("bucket-region"),
                max_buckets=self._get_param("max-buckets"),
            )
        ]
        self.data["Action"] = "ListBuckets"
        return self.serialized(
            ActionResult(
                {
                    "Owner": {"ID": "bcaf1ffd86f41161ca5fb16fd081034f", "DisplayName": "webfile"},
                    "Buckets": buckets,
                }
            )
        )

    original_head = S3Response.head_bucket

    def head_bucket(self):
        try:
            return original_head(self)
        except AccessDeniedByLock:
            owner = s3_backends.bucket_accounts.get(self.bucket_name)
            region = s3_backends[owner[1]][owner[0]].buckets[self.bucket_name].region_name if owner else None
            return 403, ({"x-amz-bucket-region": region} if region else {}), ""

    original_authorize = S3Response._authenticate_and_authorize_s3_action
    unrefusable = {"PutBucketPolicy", "DeleteBucketPolicy", "GetBucketPolicy"}

    def authorize(self, bucket_name=None, key_name=None):
        original_authorize(self, bucket_name=bucket_name, key_name=key_name)
        action = str(self.data.get("Action") or "")
        if not bucket_name or not action or action in unrefusable:
            return
        account = self.get_current_account()
        if bucket_name not in self.backend.buckets:
            return  # another account's bucket, or none: moto's own answer stands
        policy = self.backend.buckets[bucket_name].policy
        if not policy:
            return
        resource = f"arn:aws:s3:::{bucket_name}" + (f"/{key_name}" if key_name else "")
        if _bucket_policy_denies(policy, account, f"s3:{action}", [resource]):
            raise S3ClientError(
                "AccessDenied",
                f"User: arn:aws:iam::{account}:root is not authorized to perform: s3:{action} "
                f'on resource: "{resource}" with an explicit deny in a resource-based policy',
            )

    S3Response.get_bucket_policy_status = get_bucket_policy_status
    S3Response.all_buckets = all_buckets
    S3Response.head_bucket = head_bucket
    S3Response._authenticate_and_authorize_s3_action = authorize


# --------------------------------------------------------------------------
# RDS
# --------------------------------------------------------------------------


@patch
def rds_endpoint_is_local_mariadb():
    """Every DB instance's Endpoint is the sandbox MariaDB (127.0.0.1:23306)."""
    from moto.rds.models import DBInstance

    DBInstance.address = property(lambda self: rds_address())
    DBInstance.endpoint = property(lambda self: {"Address": rds_address(), "Port": rds_port()})
    DBInstance.db_instance_port = property(lambda self: rds_port())


@patch
def rds_status_from_tag():
    """DBInstanceStatus follows the instance's `sandbox:status` tag when it
    has one: the states of a running database real accounts show and moto
    never does (backing-up, modifying, storage-optimization, which can last
    hours...). Without the tag the status is moto's own, so
    StopDBInstance/StartDBInstance still give stopped/available."""
    from moto.rds.models import DBInstance

    def get(self) -> str:
        for tag in self.tags or []:
            if tag.get("Key") == "sandbox:status" and tag.get("Value"):
                return tag["Value"]
        return self.__dict__.get("_sandbox_own_status", "available")

    def put(self, value: str) -> None:
        self.__dict__["_sandbox_own_status"] = value

    DBInstance.status = property(get, put)


# --------------------------------------------------------------------------
# ElastiCache serverless caches (missing from moto 5.2.5)
# --------------------------------------------------------------------------


def _serverless_store(backend) -> dict:
    # Kept on the per-account, per-region backend so /moto-api/reset clears it.
    if not hasattr(backend, "sandbox_serverless_caches"):
        backend.sandbox_serverless_caches = {}
    return backend.sandbox_serverless_caches


SERVERLESS_VERSIONS = {"redis": ("7", "7.1"), "valkey": ("8", "8.0")}


def add_serverless_cache(backend, region: str, account: str, p: dict) -> dict:
    """Creates a serverless cache in `backend` (one account and region) from
    CreateServerlessCache's parameters; what the API handler below and
    fast_provision.py (in-process provisioning) both call."""
    from moto.core.exceptions import ServiceException
    from moto.core.utils import utcnow

    name = p.get("ServerlessCacheName")
    engine = str(p.get("Engine", "")).lower()
    if engine not in SERVERLESS_VERSIONS:
        raise ServiceException("InvalidParameterValue", f"Invalid engine {engine!r}: use redis or valkey.")
    store = _serverless_store(backend)
    if name in store:
        raise ServiceException(
            "ServerlessCacheAlreadyExistsFault", f"Serverless cache {name} already exists."
        )
    major, full = SERVERLESS_VERSIONS[engine]
    major = str(p.get("MajorEngineVersion") or major)
    store[name] = {
        "ServerlessCacheName": name,
        "Description": p.get("Description", ""),
        "CreateTime": utcnow(),
        "Status": "available",
        "Engine": engine,
        "MajorEngineVersion": major,
        "FullEngineVersion": full if full.startswith(major) else f"{major}.0",
        "CacheUsageLimits": p.get("CacheUsageLimits"),
        "KmsKeyId": p.get("KmsKeyId"),
        "SecurityGroupIds": list(p.get("SecurityGroupIds") or []),
        "ARN": f"arn:aws:elasticache:{region}:{account}:serverlesscache:{name}",
        "UserGroupId": p.get("UserGroupId"),
        "SubnetIds": list(p.get("SubnetIds") or []),
        "SnapshotRetentionLimit": p.get("SnapshotRetentionLimit", 0),
        "DailySnapshotTime": p.get("DailySnapshotTime", "05:00"),
        "Tags": list(p.get("Tags") or []),
    }
    return store[name]


@patch
def elasticache_serverless_caches():
    """Create/Describe/Modify/DeleteServerlessCache, stored per account+region.

    The cache is always `available`, with TLS (serverless caches only speak
    TLS), and its Endpoint is the sandbox's TLS Redis (127.0.0.1:26380).
    """
    from moto.core.exceptions import ServiceException
    from moto.core.responses import ActionResult
    from moto.elasticache.responses import ElastiCacheResponse

    class ServerlessCacheNotFoundFault(ServiceException):
        code = "ServerlessCacheNotFoundFault"

    def view(cache: dict) -> dict:
        out = dict(cache)
        out["Endpoint"] = {"Address": cache_address(), "Port": cache_port()}
        out["ReaderEndpoint"] = {"Address": cache_address(), "Port": cache_port()}
        return out

    def lookup(self, name):
        store = _serverless_store(self.elasticache_backend)
        if name not in store:
            raise ServerlessCacheNotFoundFault(f"Serverless cache {name} not found.")
        return store[name]

    def create_serverless_cache(self):
        cache = add_serverless_cache(
            self.elasticache_backend, self.region, self.current_account, self._get_params()
        )
        return ActionResult({"ServerlessCache": view(cache)})

    def describe_serverless_caches(self):
        name = self._get_param("ServerlessCacheName")
        store = _serverless_store(self.elasticache_backend)
        caches = [lookup(self, name)] if name else list(store.values())
        return ActionResult({"ServerlessCaches": [view(c) for c in caches]})

    def modify_serverless_cache(self):
        p = self._get_params()
        cache = lookup(self, p.get("ServerlessCacheName"))
        for key in (
            "Description",
            "CacheUsageLimits",
            "DailySnapshotTime",
            "SnapshotRetentionLimit",
            "UserGroupId",
            "MajorEngineVersion",
        ):
            if key in p:
                cache[key] = p[key]
        if "SecurityGroupIds" in p:
            cache["SecurityGroupIds"] = list(p["SecurityGroupIds"] or [])
        if p.get("Engine"):
            cache["Engine"] = str(p["Engine"]).lower()
        return ActionResult({"ServerlessCache": view(cache)})

    def delete_serverless_cache(self):
        name = self._get_param("ServerlessCacheName")
        cache = lookup(self, name)
        del _serverless_store(self.elasticache_backend)[name]
        gone = view(cache)
        gone["Status"] = "deleting"
        return ActionResult({"ServerlessCache": gone})

    for fn in (
        create_serverless_cache,
        describe_serverless_caches,
        modify_serverless_cache,
        delete_serverless_cache,
    ):
        setattr(ElastiCacheResponse, fn.__name__, fn)


@patch
def elasticache_clusters_and_groups_are_local():
    """Cache clusters and replication groups look like the real thing and point
    at the sandbox Redis:

    - every endpoint (cluster nodes, a group's primary/reader/configuration
      endpoints, its members' read endpoints) is SANDBOX_CACHE_ADDRESS, port
      SANDBOX_CACHE_PORT (TLS, 26380) when encryption in transit is on, else
      SANDBOX_CACHE_PLAIN_PORT (plain, 26379);
    - DescribeCacheClusters returns CacheNodes (with the endpoint),
      SecurityGroups (from SecurityGroupIds), EngineVersion and
      ReplicationGroupId (moto returns none of them);
    - CreateReplicationGroup also creates its member clusters (`<id>-001`...),
      with the group's engine, TLS flag and security groups, as AWS does;
    - DeleteReplicationGroup / DeleteCacheCluster remove the group (with its
      members) / the cluster (moto keeps them forever with status `deleting`).
    """
    import inspect

    from moto.elasticache.models import CacheCluster, ElastiCacheBackend, ReplicationGroup

    default_versions = {"redis": "7.1", "valkey": "8.0", "memcached": "1.6.22"}

    def port_for(tls) -> int:
        return cache_port() if tls else cache_plain_port()

    # ---- clusters
    original_cluster_init = CacheCluster.__init__

    def cluster_init(self, *args, **kwargs):
        original_cluster_init(self, *args, **kwargs)
        self.engine_version = self.engine_version or default_versions.get(self.engine, "7.1")
        if not hasattr(self, "replication_group_id"):
            self.replication_group_id = kwargs.get("replication_group_id")
        self.transit_encryption_enabled = bool(self.transit_encryption_enabled)

    def cache_nodes(self):
        return [
            {
                "CacheNodeId": f"{i + 1:04d}",
                "CacheNodeStatus": "available",
                "CacheNodeCreateTime": self.cache_cluster_create_time,
                "Endpoint": {"Address": cache_address(), "Port": port_for(self.transit_encryption_enabled)},
                "ParameterGroupStatus": "in-sync",
                "CustomerAvailabilityZone": self.preferred_availability_zone or "us-west-2a",
            }
            for i in range(self.num_cache_nodes or 1)
        ]

    CacheCluster.__init__ = cluster_init
    CacheCluster.cache_nodes = property(cache_nodes)
    CacheCluster.security_groups = property(
        lambda self: [{"SecurityGroupId": g, "Status": "active"} for g in (self.security_group_ids or [])]
    )

    # ---- replication groups
    original_group_init = ReplicationGroup.__init__

    def group_init(self, *args, **kwargs):
        original_group_init(self, *args, **kwargs)
        local = {"address": cache_address(), "port": port_for(self.transit_encryption_enabled)}
        for ng in self.node_groups:
            if "primary_endpoint" in ng:
                ng["primary_endpoint"] = dict(local)
                ng["reader_endpoint"] = dict(local)
                ng["primary_endpoint_address"] = ng["reader_endpoint_address"] = local["address"]
                ng["port"] = local["port"]
            for member in ng.get("node_group_members", []):
                if "read_endpoint" in member:
                    member["read_endpoint"] = dict(local)
        if getattr(self, "configuration_endpoint", None):
            self.configuration_endpoint = dict(local)

    ReplicationGroup.__init__ = group_init

    original_create_group = ElastiCacheBackend.create_replication_group
    cluster_params = [
        p for p in inspect.signature(ElastiCacheBackend.create_cache_cluster).parameters if p != "self"
    ]

    def create_replication_group(self, *args, **kwargs):
        group = original_create_group(self, *args, **kwargs)
        for member in group.member_clusters:
            if member in self.cache_clusters:
                continue
            params = dict.fromkeys(cluster_params)
            params.update(
                cache_cluster_id=member,
                replication_group_id=group.replication_group_id,
                cache_node_type=group.cache_node_type,
                engine=group.engine,
                engine_version=kwargs.get("engine_version"),
                transit_encryption_enabled=group.transit_encryption_enabled,
                security_group_ids=list(group.security_group_ids or []),
                cache_subnet_group_name=group.cache_subnet_group_name,
                port=group.port,
                num_cache_nodes=1,
                log_delivery_configurations=[],
            )
            cluster = self.create_cache_cluster(**params)
            cluster.replication_group_id = group.replication_group_id
        return group

    original_delete_group = ElastiCacheBackend.delete_replication_group

    def delete_replication_group(self, replication_group_id, retain_primary_cluster=None):
        members = list(
            self.replication_groups.get(replication_group_id).member_clusters
            if replication_group_id in self.replication_groups
            else []
        )
        group = original_delete_group(self, replication_group_id, retain_primary_cluster)
        self.replication_groups.pop(replication_group_id, None)
        for member in members:
            if retain_primary_cluster and member == members[0]:
                continue
            self.cache_clusters.pop(member, None)
        return group

    original_delete_cluster = ElastiCacheBackend.delete_cache_cluster

    def delete_cache_cluster(self, cache_cluster_id):
        cluster = original_delete_cluster(self, cache_cluster_id)
        self.cache_clusters.pop(cache_cluster_id, None)
        return cluster

    ElastiCacheBackend.create_replication_group = create_replication_group
    ElastiCacheBackend.delete_replication_group = delete_replication_group
    ElastiCacheBackend.delete_cache_cluster = delete_cache_cluster


def cache_cluster_port() -> int:
    return int(os.environ.get("SANDBOX_CACHE_CLUSTER_PORT", "26390"))


@patch
def elasticache_cluster_mode_is_local():
    """A replication group with cluster mode on (ClusterMode enabled) and
    encryption in transit has its configuration endpoint at the sandbox's
    Redis cluster (SANDBOX_CACHE_CLUSTER_PORT, 26390: three TLS primaries
    that sandbox/redis_cluster.py starts), as a real one's leads to its
    shards."""
    from moto.elasticache.models import ReplicationGroup

    original_init = ReplicationGroup.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        if self.cluster_enabled and self.transit_encryption_enabled:
            self.configuration_endpoint = {"address": cache_address(), "port": cache_cluster_port()}

    ReplicationGroup.__init__ = init


# --------------------------------------------------------------------------
# Elastic Beanstalk
# --------------------------------------------------------------------------

HEALTH_STATUS = {"Green": "Ok", "Yellow": "Warning", "Red": "Severe", "Grey": "Unknown"}
HEALTH_CAUSES = {
    "Green": [],
    "Yellow": ["Sandbox: health set to Yellow by the sandbox:health tag."],
    "Red": [
        "Sandbox: health set to Red by the sandbox:health tag.",
        "100.0 % of the requests are failing with HTTP 5xx.",
    ],
    "Grey": ["Sandbox: health set to Grey by the sandbox:health tag."],
}


def _env_colour(env) -> str:
    wanted = str((env.tags or {}).get("sandbox:health", "Green")).capitalize()
    return wanted if wanted in HEALTH_STATUS else "Green"


# Beanstalk states real accounts have, each set by a tag as `sandbox:health`
# sets the colour: `sandbox:status` an EnvironmentStatus other than Ready
# (an environment Updating during every eb deploy or eb setenv, Launching
# while it is created), `sandbox:causes` the causes enhanced health gives
# (the sentences AWS writes).
ENV_STATUSES = ("Ready", "Launching", "Updating", "Aborting", "LinkingFrom", "LinkingTo", "Terminating")
HEALTH_CAUSE_SETS = {
    # The app answers 4xx to many requests (scanners' foreign Host headers,
    # unknown URLs): a Warning on a correct environment.
    "4xx": [
        "42.9 % of the requests are erroring with HTTP 4xx.",
        "Insufficient request rate (6.0 requests/min) to determine application health.",
    ],
    # The instance itself is in trouble (the developer guide's Warning example).
    "impaired": ["Impaired services on 1 out of 1 instance."],
}


def _env_status(env) -> str:
    wanted = str((env.tags or {}).get("sandbox:status", "Ready"))
    return wanted if wanted in ENV_STATUSES else "Ready"


def _env_causes(env) -> list[str]:
    chosen = str((env.tags or {}).get("sandbox:causes", ""))
    return list(HEALTH_CAUSE_SETS.get(chosen) or HEALTH_CAUSES[_env_colour(env)])


@patch
def eb_environment_looks_real():
    """Environments get an id e-xxxxxxxxxx, the site's CNAME, the solution stack
    they were created with, Status Ready and Health Green (tag `sandbox:health`
    = Red/Yellow/Grey overrides the colour, `sandbox:status` the status)."""
    from moto.elasticbeanstalk.models import Environment

    original_init = Environment.__init__

    def __init__(self, application, environment_name, solution_stack_name, tags):
        original_init(self, application, environment_name, solution_stack_name, tags)
        alphabet = string.ascii_lowercase + string.digits
        self.environment_id = "e-" + "".join(random.choices(alphabet, k=10))
        # moto overwrites the stack with the string "None"; keep what was asked.
        self.solution_stack_name = solution_stack_name
        self.option_settings = {}  # (Namespace, OptionName) -> Value
        self.platform_arn_value = None

    def setter(name):
        return lambda self, value: None  # moto's __init__ assigns; ignore it

    Environment.__init__ = __init__
    Environment.cname = property(lambda self: site_cname(), setter("cname"))
    Environment.endpoint_url = property(lambda self: site_cname().split(":")[0], setter("endpoint_url"))
    Environment.status = property(_env_status, setter("status"))
    Environment.health = property(_env_colour, setter("health"))
    Environment.health_status = property(
        lambda self: HEALTH_STATUS[_env_colour(self)], setter("health_status")
    )
    Environment.platform_arn = property(lambda self: self.platform_arn_value or _platform_arn(self))


def _platform_arn(env) -> str | None:
    # "64bit Amazon Linux 2023 v4.6.0 running Python 3.12"
    # -> arn:aws:elasticbeanstalk:us-west-2::platform/Python 3.12 running on 64bit Amazon Linux 2023/4.6.0
    stack = env.solution_stack_name or ""
    if " running " not in stack or " v" not in stack:
        return None
    os_part, lang = stack.split(" running ", 1)
    os_name, version = os_part.rsplit(" v", 1)
    return f"arn:aws:elasticbeanstalk:{env.region}::platform/{lang} running on {os_name}/{version}"


def _find_env(backend, name=None, env_id=None):
    for env in backend.describe_environments():
        if (name and env.environment_name == name) or (env_id and env.environment_id == env_id):
            return env
    return None


@patch
def eb_describe_filters():
    """DescribeEnvironments honours ApplicationName, EnvironmentNames and
    EnvironmentIds; DescribeApplications honours ApplicationNames (moto returns
    everything)."""
    from moto.core.responses import ActionResult
    from moto.elasticbeanstalk.responses import EBResponse

    def describe_environments(self):
        app = self._get_param("ApplicationName")
        names = self._get_param("EnvironmentNames") or []
        ids = self._get_param("EnvironmentIds") or []
        envs = [
            e
            for e in self.elasticbeanstalk_backend.describe_environments()
            if (not app or e.application_name == app)
            and (not names or e.environment_name in names)
            and (not ids or e.environment_id in ids)
        ]
        return ActionResult({"Environments": envs})

    def describe_applications(self):
        names = self._get_param("ApplicationNames") or []
        apps = [
            a
            for a in self.elasticbeanstalk_backend.applications.values()
            if not names or a.application_name in names
        ]
        return ActionResult({"Applications": apps})

    EBResponse.describe_environments = describe_environments
    EBResponse.describe_applications = describe_applications


@patch
def eb_option_settings():
    """CreateEnvironment keeps its OptionSettings (and PlatformArn);
    UpdateEnvironment changes them; DescribeConfigurationSettings returns them
    (environment properties, instance profile, security groups...)."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.elasticbeanstalk.exceptions import InvalidParameterValueError
    from moto.elasticbeanstalk.responses import EBResponse

    original_create = EBResponse.create_environment

    def apply(env, settings, to_remove):
        for s in settings or []:
            env.option_settings[(s.get("Namespace"), s.get("OptionName"))] = s.get("Value")
        for s in to_remove or []:
            env.option_settings.pop((s.get("Namespace"), s.get("OptionName")), None)

    def create_environment(self):
        result = original_create(self)
        env = _find_env(self.elasticbeanstalk_backend, name=self._get_param("EnvironmentName"))
        if env is not None:
            apply(env, self._get_param("OptionSettings"), [])
            env.platform_arn_value = self._get_param("PlatformArn")
        return result

    def update_environment(self):
        env = _find_env(
            self.elasticbeanstalk_backend,
            name=self._get_param("EnvironmentName"),
            env_id=self._get_param("EnvironmentId"),
        )
        if env is None:
            raise InvalidParameterValueError("No Environment found.")
        apply(env, self._get_param("OptionSettings"), self._get_param("OptionsToRemove"))
        if self._get_param("SolutionStackName"):
            env.solution_stack_name = self._get_param("SolutionStackName")
            # The platform follows the new stack unless an ARN comes with it.
            env.platform_arn_value = None
        if self._get_param("PlatformArn"):
            env.platform_arn_value = self._get_param("PlatformArn")
        env.date_updated = utcnow()
        return ActionResult(env)

    def describe_configuration_settings(self):
        app_name = self._get_param("ApplicationName")
        env_name = self._get_param("EnvironmentName")
        env = _find_env(self.elasticbeanstalk_backend, name=env_name)
        if env is None or (app_name and env.application_name != app_name):
            raise InvalidParameterValueError(f"No Environment found for EnvironmentName = '{env_name}'.")
        desc = {
            "SolutionStackName": env.solution_stack_name,
            "PlatformArn": env.platform_arn,
            "ApplicationName": env.application_name,
            "EnvironmentName": env.environment_name,
            "DeploymentStatus": "deployed",
            "DateCreated": env.date_created,
            "DateUpdated": env.date_updated,
            "OptionSettings": [
                {"ResourceName": None, "Namespace": ns, "OptionName": opt, "Value": val}
                for (ns, opt), val in sorted(env.option_settings.items())
            ],
        }
        return ActionResult({"ConfigurationSettings": [desc]})

    EBResponse.create_environment = create_environment
    EBResponse.update_environment = update_environment
    EBResponse.describe_configuration_settings = describe_configuration_settings


@patch
def eb_describe_environment_health():
    """DescribeEnvironmentHealth (missing from moto): HealthStatus, Color,
    Causes and Status, from the same colour as DescribeEnvironments."""
    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.elasticbeanstalk.exceptions import InvalidParameterValueError
    from moto.elasticbeanstalk.responses import EBResponse

    def describe_environment_health(self):
        env = _find_env(
            self.elasticbeanstalk_backend,
            name=self._get_param("EnvironmentName"),
            env_id=self._get_param("EnvironmentId"),
        )
        if env is None:
            raise InvalidParameterValueError("No Environment found.")
        colour = _env_colour(env)
        return ActionResult(
            {
                "EnvironmentName": env.environment_name,
                "HealthStatus": HEALTH_STATUS[colour],
                "Status": _env_status(env),
                "Color": colour,
                "Causes": _env_causes(env),
                "InstancesHealth": {HEALTH_STATUS[colour]: 1},
                "RefreshedAt": utcnow(),
            }
        )

    EBResponse.describe_environment_health = describe_environment_health


HEALTH_EVENTS = {
    # colour -> (severity, message) of the event the transition leaves
    "Yellow": ("WARN", "Environment health has transitioned from Ok to Warning."),
    "Red": (
        "ERROR",
        (
            "Environment health has transitioned from Ok to Severe. "
            "100.0 % of the requests are failing with HTTP 5xx."
        ),
    ),
    "Grey": (
        "WARN",
        ("Environment health has transitioned from Ok to Unknown. None of the instances are sending data."),
    ),
}
SEVERITIES = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]


@patch
def eb_describe_events():
    """DescribeEvents (missing from moto): the events an environment's life
    leaves, derived from its state: creation (INFO), the launch (INFO), and
    while the `sandbox:health` tag sets a colour other than Green, the health
    transition (ERROR for Red: "Environment health has transitioned from Ok
    to Severe. 100.0 % of the requests are failing with HTTP 5xx."; WARN for
    Yellow/Grey), dated when the tag was set. Filters: ApplicationName,
    EnvironmentName, EnvironmentId, Severity (that level or above),
    StartTime/EndTime, MaxRecords; newest first."""
    from datetime import datetime

    from moto.core.responses import ActionResult
    from moto.core.utils import utcnow
    from moto.elasticbeanstalk.models import EBBackend
    from moto.elasticbeanstalk.responses import EBResponse

    original_tags = EBBackend.update_tags_for_resource

    def update_tags_for_resource(self, resource_arn, tags_to_add, tags_to_remove):
        before = {}
        for env in self.describe_environments():
            before[env.environment_arn] = _env_colour(env)
        result = original_tags(self, resource_arn, tags_to_add, tags_to_remove)
        for env in self.describe_environments():
            if env.environment_arn in before and before[env.environment_arn] != _env_colour(env):
                env.sandbox_health_since = utcnow()
        return result

    def env_events(env) -> list:
        base = {
            "ApplicationName": env.application_name,
            "EnvironmentName": env.environment_name,
            "PlatformArn": env.platform_arn,
        }
        out = [
            dict(base, EventDate=env.date_created, Severity="INFO", Message="createEnvironment is starting."),
            dict(
                base,
                EventDate=env.date_created,
                Severity="INFO",
                Message="Successfully launched environment: " + env.environment_name,
            ),
        ]
        colour = _env_colour(env)
        if colour in HEALTH_EVENTS:
            severity, message = HEALTH_EVENTS[colour]
            when = getattr(env, "sandbox_health_since", None) or env.date_updated
            out.append(dict(base, EventDate=when, Severity=severity, Message=message))
        return out

    def as_naive(value):
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        try:
            return datetime.fromisoformat(str(value)).replace(tzinfo=None)
        except ValueError:
            return None

    def describe_events(self):
        app = self._get_param("ApplicationName")
        name = self._get_param("EnvironmentName")
        env_id = self._get_param("EnvironmentId")
        severity = str(self._get_param("Severity") or "TRACE").upper()
        floor = SEVERITIES.index(severity) if severity in SEVERITIES else 0
        start = as_naive(self._get_param("StartTime")) if self._get_param("StartTime") else None
        end = as_naive(self._get_param("EndTime")) if self._get_param("EndTime") else None
        limit = int(self._get_param("MaxRecords") or 1000)
        events = []
        for env in self.elasticbeanstalk_backend.describe_environments():
            if (
                (app and env.application_name != app)
                or (name and env.environment_name != name)
                or (env_id and env.environment_id != env_id)
            ):
                continue
            events.extend(env_events(env))
        events = [
            e
            for e in events
            if SEVERITIES.index(e["Severity"]) >= floor
            and (start is None or as_naive(e["EventDate"]) >= start)
            and (end is None or as_naive(e["EventDate"]) < end)
        ]
        events.sort(key=lambda e: as_naive(e["EventDate"]), reverse=True)
        return ActionResult({"Events": events[:limit]})

    EBBackend.update_tags_for_resource = update_tags_for_resource
    EBResponse.describe_events = describe_events


# --------------------------------------------------------------------------
# STS
# --------------------------------------------------------------------------

STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"
ROLE_ARN_RE = r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,64})$"
SESSION_NAME_RE = r"^[\w+=,.@-]{2,64}$"
EXTERNAL_ID_RE = r"^[\w+=,.@:/-]{2,1224}$"


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _policy_statements(document) -> list[dict]:
    """The statements of a policy document (a JSON string, possibly
    URL-encoded as IAM returns it, or already parsed)."""
    from urllib.parse import unquote

    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            try:
                document = json.loads(unquote(document))
            except ValueError:
                return []
    if not isinstance(document, dict):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def _principal_matches(principal, candidates: set[str]) -> bool:
    """Whether a trust statement's Principal names the caller. `candidates`
    holds every form the caller may be named by: account id,
    arn:aws:iam::ID:root, its own ARN, the role ARN behind an assumed role."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(p == "*" or p in candidates for p in _as_list(principal.get("AWS")))


def _conditions_hold(condition, context: dict[str, str]) -> bool:
    """A statement's Condition block against the request's context keys
    (lower-cased names). Operators: StringEquals, StringNotEquals,
    StringEqualsIgnoreCase, StringLike, StringNotLike (each with IfExists),
    Null. Any other operator does not hold (the statement does not apply)."""
    from fnmatch import fnmatchcase

    if not condition:
        return True
    if not isinstance(condition, dict):
        return False
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            return False
        base = operator.removesuffix("IfExists")
        for key, wanted in tests.items():
            values = [str(v) for v in _as_list(wanted)]
            actual = context.get(str(key).lower())
            if base == "Null":
                if (actual is None) != (str(values[0]).lower() == "true" if values else True):
                    return False
                continue
            if actual is None:
                # Absent keys: the negated operators and ...IfExists hold.
                if operator.endswith("IfExists") or base in ("StringNotEquals", "StringNotLike"):
                    continue
                return False
            if base == "StringEquals":
                ok = actual in values
            elif base == "StringNotEquals":
                ok = actual not in values
            elif base == "StringEqualsIgnoreCase":
                ok = actual.lower() in [v.lower() for v in values]
            elif base == "StringLike":
                ok = any(fnmatchcase(actual, v) for v in values)
            elif base == "StringNotLike":
                ok = not any(fnmatchcase(actual, v) for v in values)
            else:
                return False
            if not ok:
                return False
    return True


def _action_matches(action, wanted: str) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(wanted.lower(), str(a).lower()) for a in _as_list(action))


def trust_admits(document, candidates: set[str], context: dict[str, str]) -> bool:
    """IAM's evaluation of a role's trust policy for sts:AssumeRole: some
    Allow statement names the caller (Principal AWS) with its conditions
    met, and no Deny statement applies."""
    allowed = False
    for st in _policy_statements(document):
        if "Action" not in st or "NotPrincipal" in st:
            continue
        if not _action_matches(st["Action"], "sts:AssumeRole"):
            continue
        if not _principal_matches(st.get("Principal"), candidates):
            continue
        if not _conditions_hold(st.get("Condition"), context):
            continue
        if st.get("Effect") == "Deny":
            return False
        if st.get("Effect") == "Allow":
            allowed = True
    return allowed


def principal_forms(caller_arn: str) -> set[str]:
    """The ARNs a trust policy names the caller by, beyond its own: IAM names
    a user arn:PARTITION:iam::ID:user/NAME, which moto's identity of a key it
    did not issue (a sandbox account's 12-digit key) writes as
    arn:PARTITION:sts::ID:user/NAME. A trust naming one principal admits that
    principal alone: another user or role of the same account is refused."""
    import re

    m = re.match(r"^arn:(aws[a-z-]*):sts::(\d{12}):user/(.+)$", caller_arn)
    return {f"arn:{m.group(1)}:iam::{m.group(2)}:user/{m.group(3)}"} if m else set()


def _sts_access_denied(caller_arn: str, role_arn: str):
    """STS's AccessDenied: HTTP 403 and the query protocol's XML error."""
    from uuid import uuid4
    from xml.sax.saxutils import escape

    request_id = str(uuid4())
    message = f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: {role_arn}"
    body = (
        f'<ErrorResponse xmlns="{STS_XMLNS}">\n'
        f"  <Error>\n    <Type>Sender</Type>\n    <Code>AccessDenied</Code>\n"
        f"    <Message>{escape(message)}</Message>\n  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n"
    )
    # moto's response hook puts its own request id into the body and headers.
    return body, {"status": 403, "Content-Type": "text/xml"}


@patch
def sts_assume_role_checks_trust():
    """AssumeRole as AWS enforces it (moto issues credentials for any ARN):
    403 AccessDenied ("User: <caller> is not authorized to perform:
    sts:AssumeRole on resource: <role arn>") when the role does not exist in
    its account, or its trust policy admits neither the caller's account (as
    the id or arn:aws:iam::ID:root) nor the caller's ARN, or a condition of
    the trust fails (StringEquals sts:ExternalId with the ExternalId missing
    or different); ValidationError for a malformed RoleArn, RoleSessionName,
    ExternalId, or DurationSeconds beyond the role's MaxSessionDuration.
    The credentials it issues act in the role's account."""
    import re

    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends
    from moto.sts.exceptions import STSValidationError
    from moto.sts.responses import TokenResponse

    original = TokenResponse.assume_role

    def caller(self) -> tuple[str, str, set[str]]:
        """(account, ARN, the names a trust policy may give the caller)."""
        key = self.get_access_key()
        _, arn, account = self.backend.get_caller_identity(key, self.region)
        names = {account, f"arn:aws:iam::{account}:root", arn, *principal_forms(arn)}
        assumed = self.backend.get_assumed_role_from_access_key(key)
        if assumed is not None:
            names.add(assumed.role_arn)
        return account, arn, names

    def assume_role(self):
        role_arn = self._get_param("RoleArn") or ""
        session = self._get_param("RoleSessionName") or ""
        external_id = self._get_param("ExternalId")
        m = re.match(ROLE_ARN_RE, role_arn)
        if not m:
            raise STSValidationError(f"{role_arn} is invalid")
        if not re.match(SESSION_NAME_RE, session):
            raise STSValidationError(
                f"1 validation error detected: Value '{session}' at 'roleSessionName' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: "
                "[\\w+=,.@-]* and length between 2 and 64"
            )
        if external_id is not None and not re.match(EXTERNAL_ID_RE, external_id):
            raise STSValidationError(
                f"1 validation error detected: Value '{external_id}' at 'externalId' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: "
                "[\\w+=,.@:\\/-]* and length between 2 and 1224"
            )
        account, caller_arn, names = caller(self)
        target = m.group(1)
        try:
            role = iam_backends[target][self.partition].get_role_by_arn(role_arn)
        except NotFoundException:  # no such role in that account
            return _sts_access_denied(caller_arn, role_arn)
        context = {
            "aws:principalaccount": account,
            "aws:principalarn": caller_arn,
            "sts:rolesessionname": session,
        }
        if external_id is not None:
            context["sts:externalid"] = external_id
        if not trust_admits(role.assume_role_policy_document, names, context):
            return _sts_access_denied(caller_arn, role_arn)
        duration = self._get_int_param("DurationSeconds", 3600)
        limit = int(role.max_session_duration or 3600)
        if duration > limit:
            raise STSValidationError(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
            )
        return original(self)

    TokenResponse.assume_role = assume_role


# --------------------------------------------------------------------------
# IAM
# --------------------------------------------------------------------------

# The AWS managed policies a learner of this lab attaches (the guide's web
# tier policy; the broad ones the eb.role check warns about).
LAB_MANAGED_POLICIES = [
    "AWSElasticBeanstalkWebTier",
    "AWSElasticBeanstalkWorkerTier",
    "AWSElasticBeanstalkMulticontainerDocker",
    "AWSElasticBeanstalkEnhancedHealth",
    "AdministratorAccess-AWSElasticBeanstalk",
    "AmazonS3FullAccess",
    "AmazonS3ReadOnlyAccess",
    "AdministratorAccess",
]


@patch
def iam_lab_managed_policies():
    """Every account has the AWS managed policies in LAB_MANAGED_POLICIES
    (arn:aws:iam::aws:policy/NAME), so the guide's `attach-role-policy
    --policy-arn arn:aws:iam::aws:policy/AWSElasticBeanstalkWebTier` works and
    GetPolicy/GetPolicyVersion return their real documents. moto loads either
    none (its default) or all ~1,600 of them into every account."""
    import moto.iam.models as iam_models

    data = json.loads(iam_models.aws_managed_policies_data)
    subset = {n: data[n] for n in LAB_MANAGED_POLICIES if n in data}
    original = iam_models.IAMBackend._init_aws_policies

    def _init_aws_policies(self):
        if iam_models.load_iam_aws_managed_policies():
            return original(self)
        return [
            iam_models.AWSManagedPolicy.from_data(n, self.account_id, self.region_name, d)
            for n, d in subset.items()
        ]

    iam_models.IAMBackend._init_aws_policies = _init_aws_policies


# --------------------------------------------------------------------------
# Recorder
# --------------------------------------------------------------------------


@patch
def recorder_clear_alias():
    """/moto-api/recorder/clear-recording as an alias of moto's reset-recording."""
    from moto.moto_api._internal import urls

    urls.url_paths["{0}/moto-api/recorder/clear-recording"] = urls.recorder_response.reset_recording


# --------------------------------------------------------------------------
# Serving cost (a cohort of learners makes thousands of calls a minute, and
# moto shares two cores with labcheck, the proxy and the site)
# --------------------------------------------------------------------------


@patch
def recording_starts_idle():
    """The recorder is on, but records only between start-recording and
    stop-recording (what the read-only tests do): recording every call from
    start-up opened and appended to a file on each request (a tenth of moto's
    time under a cohort run) and grew the file without end."""
    from moto.moto_api import recorder

    recorder.stop_recording()


@patch
def dispatch_lookups_cached():
    """moto finds the backend for each request by listing its own package
    directory (an isdir per module) and then trying every backend's URL
    pattern, under one lock. Both answers depend only on the host name: keep
    them (a fifth of moto's time under a cohort run)."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = frozenset(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    original = DomainDispatcherApplication.get_backend_for_host
    known: dict = {}

    def get_backend_for_host(self, host):
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


@patch
def account_backends_found_by_key():
    """moto makes sure an account's backend exists on every lookup by listing
    every account id it holds (`account_id in list(self.keys())`): linear in
    the number of accounts, several times per request. A dict lookup answers
    the same question; moto's own path still runs for a new account, or for
    a backend dict that /moto-api/reset took off its list."""
    from moto.core.base_backend import BackendDict

    original = BackendDict._create_account_specific_backend

    def create_account_specific_backend(self, account_id):
        if dict.__contains__(self, account_id) and any(b is self for b in BackendDict._instances):
            return
        original(self, account_id)

    BackendDict._create_account_specific_backend = create_account_specific_backend


@patch
def response_methods_listed_once():
    """moto lists a response class's methods (inspect.getmembers) on every
    request to find the action's handler; a class's methods do not change
    while the server runs: list them once per class."""
    from moto.core import responses

    original = responses.method_names_from_class
    known: dict = {}

    def method_names_from_class(clazz):
        if clazz not in known:
            known[clazz] = original(clazz)
        return known[clazz]

    responses.method_names_from_class = method_names_from_class


@patch
def quiet_access_log():
    """No line per request in moto.log (werkzeug's access log took a tenth of
    moto's time under a cohort run); warnings and errors still go there."""
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)


APPLIED: list[str] = []
MOTO_VERSION = "?"


def pinned_moto_version() -> str | None:
    """The moto version requirements.txt pins (moto[server]==X)."""
    import re

    try:
        text = (HERE / "requirements.txt").read_text()
    except OSError:
        return None
    m = re.search(r"^moto(?:\[[^\]]*\])?==([^\s#]+)", text, re.MULTILINE)
    return m.group(1) if m else None


def check_moto_version() -> str:
    """The patches reach into moto's internals as of the pinned version: refuse
    to start on another one (sandbox/up installs the pinned one)."""
    from importlib.metadata import version

    installed, pinned = version("moto"), pinned_moto_version()
    if pinned and installed != pinned:
        raise SystemExit(
            f"moto_launcher: moto {installed} is installed but requirements.txt pins "
            f"{pinned}, the version these patches are written for: run sandbox/up"
        )
    return installed


def apply_patches() -> None:
    for fn in PATCHES:
        fn()
        APPLIED.append(fn.__name__)


class SandboxHealth:
    """WSGI wrapper answering the sandbox's own endpoints (not AWS APIs, never
    recorded): GET /sandbox/health, POST /sandbox/provision (fast_provision.py:
    accounts provisioned in-process, for `sandbox/provision --accounts N`)."""

    def __init__(self, app):
        self.app = app
        self.provision_lock = threading.Lock()

    @staticmethod
    def _json(start_response, status: str, answer: dict):
        body = json.dumps(answer).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO")
        if path == "/sandbox/health":
            return self._json(
                start_response, "200 OK", {"ok": True, "moto": MOTO_VERSION, "patches": APPLIED}
            )
        if path == "/sandbox/provision":
            import importlib

            with self.provision_lock:
                # Loaded afresh for each request, so edits to them take effect
                # without restarting moto (and losing every account).
                import fast_provision
                import provision
                import sandbox_common

                for module in (sandbox_common, provision, fast_provision):
                    importlib.reload(module)
                answer = fast_provision.handle(environ)
            return self._json(start_response, *answer)
        return self.app(environ, start_response)


def main() -> None:
    import signal

    from werkzeug.serving import run_simple

    # fast_provision imports this module by name: let it find this instance
    # (run as __main__) rather than import and patch a second copy.
    sys.modules.setdefault("moto_launcher", sys.modules[__name__])
    sys.path.insert(0, str(HERE))
    global MOTO_VERSION
    MOTO_VERSION = check_moto_version()
    apply_patches()

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    # A fresh recording per server start.
    rec = Path(os.environ["MOTO_RECORDER_FILEPATH"])
    rec.parent.mkdir(parents=True, exist_ok=True)
    rec.write_text("")

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(
        f"moto {MOTO_VERSION} sandbox on http://{HOST}:{PORT} with patches: {', '.join(APPLIED)}", flush=True
    )
    app = SandboxHealth(DomainDispatcherApplication(create_backend_app))
    run_simple(HOST, PORT, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
