"""Bring the pets project's data into the solved state, through Django itself.

Run by provision.py with the app venv's python (sandbox/.app-venv), the working
directory labs/pets_project and the environment of sandbox_common.app_environ()
(MariaDB, TLS Redis, one account's media bucket on moto). Every step checks
first and repairs what differs, so a second run changes nothing:

1. schema: every migration applied and every model table present. A pets_app
   whose tables or migration record went missing (the `missing-migration`
   fault) is dropped and migrated again; if `migrate` still fails, database
   `pets` is dropped, re-created and migrated from scratch.
2. data and pictures: `manage.py load_pets` (rows from the fixture; each
   picture the bucket lacks is saved through django-storages).
3. a superuser `admin` with the password in .state/app/admin-password
   (`createsuperuser --noinput`).
4. with --static: `collectstatic`.

The schema, superuser and static steps act on the shared database and folder;
an exclusive lock (.state/app.lock) serialises concurrent runs (parallel
`sandbox/provision --account` calls). When the superuser had to be made again
(old sessions point at nobody) the file .state/app/needs-login asks sandbox/up
to log in again.
"""

import argparse
import fcntl
import io
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATE = HERE / ".state"
NEEDS_LOGIN = STATE / "app" / "needs-login"


def log(msg: str) -> None:
    print(f"[app] {msg}", flush=True)


def table_names(connection) -> set:
    with connection.cursor() as cur:
        return set(connection.introspection.table_names(cur))


def model_tables(app_label=None) -> set:
    from django.apps import apps

    configs = [apps.get_app_config(app_label)] if app_label else apps.get_app_configs()
    return {
        m._meta.db_table
        for cfg in configs
        for m in cfg.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    }


def pending_migrations(connection) -> list:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def drop_tables(connection, tables) -> None:
    with connection.cursor() as cur:
        cur.execute("SET FOREIGN_KEY_CHECKS = 0")
        for t in sorted(tables):
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        cur.execute("SET FOREIGN_KEY_CHECKS = 1")


def rebuild_database(connection) -> None:
    name = connection.settings_dict["NAME"]
    log(f"re-creating database {name} from scratch")
    with connection.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    connection.close()


def migrate() -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("migrate", interactive=False, verbosity=1, stdout=out)
    applied = [ln.strip() for ln in out.getvalue().splitlines() if ln.strip().startswith("Applying")]
    log(f"migrate: {len(applied)} migrations applied")


def ensure_schema(connection) -> bool:
    """Returns True when the database had to be rebuilt."""
    from django.db.migrations.recorder import MigrationRecorder

    pending = pending_migrations(connection)
    tables = table_names(connection)
    lab = model_tables("pets_app")
    lab_pending = any(m.app_label == "pets_app" for m, _ in pending)
    if (lab_pending and lab & tables) or (not lab_pending and not lab <= tables):
        # Half there: some tables without their migration record, or the record
        # without its tables. The lab's rows come from the fixture, so start
        # the app over: drop what is left, forget its migrations.
        log(
            f"pets_app is half migrated (missing tables: {', '.join(sorted(lab - tables)) or 'none'}; "
            f"unapplied: {', '.join(m.name for m, _ in pending if m.app_label == 'pets_app') or 'none'}): "
            "dropping its tables and migrating it again"
        )
        drop_tables(connection, lab & tables)
        MigrationRecorder.Migration.objects.filter(app="pets_app").delete()
        pending = pending_migrations(connection)
    rebuilt = False
    if pending:
        try:
            migrate()
        except Exception as err:  # noqa: BLE001 - any failure: start over
            log(f"migrate failed ({type(err).__name__}: {err})")
            rebuild_database(connection)
            rebuilt = True
            migrate()
    missing = model_tables() - table_names(connection)
    if missing:
        log(f"tables missing after migrate: {', '.join(sorted(missing))}")
        rebuild_database(connection)
        rebuilt = True
        migrate()
        missing = model_tables() - table_names(connection)
        if missing:
            raise SystemExit(f"[app] error: tables still missing: {', '.join(sorted(missing))}")
    return rebuilt


def load_pets() -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("load_pets", verbosity=0, stdout=out)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    log(f"load_pets: {lines[-1] if lines else 'done'}")


def ensure_superuser(password: str) -> bool:
    """Returns True when the superuser had to be created or repaired."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    User = get_user_model()
    if User.objects.filter(is_superuser=True, is_active=True).exists():
        return False
    user = User.objects.filter(username=os.environ["DJANGO_SUPERUSER_USERNAME"]).first()
    if user is not None:
        user.is_superuser = user.is_staff = user.is_active = True
        user.set_password(password)
        user.save()
        log(f"superuser: made {user.username} a superuser again")
    else:
        call_command("createsuperuser", interactive=False, verbosity=0)
        log(f"superuser: created {os.environ['DJANGO_SUPERUSER_USERNAME']}")
    return True


def collectstatic() -> None:
    from django.core.management import call_command

    out = io.StringIO()
    call_command("collectstatic", interactive=False, verbosity=1, stdout=out)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    log(f"collectstatic: {lines[-1] if lines else 'done'}")


def main() -> int:
    ap = argparse.ArgumentParser(prog="app_tasks.py")
    ap.add_argument("--static", action="store_true", help="also run collectstatic")
    ap.add_argument("--admin-password-file", required=True)
    args = ap.parse_args()

    password = Path(args.admin_password_file).read_text().strip()
    os.environ.setdefault("DJANGO_SUPERUSER_USERNAME", "admin")
    os.environ.setdefault("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    os.environ["DJANGO_SUPERUSER_PASSWORD"] = password

    sys.path.insert(0, os.getcwd())
    import django
    from django.db import connection

    STATE.mkdir(parents=True, exist_ok=True)
    with open(STATE / "app.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        django.setup()
        rebuilt = ensure_schema(connection)
        load_pets()
        made_user = ensure_superuser(password)
        if rebuilt or made_user:
            NEEDS_LOGIN.parent.mkdir(parents=True, exist_ok=True)
            NEEDS_LOGIN.touch()
        if args.static:
            collectstatic()
    return 0


if __name__ == "__main__":
    sys.exit(main())
