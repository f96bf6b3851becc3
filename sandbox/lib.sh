# sandbox/lib.sh — shared paths, ports and helpers for the sandbox scripts.
# Sourced by up, down, status, provision and break; not meant to be run.

SANDBOX_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="$SANDBOX_DIR/.state"
VENV_DIR="$SANDBOX_DIR/.venv"
VENV_PY="$VENV_DIR/bin/python"
LOG_DIR="$STATE_DIR/logs"
TLS_DIR="$STATE_DIR/tls"

MOTO_PORT="${SANDBOX_MOTO_PORT:-24566}"
# moto over TLS: nginx in front of it, with the sandbox CA's server certificate.
MOTO_TLS_PORT="${SANDBOX_MOTO_TLS_PORT:-24443}"
REDIS_PORT="${SANDBOX_REDIS_PORT:-26379}"
REDIS_TLS_PORT="${SANDBOX_REDIS_TLS_PORT:-26380}"
MYSQL_PORT="${SANDBOX_MYSQL_PORT:-23306}"
MYSQL_SOCKET="$STATE_DIR/mysql.sock"
MYSQL_DATADIR="$STATE_DIR/mysql"

# The reference project (source) and its deployed copy (what gunicorn serves,
# what labcheck grades through LABCHECK_PROJECT_DIR, what faults damage).
APP_DIR="$(cd "$SANDBOX_DIR/../labs/pets_project" 2>/dev/null && pwd || echo "$SANDBOX_DIR/../labs/pets_project")"
PROJECT_COPY="$STATE_DIR/project"
APP_VENV_DIR="$SANDBOX_DIR/.app-venv"
APP_PY="$APP_VENV_DIR/bin/python"
# The site: the Beanstalk environment's CNAME (moto_launcher.py reports the
# same), where nginx listens; gunicorn sits behind it on GUNICORN_PORT.
SITE_CNAME="${SANDBOX_SITE_CNAME:-127.0.0.1:28000}"
SITE_PORT="${SITE_CNAME##*:}"
GUNICORN_PORT="${SANDBOX_GUNICORN_PORT:-28001}"
NGINX_DIR="$STATE_DIR/nginx"
NGINX_CONF="$NGINX_DIR/nginx.conf"

DB_NAME="pets"
DB_USER="django"
DB_PASSWORD="${RDS_USER_PASSWORD:-sandbox-db-password}"

SERVICES=(moto redis mariadb app nginx)

say()  { printf '[sandbox] %s\n' "$*"; }
warn() { printf '[sandbox] WARNING: %s\n' "$*" >&2; }
die()  { printf '[sandbox] ERROR: %s\n' "$*" >&2; exit 1; }

pidfile() { printf '%s/%s.pid' "$STATE_DIR" "$1"; }

# What the command line of each service's process contains (guards against pid reuse).
cmd_pattern() {
    case "$1" in
        moto) echo moto_launcher.py ;;
        redis) echo redis-server ;;
        mariadb) echo 'mariadbd|mysqld' ;;
        app) echo 'gunicorn.*pets_project' ;;
        nginx) echo 'nginx' ;;
        *) echo "$1" ;;
    esac
}

# moto_env PORT RECORDING: the environment moto_launcher.py runs with (sandbox/up
# for the sandbox's moto, sandbox/moto-shard for more), as `env` arguments.
moto_env() {
    printf '%s\n' MOTO_ENABLE_RECORDING=True "MOTO_RECORDER_FILEPATH=$2" \
        SANDBOX_MOTO_HOST=127.0.0.1 "SANDBOX_MOTO_PORT=$1" \
        "SANDBOX_RDS_PORT=$MYSQL_PORT" "SANDBOX_CACHE_PORT=$REDIS_TLS_PORT" \
        "SANDBOX_CACHE_PLAIN_PORT=$REDIS_PORT" "SANDBOX_SITE_CNAME=$SITE_CNAME"
}

# Prints the pid recorded for service $1 if that process is alive and is ours; fails otherwise.
live_pid() {
    local f pid
    f="$(pidfile "$1")"
    [[ -f "$f" ]] || return 1
    pid="$(cat "$f" 2>/dev/null || true)"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    if [[ -r "/proc/$pid/cmdline" ]]; then
        tr '\0' ' ' <"/proc/$pid/cmdline" | grep -Eq -- "$(cmd_pattern "$1")" || return 1
    fi
    printf '%s\n' "$pid"
}

# stop_service NAME: TERM the service's recorded process, wait up to 30 s, then
# KILL; removes the pid file. Used by down, and by up --restart-moto.
stop_service() {
    local name="$1" pid i
    if ! pid="$(live_pid "$name")"; then
        [[ -f "$(pidfile "$name")" ]] && say "$name: not running (stale pid file removed)" || say "$name: not running"
        rm -f "$(pidfile "$name")"
        return 0
    fi
    say "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 120; i++)); do   # up to 30 s
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.25
    done
    if kill -0 "$pid" 2>/dev/null; then
        warn "$name (pid $pid) did not stop after 30s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        sleep 0.5
    fi
    rm -f "$(pidfile "$name")"
}

# The launcher's code (fast_provision.py & co. are reloaded per request); up
# records its hash when it starts moto, to notice a moto that runs an older one.
moto_code_hash() {
    sha256sum <"$SANDBOX_DIR/moto_launcher.py" | cut -d' ' -f1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Health probes: each returns 0 when the service answers.
moto_answers() {
    curl -fsS --max-time 2 "http://127.0.0.1:$MOTO_PORT/sandbox/health" >/dev/null 2>&1
}
redis_answers() {
    [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]] || return 1
}
redis_tls_answers() {
    [[ "$(redis-cli --tls --cacert "$TLS_DIR/ca.pem" -h 127.0.0.1 -p "$REDIS_TLS_PORT" ping 2>/dev/null)" == PONG ]] || return 1
}
mariadb_answers() {
    mariadb-admin --no-defaults --connect-timeout=2 -h 127.0.0.1 -P "$MYSQL_PORT" \
        -u "$DB_USER" -p"$DB_PASSWORD" ping >/dev/null 2>&1
}
# The root/socket probe works before the django user exists.
mariadb_socket_answers() {
    mariadb-admin --no-defaults --connect-timeout=2 -S "$MYSQL_SOCKET" -u "$(id -un)" ping >/dev/null 2>&1
}
# The pets project under gunicorn answers / with 200 (directly, not through nginx).
app_answers() {
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$GUNICORN_PORT/" 2>/dev/null)" == 200 ]]
}
# nginx answers on the site's address (any status, with its Server header).
nginx_answers() {
    curl -s -o /dev/null -D - --max-time 5 "http://$SITE_CNAME/" 2>/dev/null | grep -qi '^server: nginx'
}
# The whole site, as a visitor sees it: / through nginx answers 200.
site_answers() {
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://$SITE_CNAME/" 2>/dev/null)" == 200 ]]
}
# Redis over TLS, db 0: redis_tls ARGS...
redis_tls() {
    redis-cli --tls --cacert "$TLS_DIR/ca.pem" -h 127.0.0.1 -p "$REDIS_TLS_PORT" -n 0 "$@"
}
# True when at least one Django session key sits in the cache.
sessions_in_redis() {
    [[ -n "$(redis_tls --scan --pattern '*django.contrib.sessions.cache*' 2>/dev/null | head -n 1)" ]]
}
