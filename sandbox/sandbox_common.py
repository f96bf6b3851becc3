"""Shared names and helpers for sandbox/provision.py and sandbox/breaks.py.

The names are the lab's defaults (DESIGN.md §3); the endpoint and region come
from the same variables `sandbox/env` exports.
"""

import os
import struct
import zlib
from pathlib import Path

import boto3
from botocore.config import Config

HERE = Path(__file__).resolve().parent
DEFAULT_ACCOUNT = "123456789012"
REGION = os.environ.get("SANDBOX_REGION", "us-west-2")
ENDPOINT = os.environ.get("SANDBOX_AWS_ENDPOINT_URL", "http://127.0.0.1:24566")
SECRET = "sandbox-secret"

CACHE_NAME = "pets-project"
DB_INSTANCE = "pets-project-mysql"
DB_NAME = "pets"
DB_MASTER_USER = "admin"
DB_MASTER_PASSWORD = "sandbox-admin-password"
DB_USER = "django"
DB_PASSWORD = os.environ.get("RDS_USER_PASSWORD", "sandbox-db-password")
EB_APP = "pets-project-ebapp"
EB_ENV = "pets-project-env"
EB_STACK = "64bit Amazon Linux 2023 v4.6.0 running Python 3.11"
INSTANCE_PROFILE = "pets-project-ebInstanceProfile"
INSTANCE_ROLE = "pets-project-ebInstanceRole"
SG_EB = "pets-project-eb-sg"
SG_CACHE = "pets-project-cache-sg"
SG_DB = "pets-project-db-sg"


def bucket_name(account: str, region: str = REGION) -> str:
    return f"pets-project-{region}-{account}"


def client(service: str, account: str, region: str = REGION):
    """A boto3 client acting as `account` (the 12-digit key selects it)."""
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id=account,
        aws_secret_access_key=SECRET,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}),
    )


def valid_account(value: str) -> str:
    if not (len(value) == 12 and value.isdigit()):
        raise SystemExit(f"error: account id must be 12 digits, got {value!r}")
    return value


# ---- tiny real pictures -------------------------------------------------


def png_bytes(width: int, height: int, pixel) -> bytes:
    """A valid RGB PNG where pixel(x, y) -> (r, g, b)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    raw = b"".join(
        b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(width))
        for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def _paw(bg, fg):
    pads = [(16, 22, 8), (8, 12, 4), (14, 7, 4), (20, 7, 4), (26, 12, 4)]

    def pixel(x, y):
        for cx, cy, r in pads:
            if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
                return fg
        return bg

    return pixel


def media_files() -> list[tuple[str, bytes, str]]:
    """(key, bytes, content type) of the pictures the solved lab stores."""
    files = [
        ("luna.png", png_bytes(32, 32, _paw((250, 235, 215), (90, 60, 40))), "image/png"),
        ("max.png", png_bytes(32, 32, _paw((210, 230, 250), (30, 60, 120))), "image/png"),
    ]
    jpg = HERE / "fixtures" / "bella.jpg"
    files.append(("bella.jpg", jpg.read_bytes(), "image/jpeg"))
    return files


def run_main(main) -> int:
    """Run a script's main(), turning "moto is not there" into one clear line."""
    from botocore.exceptions import EndpointConnectionError

    try:
        return main()
    except EndpointConnectionError:
        print(f"error: moto does not answer at {ENDPOINT}: run sandbox/up first",
              file=__import__("sys").stderr)
        return 1
