"""Introduce one named fault into a provisioned moto account.

Run through sandbox/break. SCENARIOS is plain data (name -> description and
function) so that later steps can add cache, rds and eb faults: write a
function taking the account id, add one entry. `sandbox/up` (or
`sandbox/provision`) repairs every scenario.
"""

import argparse
import json
import sys

import sandbox_common as c


def _empty_bucket(s3, bucket: str) -> int:
    n = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        objs = [{"Key": o["Key"], "VersionId": o["VersionId"]}
                for o in page.get("Versions", []) + page.get("DeleteMarkers", [])]
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


def break_public_bucket(account: str) -> str:
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    s3.delete_public_access_block(Bucket=bucket)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "PublicRead", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    return f"turned the public access block off and made {bucket} world-readable by policy"


def break_empty_bucket(account: str) -> str:
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    n = _empty_bucket(s3, bucket)
    return f"deleted all {n} objects of {bucket}"


def break_archived_media(account: str) -> str:
    s3, bucket = c.client("s3", account), c.bucket_name(account)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])]
    for key in keys:
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       StorageClass="GLACIER", MetadataDirective="COPY")
    return f"moved all {len(keys)} objects of {bucket} to the GLACIER storage class"


SCENARIOS = {
    "no-bucket": {
        "description": "the media bucket does not exist (deleted with its objects)",
        "run": break_no_bucket,
    },
    "no-cors": {
        "description": "the media bucket has no CORS configuration",
        "run": break_no_cors,
    },
    "public-bucket": {
        "description": "public access block off and a policy granting s3:GetObject to everyone",
        "run": break_public_bucket,
    },
    "empty-bucket": {
        "description": "the media bucket exists but holds no objects",
        "run": break_empty_bucket,
    },
    "archived-media": {
        "description": "every media object is archived (GLACIER), so downloads fail",
        "run": break_archived_media,
    },
}


def print_list(out=sys.stdout) -> None:
    width = max(len(n) for n in SCENARIOS)
    for name, sc in SCENARIOS.items():
        print(f"  {name:<{width}}  {sc['description']}", file=out)


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="sandbox/break",
        description="Introduce one named fault into a sandbox account "
                    "(sandbox/up or sandbox/provision repairs it).")
    ap.add_argument("scenario", nargs="?", help="scenario name (see --list)")
    ap.add_argument("--list", action="store_true", help="list the scenarios and exit")
    ap.add_argument("--account", default=c.DEFAULT_ACCOUNT, type=c.valid_account,
                    help=f"12-digit account id (default {c.DEFAULT_ACCOUNT})")
    args = ap.parse_args()
    if args.list:
        print_list()
        return 0
    if args.scenario not in SCENARIOS:
        what = f"unknown scenario {args.scenario!r}" if args.scenario else "no scenario given"
        print(f"[break] error: {what}; known scenarios:", file=sys.stderr)
        print_list(sys.stderr)
        return 2
    done = SCENARIOS[args.scenario]["run"](args.account)
    print(f"[break] {args.scenario} (account {args.account}): {done}")
    print("[break] repair with: sandbox/up   (or sandbox/provision"
          + ("" if args.account == c.DEFAULT_ACCOUNT else f" --account {args.account}") + ")")
    return 0


if __name__ == "__main__":
    sys.exit(c.run_main(main))
