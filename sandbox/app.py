"""Helpers for sandbox/up around the pets site (run with the sandbox venv).

  app.py env      print the site's environment (default account), one
                  NUL-terminated KEY=VALUE per variable, for `env` to start
                  gunicorn with; makes the secret key / admin password once
  app.py login    log in to /admin/ over HTTP like a browser (GET the login
                  page for the CSRF cookie and token, POST the credentials,
                  follow to /admin/), so that Django stores a session in Redis

Neither prints the admin password or the secret key.
"""

import http.cookiejar
import re
import sys
import urllib.parse
import urllib.request

import sandbox_common as c


def cmd_env() -> int:
    c.secret(c.ADMIN_PASSWORD_FILE)
    for key, value in c.app_environ(c.DEFAULT_ACCOUNT).items():
        sys.stdout.write(f"{key}={value}\0")
    return 0


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
    form = urllib.parse.urlencode({
        "csrfmiddlewaretoken": m.group(1),
        "username": c.ADMIN_USER,
        "password": c.secret(c.ADMIN_PASSWORD_FILE),
        "next": "/admin/",
    }).encode()
    req = urllib.request.Request(login_url, data=form, headers={"Referer": login_url})
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
    cmds = {"env": cmd_env, "login": cmd_login}
    if len(sys.argv) != 2 or sys.argv[1] not in cmds:
        print(f"usage: app.py {'|'.join(cmds)}", file=sys.stderr)
        return 2
    return cmds[sys.argv[1]]()


if __name__ == "__main__":
    sys.exit(c.run_main(main))
