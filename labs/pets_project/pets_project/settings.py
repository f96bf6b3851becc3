"""
Settings of the pets reference project.

Every backend (database, media storage, cache and sessions) is chosen from
environment variables, so one code base runs in three places without edits:

* on a laptop, with nothing set: SQLite, files under media/, sessions in the
  database;
* in the labcheck sandbox, pointed at MariaDB, TLS Redis and moto's S3;
* on Elastic Beanstalk, with the environment properties the lab's
  `eb create --envvars` sets: AWS_STORAGE_BUCKET_NAME, AWS_REGION,
  CACHE_LOCATION, the RDS_* names and DJANGO_SECRET_KEY.

The names are the lab's, and the lab's `~/pets-lab.env` holds the same ones,
so the IDE, the sandbox and the servers give the settings one set of names.
No secret lives in this file. See README.md for the list of variables.
"""

import os
from pathlib import Path

import pymysql
from django.core.exceptions import ImproperlyConfigured

# Django's MySQL backend imports the MySQLdb module (mysqlclient). PyMySQL is
# pure Python and can answer in its place, which spares the servers a C
# compiler. This has to run before Django opens its first connection, and the
# settings module is imported early enough for that.
pymysql.install_as_MySQLdb()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    """Read a yes/no environment variable ("1", "true", "yes", "on" mean yes)."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    """Read a comma separated environment variable into a list of strings."""
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


# --- Core ---------------------------------------------------------------

# Production is the default: debug pages only when asked for explicitly.
DEBUG = env_flag("DJANGO_DEBUG", default=False)

# A leading dot admits every subdomain, so any Beanstalk environment address
# (something.us-west-2.elasticbeanstalk.com) is accepted.
ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS", [".elasticbeanstalk.com", "localhost", "127.0.0.1"]
)

# Only needed when the site is reached through a proxy on another origin
# (scheme://host[:port], comma separated).
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG:
        # Good enough for a laptop; never used once DEBUG is off.
        SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Export a long random value, or set "
            "DJANGO_DEBUG=1 for local development."
        )

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "storages",
    "pets_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "pets_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "pets_project.wsgi.application"


# --- Database -----------------------------------------------------------
# RDS for MySQL when RDS_HOSTNAME is set. The RDS_* names are the course's
# own convention, set by the lab guide as environment properties; Beanstalk's
# integrated database shares three of them but calls the other two
# RDS_USERNAME and RDS_PASSWORD. Otherwise a SQLite file for local work.

# The CA bundle the server's certificate must chain to: the RDS global
# bundle, which the lab downloads next to manage.py (global-bundle.pem, from
# https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem) so that
# it ships with the source bundle. RDS_CA_FILE names another bundle: the
# sandbox's MariaDB has a certificate of the sandbox's own CA.
RDS_CA_FILE = os.environ.get("RDS_CA_FILE") or str(BASE_DIR / "global-bundle.pem")

if os.environ.get("RDS_HOSTNAME"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": os.environ.get("RDS_DB_NAME", "pets"),
            "USER": os.environ.get("RDS_USER_NAME", "django"),
            # Indexing (not .get) on purpose: a missing password stops the app
            # with a KeyError that names the variable, instead of a confusing
            # "access denied" from an empty password.
            "PASSWORD": os.environ["RDS_USER_PASSWORD"],
            "HOST": os.environ["RDS_HOSTNAME"],
            "PORT": os.environ.get("RDS_PORT", "3306"),
            "OPTIONS": {
                "charset": "utf8mb4",
                # TLS, with the server's certificate and host name verified
                # against the RDS CA bundle (see RDS_CA_FILE below). Without
                # "ssl" the driver talks in plain text, which RDS for MySQL
                # 9.7 refuses by default and 8.4 merely allows.
                "ssl": {"ca": RDS_CA_FILE},
            },
            # Keep each worker's connection for a minute instead of opening
            # a new one (with its TLS handshake) for every request; check it
            # still works before reusing it.
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# --- Cache and sessions ---------------------------------------------------
# With CACHE_LOCATION (for ElastiCache: rediss://ENDPOINT:6379, the extra "s"
# meaning TLS) the sessions live only in that shared cache. Without it, a
# per-process memory cache and database-backed sessions, which is what a new
# Django project does anyway.

CACHE_LOCATION = os.environ.get("CACHE_LOCATION", "")

if CACHE_LOCATION:
    _redis_options = {}
    if os.environ.get("CACHE_CA_FILE"):
        # Trust a private CA (the sandbox signs its own Redis certificate).
        # ElastiCache's certificates chain to a public CA, so on AWS this is
        # not needed.
        _redis_options["ssl_ca_certs"] = os.environ["CACHE_CA_FILE"]
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_LOCATION,
            "OPTIONS": _redis_options,
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cache"
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.db"


# --- Password validation --------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


# --- Internationalization -------------------------------------------------

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True


# --- Static and media files -----------------------------------------------
# Static files (CSS, the admin's assets) are collected into STATIC_ROOT by
# collectstatic; on Beanstalk the proxy serves that folder at /static/ (see
# .ebextensions/django.config). Media files (pet pictures) go to S3 when a
# bucket is named, otherwise to MEDIA_ROOT.

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "static"

# Only for servers without a proxy in front (see pets_project/urls.py).
SERVE_STATIC = env_flag("DJANGO_SERVE_STATIC", default=False)

MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"

AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")

if AWS_STORAGE_BUCKET_NAME:
    _media_backend = "storages.backends.s3boto3.S3Boto3Storage"
else:
    _media_backend = "django.core.files.storage.FileSystemStorage"

STORAGES = {
    "default": {
        "BACKEND": _media_backend,
    },
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}

# django-storages reads these only when the S3 backend is active. There are
# no access keys here: boto3 finds credentials itself (the AWS CLI's in the
# IDE, the instance role on Elastic Beanstalk, AWS_ACCESS_KEY_ID in the
# sandbox).
# The bucket's Region, from the lab's AWS_REGION (or the SDK's own
# AWS_DEFAULT_REGION). With it, and virtual-hosted addressing below, picture
# links name the regional host (BUCKET.s3.REGION.amazonaws.com): the global
# host (BUCKET.s3.amazonaws.com) may answer a bucket younger than a day with
# a 307 redirect, which breaks a signed link.
AWS_S3_REGION_NAME = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or None
AWS_S3_ADDRESSING_STYLE = "virtual"
AWS_S3_SIGNATURE_VERSION = "s3v4"

# Two uploads with the same file name: False keeps both (django-storages asks
# S3 whether the name is taken, which needs s3:ListBucket on the bucket so
# that a missing key is a 404 rather than a 403, and adds a suffix if it is);
# True, django-storages' default, silently replaces the first picture.
AWS_S3_FILE_OVERWRITE = False

# The bucket stays private: every picture URL is a presigned link that
# expires (S3 accepts at most seven days).
AWS_QUERYSTRING_AUTH = True
AWS_QUERYSTRING_EXPIRE = int(os.environ.get("AWS_QUERYSTRING_EXPIRE", "3600"))
# No ACL on uploads: new buckets have ACLs disabled (Object Ownership
# "bucket owner enforced"), and an upload that sets one fails with
# AccessControlListNotSupported.
AWS_DEFAULT_ACL = None

# Another S3 endpoint, such as the sandbox's moto server. Such servers are
# reached by IP address, where bucket-name subdomains cannot work, hence the
# path-style addressing.
AWS_S3_ENDPOINT_URL = (
    os.environ.get("AWS_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL") or None
)
if AWS_S3_ENDPOINT_URL:
    AWS_S3_ADDRESSING_STYLE = "path"


# --- Logging ----------------------------------------------------------------
# Send warnings and errors to the console, where gunicorn (and so the
# Beanstalk logs) picks them up, also when DEBUG is off.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
    },
    "root": {
        "handlers": ["console"],
        "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
    },
    "loggers": {
        # Replaces Django's own handlers for this logger (console only in
        # DEBUG, e-mail to ADMINS) so that each message is printed once.
        "django": {
            "handlers": ["console"],
            "level": os.environ.get("DJANGO_LOG_LEVEL", "WARNING"),
            "propagate": False,
        },
    },
}
