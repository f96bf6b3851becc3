"""The deployed pets site for sandbox/up and sandbox/break (run with the sandbox venv).

  app.py env             print the site's environment (default account), one
                         NUL-terminated KEY=VALUE per variable; makes the secret
                         key / admin password once
  app.py deploy          copy labs/pets_project into .state/project (the
                         "deployed" project folder), leaving out .venv, venv,
                         __pycache__, *.pyc, db.sqlite3 and the top-level
                         static/ and media/; files that differ are copied
                         again and files the source lacks are removed, so a
                         damaged copy is repaired; prints what changed
  app.py start [--media-local] [--force]
                         make sure gunicorn serves the copy on
                         127.0.0.1:GUNICORN_PORT with the expected environment:
                         (re)starts it when it is not running, does not answer,
                         or was started with another environment or another
                         state of the copy (.state/app.json records both);
                         --media-local leaves AWS_STORAGE_BUCKET_NAME out (the
                         `media-local` fault); --force restarts in any case
  app.py stop            stop gunicorn
  app.py login           log in to /admin/ through nginx like a browser (GET the
                         login page for the CSRF cookie and token, POST the
                         credentials, follow to /admin/), so that Django stores
                         a session in Redis

None of them prints the admin password or the secret key.
"""

import hashlib
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pidfile
import sandbox_common as c

PIDFILE = c.STATE / "app.pid"
RECORD = c.STATE / "app.json"
LOG = c.LOG_DIR / "app.log"
WAIT_SECONDS = int(os.environ.get("SANDBOX_WAIT_SECONDS", "60"))

# What a learner's folder holds but a deployed copy does not need (and what
# the copy may hold without being "different"): virtual environments,
# bytecode, the local SQLite file, and the top-level static/ (collectstatic's
# output, made in the copy) and media/ folders.
SKIP_ANYWHERE = {".venv", "venv", "__pycache__", ".git"}
SKIP_TOP = {"static", "media", "db.sqlite3"}


def say(msg: str) -> None:
    print(f"[app] {msg}", flush=True)


def skipped(rel: Path) -> bool:
    parts = rel.parts
    if not parts:
        return False
    if parts[0] in SKIP_TOP:
        return True
    return any(p in SKIP_ANYWHERE for p in parts) or rel.suffix == ".pyc"


def tree_files(root: Path) -> dict:
    """relative path -> absolute path of every file under root that counts."""
    out = {}
    if not root.is_dir():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        rel_dir = d.relative_to(root)
        dirnames[:] = sorted(n for n in dirnames if not skipped(rel_dir / n))
        for n in filenames:
            rel = rel_dir / n
            if not skipped(rel):
                out[rel] = d / n
    return out


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for rel, path in sorted(tree_files(root).items()):
        h.update(str(rel).encode() + b"\0")
        try:
            h.update(path.read_bytes())
        except OSError:
            h.update(b"<unreadable>")
        h.update(b"\0")
    return h.hexdigest()


def same_file(a: Path, b: Path) -> bool:
    try:
        sa, sb = a.stat(), b.stat()
    except OSError:
        return False
    if sa.st_size != sb.st_size or (sa.st_mode & 0o777) != (sb.st_mode & 0o777):
        return False
    return a.read_bytes() == b.read_bytes()


def deploy() -> list:
    """Bring the copy in line with the source; returns the changed paths."""
    src, dst = c.APP_DIR, c.PROJECT_COPY
    if not (src / "manage.py").is_file():
        raise SystemExit(f"[app] error: no pets project at {src}")
    dst.mkdir(parents=True, exist_ok=True)
    want = tree_files(src)
    have = tree_files(dst)
    changed = []
    for rel, path in sorted(want.items()):
        target = dst / rel
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        if not same_file(path, target):
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(target.name + ".sandbox-tmp")
            shutil.copy2(path, tmp)
            os.replace(tmp, target)
            changed.append(str(rel))
    for rel in sorted(set(have) - set(want)):
        (dst / rel).unlink(missing_ok=True)
        changed.append(f"{rel} (removed)")
    # Directories left empty by removals (not the kept static/ and media/).
    for dirpath, dirnames, filenames in os.walk(dst, topdown=False):
        d = Path(dirpath)
        rel = d.relative_to(dst)
        if d != dst and not skipped(rel) and not any(d.iterdir()) and not (c.APP_DIR / rel).is_dir():
            d.rmdir()
    return changed


def cmd_deploy() -> int:
    fresh = not (c.PROJECT_COPY / "manage.py").exists()
    changed = deploy()
    if fresh:
        say(f"deployed copy of the project made in {c.PROJECT_COPY}")
    elif changed:
        shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
        say(f"deployed copy repaired: {shown}")
    return 0


def cmd_env() -> int:
    c.secret(c.ADMIN_PASSWORD_FILE)
    for key, value in c.app_environ(c.DEFAULT_ACCOUNT).items():
        sys.stdout.write(f"{key}={value}\0")
    return 0


# ---- gunicorn ------------------------------------------------------------


def live_pid():
    return pidfile.live_pid(PIDFILE, r"gunicorn.*pets_project")


def answers(timeout: float = 5) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{c.GUNICORN_PORT}/", timeout=timeout) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


def port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(quiet: bool = False) -> None:
    if not quiet and (pid := live_pid()) is not None:
        say(f"stopping gunicorn (pid {pid})")
    pidfile.stop(PIDFILE, r"gunicorn.*pets_project", kill=True)


def wanted(media_local: bool) -> dict:
    env = c.app_environ(c.DEFAULT_ACCOUNT, media_local=media_local)
    return {
        "bind": f"127.0.0.1:{c.GUNICORN_PORT}",
        "dir": str(c.PROJECT_COPY),
        "env": hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest(),
        "tree": tree_hash(c.PROJECT_COPY),
        "media_local": media_local,
    }


def start(media_local: bool = False, force: bool = False) -> None:
    if not (c.PROJECT_COPY / "manage.py").exists():
        raise SystemExit("[app] error: no deployed copy of the project: run sandbox/up")
    want = wanted(media_local)
    pid = live_pid()
    try:
        record = json.loads(RECORD.read_text())
    except (OSError, ValueError):
        record = None
    if pid and not force and record == want and answers():
        say(f"gunicorn already up (pid {pid}) on {want['bind']}")
        return
    if pid:
        why = (
            "restart asked"
            if force
            else "not answering"
            if record == want
            else "the deployed copy or its environment changed"
        )
        say(f"restarting gunicorn ({why})")
        stop(quiet=True)
    else:
        PIDFILE.unlink(missing_ok=True)
    port = int(c.GUNICORN_PORT)
    if port_open(port):
        raise SystemExit(
            f"[app] error: port {port} is in use by a process the sandbox did not "
            "start; stop it or run sandbox/down"
        )
    env = c.app_environ(c.DEFAULT_ACCOUNT, media_local=media_local)
    gunicorn = c.APP_PY.parent / "gunicorn"
    c.LOG_DIR.mkdir(parents=True, exist_ok=True)
    with open(LOG, "a") as log:
        log.write(
            f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} sandbox: starting gunicorn "
            f"on {want['bind']} ({'media on local disk' if media_local else 'media on S3'})\n"
        )
        log.flush()
        proc = subprocess.Popen(
            [
                str(gunicorn),
                "pets_project.wsgi:application",
                "--chdir",
                str(c.PROJECT_COPY),
                "--bind",
                want["bind"],
                "--workers",
                "2",
                "--no-control-socket",
                "--access-logfile",
                "-",
                "--error-logfile",
                "-",
                "--capture-output",
            ],
            cwd=c.PROJECT_COPY,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    PIDFILE.write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + WAIT_SECONDS
    while not answers(timeout=2):
        if proc.poll() is not None:
            tail = LOG.read_text(errors="replace").splitlines()[-20:]
            print("\n".join(tail), file=sys.stderr)
            raise SystemExit(f"[app] error: gunicorn exited during start-up (see {LOG})")
        if time.monotonic() > deadline:
            raise SystemExit(f"[app] error: gunicorn did not answer within {WAIT_SECONDS}s (see {LOG})")
        time.sleep(0.25)
    RECORD.write_text(json.dumps(want, indent=1) + "\n")
    say(
        f"gunicorn (pid {proc.pid}) serves {c.PROJECT_COPY} on http://{want['bind']}"
        + (" with media on the local disk" if media_local else "")
    )


def cmd_start(args) -> int:
    start(media_local="--media-local" in args, force="--force" in args)
    return 0


def cmd_stop(args) -> int:
    stop()
    return 0


# ---- admin login ---------------------------------------------------------


def cmd_login() -> int:
    base = f"http://{c.SITE_CNAME}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login_url = f"{base}/admin/login/?next=/admin/"
    with opener.open(login_url, timeout=15) as resp:
        page = resp.read().decode("utf-8", "replace")
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not m:
        print("[app] error: no CSRF token on the admin login page", file=sys.stderr)
        return 1
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": m.group(1),
            "username": c.ADMIN_USER,
            "password": c.secret(c.ADMIN_PASSWORD_FILE),
            "next": "/admin/",
        }
    ).encode()
    req = urllib.request.Request(login_url, data=form, headers={"Referer": login_url, "Origin": base})
    with opener.open(req, timeout=15) as resp:  # follows the 302 to /admin/
        final, status = resp.geturl(), resp.status
        body = resp.read().decode("utf-8", "replace")
    if status != 200 or urllib.parse.urlparse(final).path != "/admin/" or "logout" not in body.lower():
        print(f"[app] error: admin login failed (ended at {final}, HTTP {status})", file=sys.stderr)
        return 1
    names = sorted(ck.name for ck in jar)
    print(f"[app] logged in to {base}/admin/ as {c.ADMIN_USER} (cookies: {', '.join(names)})")
    return 0


def main() -> int:
    cmds = {
        "env": lambda a: cmd_env(),
        "deploy": lambda a: cmd_deploy(),
        "start": cmd_start,
        "stop": cmd_stop,
        "login": lambda a: cmd_login(),
    }
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(f"usage: app.py {'|'.join(cmds)} [options]", file=sys.stderr)
        return 2
    return cmds[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(c.run_main(main))
