"""Provision a cohort of learner accounts in mixed states and print its roster.

Run through sandbox/cohort. Every learner gets a fresh account (provision.py's
fast path: in-process in moto) with the solved lab and the grader role; then
some get one per-account fault from breaks.py, and one (or, in larger cohorts,
every twelfth) gets a grader role that cannot be assumed. The roster CSV goes to
stdout, logs to stderr; --manifest FILE writes what each learner was given.
Each learner has an external id of their own (the --external-id given, a dash
and the learner's name), as `labcheck cohort invite` gives them.
"""

import argparse
import csv
import json
import os
import sys

import breaks
import provision
import sandbox_common as c

NAMES = [
    "ada",
    "grace",
    "alan",
    "barbara",
    "edsger",
    "donald",
    "margaret",
    "ken",
    "dennis",
    "frances",
    "john",
    "radia",
    "tim",
    "hedy",
    "linus",
    "katherine",
    "niklaus",
    "sophie",
    "claude",
    "annie",
    "guido",
    "lynn",
    "bjarne",
    "adele",
]

# One block of twelve learners: index -> "solved", "break", or "unassumable".
PATTERN = [
    "solved",
    "break",
    "solved",
    "break",
    "solved",
    "break",
    "solved",
    "unassumable",
    "break",
    "solved",
    "solved",
    "solved",
]

# Per-account scenarios, in the order the broken learners get them. Each makes
# at least one control-plane check fail (what cohort grading sees from outside).
SCENARIOS = [
    "no-cors",
    "public-bucket",
    "health-red",
    "role-no-s3",
    "platform-mismatch",
    "db-sg-closed",
    "cache-no-tls",
    "empty-bucket",
    "no-db-envvars",
    "cache-sg-closed",
    "archived-media",
    "no-bucket",
]

# How an unassumable learner's grader role is wrong, in turn.
UNASSUMABLE = ["external-id-mismatch", "no-grader-role"]


def learner_names(n: int) -> list[str]:
    return [NAMES[i % len(NAMES)] + (str(i // len(NAMES) + 1) if i >= len(NAMES) else "") for i in range(n)]


def plan(n: int, first: str, instructor: str, external_id: str) -> list[dict]:
    """One entry per learner: name, account, state, and the grader role to make."""
    for name, sc in ((s, breaks.SCENARIOS.get(s)) for s in SCENARIOS):
        assert sc is not None and sc["scope"] == "account", f"{name}: not a per-account scenario"
    accounts = provision.account_range(first, n)
    out, broken, unassumable = [], 0, 0
    for i, (name, account) in enumerate(zip(learner_names(n), accounts)):
        kind = PATTERN[i % len(PATTERN)]
        # An external id of the learner's own, as `labcheck cohort invite` gives.
        grader = {"instructor": instructor, "external_id": f"{external_id}-{name}"}
        entry = {
            "learner": name,
            "account": account,
            "state": "solved",
            "grader": grader,
            "external_id": grader["external_id"],
        }
        if kind == "break":
            entry["state"] = SCENARIOS[broken % len(SCENARIOS)]
            broken += 1
        elif kind == "unassumable":
            entry["state"] = "unassumable"
            entry["reason"] = UNASSUMABLE[unassumable % len(UNASSUMABLE)]
            unassumable += 1
            if entry["reason"] == "no-grader-role":
                entry["grader"] = None
            else:
                entry["grader"] = dict(grader, external_id=f"{external_id}-{name}-rotated")
        out.append(entry)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="sandbox/cohort",
        description="Provision a cohort of learner accounts (most solved, some broken, one "
        "whose grader role cannot be assumed) and print its roster CSV.",
    )
    ap.add_argument("--accounts", type=int, default=12, metavar="N", help="number of learners (default 12)")
    ap.add_argument(
        "--first",
        default="400000000000",
        type=c.valid_account,
        help="first account id (default 400000000000); then FIRST+1, ...",
    )
    c.add_grader_options(ap)
    ap.add_argument(
        "--manifest", metavar="FILE", help="also write {learner: {account, state, ...}} as JSON to FILE"
    )
    args = ap.parse_args()

    # stdout is the roster: everything else (our logs, the provisioning's, any
    # child process's) goes to stderr.
    roster_out = os.fdopen(os.dup(1), "w", newline="")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    entries = plan(args.accounts, args.first, args.instructor, args.external_id)
    seconds = provision.provision_many([{"account": e["account"], "grader": e["grader"]} for e in entries])
    for e in entries:
        if e["state"] in breaks.SCENARIOS:
            msg = breaks.SCENARIOS[e["state"]]["run"](e["account"])
            print(f"[cohort] {e['learner']} ({e['account']}): {e['state']}: {msg}")
        elif e["state"] == "unassumable":
            print(f"[cohort] {e['learner']} ({e['account']}): grader role cannot be assumed ({e['reason']})")
    print(f"[cohort] {len(entries)} learners provisioned in {seconds:.2f} s; roster on stdout")

    writer = csv.writer(roster_out, lineterminator="\n")
    writer.writerow(["learner", "account", "region", "external_id"])
    for e in entries:
        writer.writerow([e["learner"], e["account"], c.REGION, e["external_id"]])
    roster_out.flush()

    if args.manifest:
        manifest = {}
        for e in entries:
            item = {"account": e["account"], "state": e["state"], "external_id": e["external_id"]}
            if "reason" in e:
                item["reason"] = e["reason"]
            manifest[e["learner"]] = item
        with open(args.manifest, "w") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        print(f"[cohort] manifest: {args.manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(c.run_main(main))
