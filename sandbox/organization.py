"""Model an AWS Organizations organization in moto, for `labcheck cohort grade
--organization`. Run through sandbox/organization.

The management account (--management, default 700000000000: its 12-digit key
acts as it) creates the organization, or reuses the one it has, then a fresh
pair of organizational units under the root, each run's names its own:

  cohort-a-XXXX      ada, grace (ACTIVE), edsger (closed: SUSPENDED)
    late-XXXX        alan (ACTIVE), a unit below cohort-a, for --recursive
  cohort-b-XXXX      barbara (ACTIVE)

moto gives created accounts random ids; each is then provisioned (the solved
lab, in-process, as sandbox/provision --accounts does) with the grader role
trusting the management account's principal under --external-id, as a
StackSet with service-managed permissions deploys it to every account of
the units. stdout is JSON: {"management", "root", "units": {"a", "a_late",
"b"}, "accounts": [{"id", "name", "email", "unit", "state"}]}.
"""

import argparse
import json
import os
import secrets
import sys

from botocore.exceptions import ClientError

import provision
import sandbox_common as c

LAYOUT = [
    ("a", "ada", "ACTIVE"),
    ("a", "grace", "ACTIVE"),
    ("a", "edsger", "SUSPENDED"),
    ("a_late", "alan", "ACTIVE"),
    ("b", "barbara", "ACTIVE"),
]


def organization(org) -> str:
    """The organization's root id, the organization made if there is none."""
    try:
        org.create_organization(FeatureSet="ALL")
        provision.log("organizations: created the organization")
    except ClientError as err:
        if provision.code(err) != "AlreadyInOrganizationException":
            raise
    return org.list_roots()["Roots"][0]["Id"]


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="sandbox/organization",
        description="Model an organization in moto: two units (one with a unit below it), "
        "learner accounts with the lab and a grader role, one suspended; print its layout.",
    )
    ap.add_argument(
        "--management",
        default="700000000000",
        type=c.valid_account,
        help="the management account (default 700000000000): the instructor grades as it",
    )
    ap.add_argument(
        "--external-id",
        default=c.DEFAULT_EXTERNAL_ID,
        help=f"the external id every grader role requires, as one StackSet gives (default {c.DEFAULT_EXTERNAL_ID})",
    )
    ap.add_argument("--manifest", metavar="FILE", help="also write the layout to FILE")
    args = ap.parse_args()

    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    org = c.client("organizations", args.management, "us-east-1")
    root = organization(org)
    run = secrets.token_hex(3)
    a = org.create_organizational_unit(ParentId=root, Name=f"cohort-a-{run}")["OrganizationalUnit"]["Id"]
    late = org.create_organizational_unit(ParentId=a, Name=f"late-{run}")["OrganizationalUnit"]["Id"]
    b = org.create_organizational_unit(ParentId=root, Name=f"cohort-b-{run}")["OrganizationalUnit"]["Id"]
    units = {"a": a, "a_late": late, "b": b}
    accounts = []
    for unit, name, state in LAYOUT:
        email = f"{name}.{run}@example.edu"
        status = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
        account = status["AccountId"]
        org.move_account(AccountId=account, SourceParentId=root, DestinationParentId=units[unit])
        accounts.append({"id": account, "name": name, "email": email, "unit": unit, "state": state})
    grader = {"instructor": args.management, "external_id": args.external_id}
    seconds = provision.provision_many([{"account": x["id"], "grader": grader} for x in accounts])
    for x in accounts:
        if x["state"] == "SUSPENDED":
            org.close_account(AccountId=x["id"])
        provision.log(f"organizations: {x['name']} {x['id']} in {units[x['unit']]} ({x['state']})")
    provision.log(f"organizations: {len(accounts)} accounts provisioned in {seconds:.2f} s")

    layout = {"management": args.management, "root": root, "units": units, "accounts": accounts}
    text = json.dumps(layout, indent=2) + "\n"
    out.write(text)
    out.flush()
    if args.manifest:
        with open(args.manifest, "w") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(c.run_main(main))
