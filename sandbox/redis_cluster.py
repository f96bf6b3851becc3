#!/usr/bin/env python3
"""A real Redis cluster on loopback, for the cluster-mode cache.

`sandbox/redis_cluster.py start` runs three redis-server primaries in cluster
mode, TLS only (a certificate of the sandbox CA's for 127.0.0.1 that serves
both ends of the cluster bus, which authenticates its peers), on SANDBOX_CACHE_CLUSTER_PORT and the two ports after it (26390-26392),
joins them with `redis-cli --cluster create` and waits until the cluster
state is ok; `start` on a running cluster does nothing. `stop` stops them by
pid and forgets the cluster. It is what the configuration endpoint of a
cluster-mode replication group points at in moto (moto_launcher.py), so
labcheck reads it as it reads ElastiCache's: a cluster client, every shard.
Standard library only; needs Debian's redis-server and redis-tools.
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pidfile

HERE = Path(__file__).resolve().parent
STATE = HERE / ".state"
TLS = STATE / "tls"
BASE = int(os.environ.get("SANDBOX_CACHE_CLUSTER_PORT", "26390"))
PORTS = [BASE, BASE + 1, BASE + 2]


def node_dir(port: int) -> Path:
    return STATE / "redis-cluster" / str(port)


def pid_path(port: int) -> Path:
    return STATE / f"redis-cluster-{port}.pid"


def cli(port: int, *args: str, check: bool = True) -> str:
    cmd = ["redis-cli", "--tls", "--cacert", str(TLS / "ca.pem"), "-h", "127.0.0.1", "-p", str(port), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=30)
    if check and out.returncode != 0:
        raise SystemExit(
            f"redis_cluster: {' '.join(args)} on :{port} failed: {out.stderr.strip() or out.stdout.strip()}"
        )
    return out.stdout


def cluster_ok() -> bool:
    return all(
        pidfile.live_pid(pid_path(p), "redis-server")
        and "cluster_state:ok" in cli(p, "CLUSTER", "INFO", check=False)
        for p in PORTS
    )


def node_certificate() -> tuple[Path, Path]:
    """A certificate of the sandbox CA for localhost and 127.0.0.1, good for
    a server and a client: the nodes connect to each other over TLS and
    check each other's certificate (made once, kept in .state/tls)."""
    cert, key = TLS / "cluster-node.pem", TLS / "cluster-node.key"
    if cert.exists() and key.exists():
        return cert, key
    ext = TLS / "cluster-node.ext"
    ext.write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n"
    )
    csr = TLS / "cluster-node.csr"
    subprocess.run(
        ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr)]
        + ["-subj", "/CN=127.0.0.1"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(TLS / "ca.pem"),
            "-CAkey",
            str(TLS / "ca.key"),
        ]
        + ["-CAcreateserial", "-days", "825", "-extfile", str(ext), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    key.chmod(0o600)
    return cert, key


def start_node(port: int) -> None:
    d = node_dir(port)
    d.mkdir(parents=True, exist_ok=True)
    cert, key = node_certificate()
    conf = d / "redis.conf"
    conf.write_text(
        "\n".join(
            [
                "bind 127.0.0.1",
                "protected-mode yes",
                "port 0",
                f"tls-port {port}",
                f"tls-cert-file {cert}",
                f"tls-key-file {key}",
                f"tls-client-cert-file {cert}",
                f"tls-client-key-file {key}",
                f"tls-ca-cert-file {TLS / 'ca.pem'}",
                "tls-auth-clients no",
                "tls-cluster yes",
                "tls-replication yes",
                "cluster-enabled yes",
                "cluster-config-file nodes.conf",
                "cluster-node-timeout 2000",
                f"dir {d}",
                'save ""',
                "appendonly no",
                f"logfile {d / 'redis.log'}",
                "",
            ]
        )
    )
    proc = subprocess.Popen(["redis-server", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid_path(port).write_text(f"{proc.pid}\n")


def start() -> int:
    if cluster_ok():
        print(f"[redis-cluster] running on 127.0.0.1:{PORTS[0]}-{PORTS[-1]} (TLS)")
        return 0
    stop(quiet=True)
    if not (TLS / "ca.key").exists():
        raise SystemExit("redis_cluster: no sandbox certificate: run sandbox/up first")
    for port in PORTS:
        start_node(port)
    deadline = time.monotonic() + 20
    while not all("PONG" in cli(p, "PING", check=False) for p in PORTS):
        if time.monotonic() > deadline:
            raise SystemExit(
                f"redis_cluster: the nodes did not answer; see {STATE / 'redis-cluster'}/*/redis.log"
            )
        time.sleep(0.1)
    nodes = [f"127.0.0.1:{p}" for p in PORTS]
    cli(PORTS[0], "--cluster", "create", *nodes, "--cluster-replicas", "0", "--cluster-yes")
    while not cluster_ok():
        if time.monotonic() > deadline:
            raise SystemExit("redis_cluster: the cluster did not reach cluster_state:ok")
        time.sleep(0.1)
    print(f"[redis-cluster] started on 127.0.0.1:{PORTS[0]}-{PORTS[-1]} (TLS, three primaries)")
    return 0


def stop(quiet: bool = False) -> int:
    for port in PORTS:
        pid = pidfile.stop(pid_path(port), "redis-server", timeout=10, kill=True)
        if pid and not quiet:
            print(f"[redis-cluster] stopped :{port} (pid {pid})")
    shutil.rmtree(STATE / "redis-cluster", ignore_errors=True)
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(prog="sandbox/redis_cluster.py", description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["start", "stop"])
    args = ap.parse_args()
    return start() if args.action == "start" else stop()


if __name__ == "__main__":
    sys.exit(main())
