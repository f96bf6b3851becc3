"""Benchmarks of labcheck against the local sandbox, measured side by side in
one run, printed as a table (no test asserts a time: this is where speed is
measured).

  cohort  grade N provisioned learners (default 1000) through a proxy that adds
          50 ms to every AWS call; compare with a loop of one `labcheck check`
          process per account (20 of them, extrapolated). Goals: <= 60 s wall,
          peak RSS <= 300 MB, >= 20x faster than the loop. The learners'
          accounts are spread over --motos fresh moto processes (default: two
          per core; sandbox/moto-shard), in blocks the proxy routes to: one
          moto answers every call under one interpreter lock, which on its own
          caps the run at moto's CPU time, where AWS answers each learner's
          calls in that learner's account. (More motos than cores still
          helps: fewer threads wait on each interpreter lock.)

  cohort --projects
          grade N learners (default 50) who each have a project_dir (a copy
          of the sandbox's reference project), twice over in turn: with the
          sandbox that runs each learner's code (bubblewrap) and with
          --trust-learner-code (the same interpreter and variables, no
          sandbox), the faster of two runs of each. Goal: the sandbox costs
          <= 1.25x. Both give every learner the same results.

  lab     the whole lab for one account, the AWS steps alone, a sequential
          boto3 script making the same calls (scripts/bench-lib/sequential.py)
          and the floor (`manage.py check --deploy` in one interpreter), each
          the median of several runs, with 50 ms added to every AWS call;
          and the whole lab again with the project unchanged since the last
          check (the project probe's answer kept, no Python started).
          Goals: whole lab <= 1.5x the floor; unchanged <= 0.5x the floor;
          AWS steps <= 0.15x the script.
          The proxy records when each AWS call started and ended; from that,
          the longest chain of calls in a whole-lab run where each started
          only after the one before it had ended (the run's critical path
          through AWS, whatever made each call wait). Goal: <= 4.

Run through scripts/bench, which brings the sandbox up and builds labcheck.
"""

import argparse
import contextlib
import csv
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SANDBOX = ROOT / "sandbox"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def sandbox_env() -> dict:
    out = subprocess.run(
        ["bash", "-c", "source sandbox/env && env -0"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    env = dict(os.environ)
    for kv in out.split("\0"):
        if "=" in kv:
            k, v = kv.split("=", 1)
            env[k] = v
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LatencyProxy:
    """sandbox/faultproxy with latency only, in front of moto; with `trace`,
    it records each call's start and end (see `calls`)."""

    def __init__(self, env: dict, latency_ms: int, trace: bool = False, routes: tuple = ()):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                str(SANDBOX / "faultproxy"),
                "--listen",
                f"127.0.0.1:{self.port}",
                "--upstream",
                env["AWS_ENDPOINT_URL"],
                "--latency-ms",
                str(latency_ms),
                "--fault-rate",
                "0",
            ]
            + (["--trace"] if trace else [])
            + [arg for route in routes for arg in ("--route", route)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.seen = 0
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("the latency proxy did not start")
                time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def calls(self) -> list[dict]:
        """The calls recorded since the last time this was asked."""
        with urllib.request.urlopen(f"{self.url}/faultproxy/trace?since={self.seen}", timeout=10) as r:
            answer = json.load(r)
        self.seen = answer["next"]
        return answer["calls"]

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/faultproxy/stats", timeout=10) as r:
            return json.load(r)

    def stop(self) -> None:
        stop_process(self.proc)


def stop_process(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class MotoShards:
    """`count` fresh moto processes (sandbox/moto-shard) holding `learners`
    accounts from `first` on, in contiguous blocks, each provisioned with the
    solved lab state; `routes` are the proxy's --route arguments for them."""

    def __init__(self, env: dict, count: int, first: int, learners: int):
        self.procs: list[subprocess.Popen] = []
        self.routes: list[str] = []
        self.blocks: list[list[int]] = []
        blocks = [learners // count + (1 if i < learners % count else 0) for i in range(count)]
        try:
            ports = []
            for _ in range(count):
                port = free_port()
                with shard_log(port).open("wb") as out:
                    self.procs.append(
                        subprocess.Popen(
                            [str(SANDBOX / "moto-shard"), "--port", str(port)],
                            env=env,
                            stdout=out,
                            stderr=subprocess.STDOUT,
                        )
                    )
                ports.append(port)
            for port, proc in zip(ports, self.procs, strict=True):
                wait_for_moto(port, proc)
            provisioning = []
            start = first
            for port, size in zip(ports, blocks, strict=True):
                if size == 0:
                    continue
                self.routes.append(f"{start:012d}-{start + size - 1:012d}=http://127.0.0.1:{port}")
                self.blocks.append(list(range(start, start + size)))
                provisioning.append(
                    subprocess.Popen(
                        [str(SANDBOX / "provision"), "--accounts", str(size), "--first", str(start)],
                        env=dict(env, SANDBOX_AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}"),
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE,
                    )
                )
                start += size
            for proc in provisioning:
                _, err = proc.communicate()
                if proc.returncode != 0:
                    sys.stderr.write(err.decode())
                    raise SystemExit(f"sandbox/provision into a moto shard failed ({proc.returncode})")
        except BaseException:
            self.stop()
            raise

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for proc in self.procs:
            stop_process(proc)


def shard_log(port: int) -> Path:
    logs = SANDBOX / ".state" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    return logs / f"moto-shard-{port}.log"


def wait_for_moto(port: int, proc: subprocess.Popen) -> None:
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/sandbox/health", timeout=2):
                return
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(
                    f"sandbox/moto-shard --port {port} exited with {proc.returncode} (log: {shard_log(port)})"
                )
            if time.time() > deadline:
                raise SystemExit(
                    f"sandbox/moto-shard --port {port} did not answer within 60 s (log: {shard_log(port)})"
                )
            time.sleep(0.1)


def timed(cmd: list, env: dict, **kw) -> tuple[float, int, subprocess.CompletedProcess]:
    """Wall seconds, peak RSS (KiB) of the command, and its result."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        start = time.perf_counter()
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", out.name] + cmd,
            check=False,
            env=env,
            capture_output=True,
            **kw,
        )
        wall = time.perf_counter() - start
        rss = int((Path(out.name).read_text().strip().splitlines() or ["0"])[-1])
    return wall, rss, proc


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process and its live children (a
    gunicorn master and its workers), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = (
        [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split() if p.strip()]
        if Path(f"/proc/{pid}").exists()
        else []
    )
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def sandbox_pids(proxy_pid: int, motos: list[int]) -> dict[str, list[int]]:
    """The processes that serve a cohort run besides labcheck: the motos that
    hold the learners (every AWS call), the latency proxy in front of them,
    gunicorn (the learners' site)."""
    pids = {
        f"moto ({len(motos)} process{'es' if len(motos) > 1 else ''})": motos,
        "latency proxy": [proxy_pid],
    }
    try:
        pids["gunicorn (the site)"] = [int((SANDBOX / ".state" / "app.pid").read_text().strip())]
    except (OSError, ValueError):
        pass
    return pids


def write_roster(path: Path, accounts: list[int], region: str) -> Path:
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["learner", "account", "region", "external_id"])
        for i, account in enumerate(accounts):
            w.writerow([f"learner{i:05d}", f"{account:012d}", region, "labcheck-sandbox"])
    return path


def bench_cohort(binary: str, learners: int, loop: int, latency: int, motos: int) -> int:
    env = sandbox_env()
    region = env["AWS_REGION"]
    first = 500000000000
    with contextlib.ExitStack() as cleanup:
        log(
            f"provisioning {learners} learner accounts from {first} in {motos} fresh moto "
            f"process{'es' if motos > 1 else ''}"
        )
        shards = MotoShards(env, motos, first, learners)
        cleanup.callback(shards.stop)
        work = Path(tempfile.mkdtemp(prefix="labcheck-bench-"))
        cleanup.callback(shutil.rmtree, work, ignore_errors=True)
        proxy = LatencyProxy(env, latency, routes=tuple(shards.routes))
        cleanup.callback(proxy.stop)
        penv = dict(env, AWS_ENDPOINT_URL=proxy.url)
        # Roster order takes turns across the motos (a run starts the learners
        # about in roster order), so every moto has work from the start.
        accounts = [
            block[j] for j in range(max(map(len, shards.blocks))) for block in shards.blocks if j < len(block)
        ]
        roster = write_roster(work / "roster.csv", accounts, region)

        # A fresh moto answers its first call of each kind slowly (it loads
        # botocore's models then): one learner per moto first, untimed, as
        # the sandbox's own moto is warm from the tests.
        warm = write_roster(work / "warm-up.csv", [block[0] for block in shards.blocks], region)
        subprocess.run(
            [binary, "cohort", "grade", str(warm), "--format", "json", "-o", str(work / "warm-up.json")],
            env=penv,
            check=False,
            capture_output=True,
        )

        log(f"cohort grade: {learners} learners, {latency} ms per AWS call")
        book = work / "gradebook.json"
        servers = sandbox_pids(proxy.proc.pid, shards.pids)
        cpu_before = {name: sum(map(cpu_seconds, pids)) for name, pids in servers.items()}
        own_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, rss, proc = timed(
            [binary, "cohort", "grade", str(roster), "--format", "json", "-o", str(book)], penv
        )
        own_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = {name: sum(map(cpu_seconds, pids)) - cpu_before[name] for name, pids in servers.items()}
        cpu = {
            "labcheck": (own_after.ru_utime + own_after.ru_stime)
            - (own_before.ru_utime + own_before.ru_stime),
            **cpu,
        }
        if proc.returncode not in (0, 3):
            sys.stderr.write(proc.stderr.decode())
            raise SystemExit(f"cohort grade failed with exit {proc.returncode}")
        totals = json.loads(book.read_text())["totals"]
        log(proc.stderr.decode().strip().splitlines()[-1])
        unsolved = totals["graded"] - totals["all_passed"]
        routed = proxy.stats()["routed"]
        idle = [route for route in shards.routes if route.split("=", 1)[1] not in routed]
        if idle:
            raise SystemExit(f"the proxy sent nothing to {idle}: {routed}")

        # The loop an instructor would write without `cohort grade`: one
        # `labcheck check` per learner, each through that learner's grader
        # role (an AWS profile with role_arn and external_id, so the SDK
        # assumes it, as `cohort grade` does), data plane and project left out.
        log(f"baseline: {loop} sequential `labcheck check` processes, each through the learner's role")
        config, credentials = work / "aws-config", work / "aws-credentials"
        credentials.write_text(
            "[instructor]\n"
            f"aws_access_key_id = {env['AWS_ACCESS_KEY_ID']}\n"
            f"aws_secret_access_key = {env['AWS_SECRET_ACCESS_KEY']}\n"
        )
        config.write_text(
            "".join(
                f"[profile learner{i}]\nrole_arn = arn:aws:iam::{accounts[i]:012d}:role/labcheck-grader\n"
                f"external_id = labcheck-sandbox\nrole_session_name = labcheck-learner{i}\n"
                f"source_profile = instructor\nregion = {region}\n\n"
                for i in range(loop)
            )
        )
        lenv = {k: v for k, v in penv.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        lenv.update(AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(credentials))
        loop_start = time.perf_counter()
        for i in range(loop):
            _, _, p = timed(
                [
                    binary,
                    "check",
                    "--format",
                    "json",
                    "--profile",
                    f"learner{i}",
                    "--set",
                    "network=outside",
                    "--set",
                    f"project_dir={work}",
                ],
                lenv,
            )
            if p.returncode not in (0, 1, 3):
                sys.stderr.write(p.stderr.decode())
                raise SystemExit(f"labcheck check failed with exit {p.returncode}")
            if i == 0:
                account = json.loads(p.stdout)["account"]
                if f"{accounts[0]:012d}" not in json.dumps(account):
                    raise SystemExit(f"the loop graded {account}, not learner 0's account {accounts[0]}")
        loop_wall = time.perf_counter() - loop_start

    per_check = loop_wall / loop
    extrapolated = per_check * learners
    ratio = extrapolated / wall
    rows = [
        ("cohort grade, wall", f"{wall:.1f} s", "<= 60 s", wall <= 60),
        ("cohort grade, learners per second", f"{learners / wall:.1f}", "", None),
        ("cohort grade, peak RSS", f"{rss / 1024:.0f} MB", "<= 300 MB", rss / 1024 <= 300),
        ("graded / not graded", f"{totals['graded']} / {totals['not_graded']}", "", None),
        ("graded learners with a check failed (all are solved)", f"{unsolved}", "0", unsolved == 0),
        (f"loop of `labcheck check`, per account ({loop} timed)", f"{per_check:.2f} s", "", None),
        (f"loop, extrapolated to {learners}", f"{extrapolated:.0f} s", "", None),
        ("speed-up of cohort grade over the loop", f"{ratio:.1f}x", ">= 20x", ratio >= 20),
    ]
    # Where the machine's cores went during the cohort run: the figures above
    # measure the sandbox as much as labcheck, so each process's share is
    # printed, and the rate labcheck alone could reach on these cores.
    cores = os.cpu_count() or 1
    for name, seconds in cpu.items():
        rows.append(
            (
                f"CPU during the run: {name}",
                f"{seconds:.1f} s ({100 * seconds / wall / cores:.0f}% of {cores} cores)",
                "",
                None,
            )
        )
    own = cpu["labcheck"] / learners
    if own > 0:
        rows.append(("labcheck CPU per learner", f"{1000 * own:.1f} ms", "", None))
        rows.append((f"labcheck alone on {cores} cores, learners per second", f"{cores / own:.0f}", "", None))
    print(
        f"\nlabcheck cohort benchmark: {learners} learners, +{latency} ms per AWS call, "
        f"{os.cpu_count()} cores, {Path(binary).parent.name} build\n"
    )
    width = max(len(r[0]) for r in rows)
    for name, value, goal, ok in rows:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"  {name:<{width}}  {value:>12}  {goal:>10}{mark}")
    return 0


def bench_projects(binary: str, learners: int) -> int:
    env = sandbox_env()
    first = 600000000000
    log(f"provisioning {learners} learner accounts from {first}, each with a copy of the reference project")
    subprocess.run(
        [str(SANDBOX / "provision"), "--accounts", str(learners), "--first", str(first)],
        env=env,
        check=True,
        capture_output=True,
    )
    with tempfile.TemporaryDirectory(prefix="labcheck-bench-") as tmp:
        work = Path(tmp)
        roster = work / "roster.csv"
        with roster.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["learner", "account", "region", "external_id", "project_dir"])
            for i in range(learners):
                project = work / "projects" / f"learner{i:05d}"
                shutil.copytree(
                    env["LABCHECK_PROJECT_DIR"], project, ignore=shutil.ignore_patterns("__pycache__")
                )
                w.writerow(
                    [f"learner{i:05d}", f"{first + i:012d}", env["AWS_REGION"], "labcheck-sandbox", project]
                )
        modes = {"sandbox": [], "--trust-learner-code": ["--trust-learner-code"]}
        walls: dict[str, list[float]] = {m: [] for m in modes}
        results: dict[str, dict] = {}
        for run in range(2):
            for mode, extra in modes.items():
                book = work / f"{run}-{mode.strip('-')}.json"
                log(f"cohort grade, {mode}, run {run + 1} of 2")
                # A state folder of its own for each run: the probe's answers
                # kept from an earlier run (probe-cache/) would spare one mode
                # the Python runs the other makes.
                state = work / f"state-{run}-{mode.strip('-')}"
                wall, _rss, proc = timed(
                    [binary, "cohort", "grade", str(roster), "--format", "json", "-o", str(book), *extra],
                    dict(env, LABCHECK_STATE_DIR=str(state)),
                )
                if proc.returncode != 0:
                    sys.stderr.write(proc.stderr.decode())
                    raise SystemExit(f"cohort grade ({mode}) failed with exit {proc.returncode}")
                walls[mode].append(wall)
                results[mode] = {
                    learner["learner"]: [
                        (c["id"], c["status"]) for s in learner["report"]["steps"] for c in s["checks"]
                    ]
                    for learner in json.loads(book.read_text())["learners"]
                }
    sandboxed, trusted = min(walls["sandbox"]), min(walls["--trust-learner-code"])
    ratio = sandboxed / trusted
    same = results["sandbox"] == results["--trust-learner-code"]
    for learner, checks in sorted(results["sandbox"].items()):
        other = dict(results["--trust-learner-code"].get(learner, []))
        for check, status in checks:
            if other.get(check) != status:
                log(f"{learner} {check}: {status} in the sandbox, {other.get(check)} trusted")
    rows = [
        ("with the sandbox, wall", f"{sandboxed:.1f} s", "", None),
        ("with --trust-learner-code, wall", f"{trusted:.1f} s", "", None),
        ("the sandbox's cost", f"{ratio:.2f}x", "<= 1.25x", ratio <= 1.25),
        ("every learner's results the same both ways", "yes" if same else "no", "yes", same),
    ]
    print(f"\nlabcheck projects benchmark: {learners} learners with project_dir, {os.cpu_count()} cores\n")
    width = max(len(r[0]) for r in rows)
    for name, value, goal, ok in rows:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"  {name:<{width}}  {value:>12}  {goal:>10}{mark}")
    return 0


def median_time(cmd: list, env: dict, runs: int, cwd=None, ok=(0,)) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode not in ok:
            sys.stderr.write(proc.stderr.decode()[-2000:])
            raise SystemExit(f"{' '.join(cmd[:3])}... exited {proc.returncode}")
    times.sort()
    return times[len(times) // 2]


def longest_chain(calls: list[dict]) -> list[dict]:
    """The longest sequence of calls in which each started after the one
    before it had ended: the critical path through a run's AWS calls."""
    calls = sorted(calls, key=lambda c: c["end"])
    best: list[list[dict]] = []
    for i, call in enumerate(calls):
        before = [best[j] for j in range(i) if calls[j]["end"] <= call["start"]]
        best.append(max(before, key=len, default=[]) + [call])
    return max(best, key=len, default=[])


def chain_text(chain: list[dict]) -> str:
    return " -> ".join(f"{c['service']}:{c['action']}" for c in chain)


def bench_lab(binary: str, runs: int, latency: int) -> int:
    env = sandbox_env()
    proxy = LatencyProxy(env, latency, trace=True)
    try:
        penv = dict(env, AWS_ENDPOINT_URL=proxy.url)
        log(f"whole lab, {runs} runs")
        chains = []
        whole_times = []
        for _ in range(runs):
            proxy.calls()
            # A state folder of its own for each run: no kept probe answer,
            # the project's Python runs as on a first check.
            with tempfile.TemporaryDirectory(prefix="labcheck-bench-state-") as state:
                cold = dict(penv, LABCHECK_STATE_DIR=state)
                whole_times.append(median_time([binary, "check", "--format", "json"], cold, 1))
            chains.append(longest_chain(proxy.calls()))
        whole = sorted(whole_times)[len(whole_times) // 2]
        log(f"whole lab, project unchanged (the probe's answer kept), {runs} runs")
        with tempfile.TemporaryDirectory(prefix="labcheck-bench-state-") as state:
            warm = dict(penv, LABCHECK_STATE_DIR=state)
            median_time([binary, "check", "project", "--format", "json"], warm, 1, ok=(0, 1, 3))
            unchanged = median_time([binary, "check", "--format", "json"], warm, runs)
        chain = max(chains, key=len)
        depth = len(chain)
        log(f"AWS steps alone, {runs} runs")
        aws = median_time([binary, "check", "s3", "cache", "rds", "eb", "--format", "json"], penv, runs)
        log(f"sequential boto3 script, {runs} runs")
        script = median_time([sys.executable, str(ROOT / "scripts/bench-lib/sequential.py")], penv, runs)
        log(f"floor: manage.py check --deploy, {runs} runs")
        project = Path(env["LABCHECK_PROJECT_DIR"])
        floor = median_time(
            [env["LABCHECK_PYTHON"], "manage.py", "check", "--deploy"], env, runs, cwd=project, ok=(0, 1)
        )
    finally:
        proxy.stop()
    rows = [
        (
            "whole lab (labcheck check)",
            f"{whole:.2f} s",
            f"{whole / floor:.2f}x floor",
            "<= 1.5x",
            whole / floor <= 1.5,
        ),
        (
            "whole lab, project unchanged",
            f"{unchanged:.2f} s",
            f"{unchanged / floor:.2f}x floor",
            "<= 0.5x",
            unchanged / floor <= 0.5,
        ),
        (
            "AWS steps alone (s3 cache rds eb)",
            f"{aws:.2f} s",
            f"{aws / script:.2f}x script",
            "<= 0.15x",
            aws / script <= 0.15,
        ),
        ("sequential boto3 script, same calls", f"{script:.2f} s", "", "", None),
        ("floor: manage.py check --deploy", f"{floor:.2f} s", "", "", None),
        ("longest chain of AWS calls, whole lab", f"{depth}", "calls in a row", "<= 4", depth <= 4),
    ]
    print(
        f"\nlabcheck lab benchmark: median of {runs}, +{latency} ms per AWS call, "
        f"{os.cpu_count()} cores, {Path(binary).parent.name} build\n"
    )
    for name, value, ratio, goal, ok in rows:
        mark = "" if ok is None else ("  ok" if ok else "  MISSED")
        print(f"  {name:<38} {value:>9}  {ratio:>14}  {goal:>8}{mark}")
    print(
        f"\n  longest chain (of {len(chains)} runs; per run {', '.join(str(len(c)) for c in chains)}):"
        f"\n    {chain_text(chain)}"
    )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="scripts/bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="what", required=True)
    c = sub.add_parser("cohort", help="cohort grading of many learners")
    c.add_argument(
        "--learners",
        type=int,
        default=None,
        help="learners to provision and grade (default 1000; 50 with --projects)",
    )
    c.add_argument(
        "--projects",
        action="store_true",
        help="learners with project_dir: the sandbox that runs their code against --trust-learner-code",
    )
    c.add_argument(
        "--loop",
        type=int,
        default=20,
        help="`labcheck check` processes timed for the loop, extrapolated (default 20)",
    )
    c.add_argument("--latency-ms", type=int, default=50, help="added to every AWS call (default 50)")
    c.add_argument(
        "--motos",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="moto processes the learners are spread over (default: two per core)",
    )
    lab = sub.add_parser("lab", help="one account's lab against its floors")
    lab.add_argument(
        "--runs", type=int, default=5, help="runs of each measurement, the median kept (default 5)"
    )
    lab.add_argument("--latency-ms", type=int, default=50, help="added to every AWS call (default 50)")
    ap.add_argument("--bin", required=True, help="the labcheck binary")
    args = ap.parse_args()
    # A SIGTERM ends the run as Ctrl-C does, so the motos and the proxy it
    # started are stopped and its temporary files removed.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.what == "cohort" and args.projects:
        return bench_projects(args.bin, args.learners or 50)
    if args.what == "cohort":
        args.learners = args.learners or 1000
        if not 1 <= args.motos <= args.learners:
            ap.error("--motos must be between 1 and --learners")
        return bench_cohort(args.bin, args.learners, args.loop, args.latency_ms, args.motos)
    if args.what == "lab":
        return bench_lab(args.bin, args.runs, args.latency_ms)
    return 2


if __name__ == "__main__":
    sys.exit(main())
