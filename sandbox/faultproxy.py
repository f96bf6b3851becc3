"""A reverse proxy in front of moto that adds latency and injects faults.

Run through sandbox/faultproxy. Clients (labcheck, the AWS SDKs) talk to it
as they would to moto; each request is delayed by --latency-ms and, with
probability --fault-rate, answered by a fault instead of being forwarded:

  500       HTTP 500, the protocol's internal error (S3 and EC2 InternalError,
            the query and JSON services InternalFailure)
  throttle  the protocol's throttling error, as the SDKs classify it: S3 503
            SlowDown; EC2 503 RequestLimitExceeded (<Response><Errors>...);
            the query services (STS, IAM, RDS, ElastiCache, Elastic
            Beanstalk...) 400 <ErrorResponse><Error><Code>Throttling</Code>;
            JSON services 400 ThrottlingException
  reset     the connection is closed without an answer (TCP RST)
  stall     the connection is held without an answer for --stall-seconds,
            then closed

The fault is chosen before anything is forwarded, so a faulty attempt never
reaches moto (and never changes its state). A forwarded request goes through
unchanged: the request line and headers byte for byte (Host included, so
SigV4 signatures still verify), bodies streamed (Content-Length or chunked,
Expect: 100-continue honoured). Responses are streamed back; only the
hop-by-hop Connection/Keep-Alive headers are the proxy's own, so clients keep
their connections alive even though moto closes its end after each answer.

Paths under /moto-api/, /sandbox/ and /faultproxy/ are never faulted or
delayed; GET /faultproxy/stats answers the counters as JSON (not forwarded).

With --route FIRST-LAST=URL (repeatable), the accounts FIRST..LAST live in
another moto (sandbox/moto-shard): a request acting in one of them goes to
that URL, every other request to --upstream. A request's account is the one
its access key names (the 12-digit keys of the sandbox, or the account an
AKIA/ASIA key of moto's encodes; from the Authorization header or a
presigned URL's query), and for STS AssumeRole the account of the RoleArn
(read from the body), so a learner's role is assumed in the moto that holds
it and the keys it answers lead back there. The stats count the requests
sent to each upstream. This is how `scripts/bench cohort` spreads a thousand
accounts over several moto processes, one interpreter lock each.

With --deny SERVICE:Action[@ACCOUNT] (repeatable), that call (in that
account only, if one is named) is answered as AWS answers a role without the
permission, never forwarded: 403 AccessDenied (S3, the query services), EC2's
403 UnauthorizedOperation, the JSON services' AccessDeniedException. The
action is the one --trace records (the query protocol's Action is read from
bodies up to 64 KB). The stats count the refusals by "service:Action".

With --trace, each AWS request (not the control paths) is recorded: when its
head arrived and when its answer was written (seconds since the epoch), its
service, action and status. GET /faultproxy/trace?since=N answers the records
from the N-th on as JSON ({"calls": [...], "next": M}); a client asks with
the `next` of its previous answer to get only what came after. This is how
`scripts/bench lab` measures the longest chain of dependent calls in a run.
Listens on and connects to 127.0.0.1 only. On SIGTERM/SIGINT it prints the
counters, writes them to --stats FILE (if given; SIGUSR1 writes them too) and
removes its pid file (.state/faultproxy-PORT.pid).
"""

import argparse
import asyncio
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import time
import uuid
from email.utils import formatdate
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pidfile

HERE = Path(__file__).resolve().parent
STATE = HERE / ".state"
LOOPBACK = "127.0.0.1"
KINDS = ("500", "throttle", "reset", "stall")
UNFAULTED_PREFIXES = (b"/moto-api/", b"/sandbox/", b"/faultproxy/")
HEAD_LIMIT = 64 * 1024
CHUNK = 64 * 1024

QUERY_XMLNS = {
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
    "elasticache": "http://elasticache.amazonaws.com/doc/2015-02-02/",
    "elasticbeanstalk": "http://elasticbeanstalk.amazonaws.com/docs/2010-12-01/",
}


class Stats:
    def __init__(self) -> None:
        self.started = time.time()
        self.connections = 0
        self.open_connections = 0
        self.requests = 0
        self.forwarded = 0
        self.unfaulted_control = 0
        self.upstream_errors = 0
        self.client_errors = 0
        self.faults = dict.fromkeys(KINDS, 0)
        self.faults_by_service: dict[str, int] = {}
        # Requests refused by --deny, by "service:Action".
        self.denied: dict[str, int] = {}
        # Requests sent to each upstream, when --route spreads them.
        self.routed: dict[str, int] = {}
        # One record per AWS request when tracing (--trace), else None.
        self.trace: list[dict] | None = None

    def as_dict(self) -> dict:
        return {
            "uptime_seconds": round(time.time() - self.started, 3),
            "connections": self.connections,
            "open_connections": self.open_connections,
            "requests": self.requests,
            "forwarded": self.forwarded,
            "control_requests": self.unfaulted_control,
            "faults": dict(self.faults),
            "faults_total": sum(self.faults.values()),
            "faults_by_service": dict(self.faults_by_service),
            "routed": dict(self.routed),
            "denied": dict(self.denied),
            "upstream_errors": self.upstream_errors,
            "client_errors": self.client_errors,
        }


# SigV4's credential scope KEY/DATE/REGION/SERVICE/aws4_request, in the
# Authorization header or (URL-encoded) in a presigned URL's query.
SIGV4_IN_AUTHORIZATION = re.compile(r"Credential=([^/,\s]+)/\d{8}/[^/]+/([^/]+)/aws4_request")
SIGV4_IN_QUERY = re.compile(
    r"X-Amz-Credential=([A-Za-z0-9]+)(?:%2F|/)\d{8}(?:%2F|/)[^&]*?(?:%2F|/)([a-z0-9-]+)(?:%2F|/)aws4_request",
    re.IGNORECASE,
)
# SigV2: "AWS KEY:signature", or AWSAccessKeyId= in a presigned URL.
SIGV2_KEY = re.compile(r"^AWS ([^:\s]+):")
SIGV2_KEY_IN_QUERY = re.compile(r"(?:^|[?&])AWSAccessKeyId=([A-Za-z0-9]+)")
ROLE_ACCOUNT_IN_BODY = re.compile(
    rb"(?:^|&)RoleArn=arn(?::|%3A)aws[a-z-]*(?::|%3A)iam(?::|%3A)(?::|%3A)(\d{12})(?::|%3A)", re.IGNORECASE
)
ROUTED_BODY_LIMIT = 64 * 1024
DENY = re.compile(r"^([a-z0-9-]+):([A-Za-z0-9]+)(?:@(\d{12}))?$")


def parse_denials(specs: list[str]) -> list[tuple[str, str, str | None]]:
    """--deny SERVICE:Action[@ACCOUNT] values as (service, action, account)."""
    out = []
    for spec in specs:
        m = DENY.match(spec)
        if m is None:
            bad_usage(
                f"--deny takes SERVICE:Action or SERVICE:Action@ACCOUNT (like ec2:DescribeSecurityGroups), got {spec!r}"
            )
        out.append((m.group(1), m.group(2), m.group(3)))
    return out


def account_of_key(key: str) -> str | None:
    """The account an access key acts in: a 12-digit key is the account (the
    sandbox's convention), an AKIA/ASIA key of moto's encodes its account."""
    if len(key) == 12 and key.isdigit():
        return key
    from moto_launcher import account_encoded_in_key

    return account_encoded_in_key(key)


class Routes:
    """Which moto holds which accounts: --route FIRST-LAST=URL, and
    --upstream for every account (and request) no route names."""

    def __init__(self, default: str, specs: list[str]) -> None:
        self.default = upstream_addr(default, "--upstream")
        self.ranges: list[tuple[int, int, tuple[str, int]]] = []
        for spec in specs:
            span, sep, url = spec.partition("=")
            first, dash, last = span.partition("-")
            if not (
                sep
                and dash
                and len(first) == len(last) == 12
                and first.isdigit()
                and last.isdigit()
                and int(first) <= int(last)
            ):
                bad_usage(
                    f"--route takes FIRST-LAST=URL with two 12-digit account ids, FIRST <= LAST; got {spec!r}"
                )
            lo, hi = int(first), int(last)
            for other_lo, other_hi, _ in self.ranges:
                if lo <= other_hi and other_lo <= hi:
                    bad_usage(f"--route {spec!r} overlaps another route")
            self.ranges.append((lo, hi, upstream_addr(url, "--route URL")))

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def upstream(self, account: str | None) -> tuple[str, int]:
        if account is not None:
            number = int(account)
            for lo, hi, addr in self.ranges:
                if lo <= number <= hi:
                    return addr
        return self.default


class Request:
    """A request head as received: raw bytes kept for forwarding."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        lines = raw[:-4].split(b"\r\n")
        parts = lines[0].split(b" ")
        if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
            raise ValueError(f"bad request line {lines[0][:100]!r}")
        self.method, self.target, self.version = parts
        self.headers: list[tuple[str, str]] = []
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep:
                raise ValueError(f"bad header line {line[:100]!r}")
            self.headers.append((name.strip().decode("latin-1").lower(), value.strip().decode("latin-1")))

    def header(self, name: str, default: str = "") -> str:
        for k, v in self.headers:
            if k == name:
                return v
        return default

    @property
    def chunked(self) -> bool:
        return "chunked" in self.header("transfer-encoding").lower()

    @property
    def content_length(self) -> int:
        value = self.header("content-length", "0") or "0"
        return int(value)

    @property
    def keep_alive(self) -> bool:
        conn = self.header("connection").lower()
        if self.version == b"HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn

    @property
    def expects_continue(self) -> bool:
        return self.header("expect").lower() == "100-continue"

    def _credential(self) -> tuple[str, str] | None:
        """(access key id, service) of the SigV4 credential scope, from the
        Authorization header or a presigned URL's X-Amz-Credential."""
        m = SIGV4_IN_AUTHORIZATION.search(self.header("authorization"))
        if m is None:
            m = SIGV4_IN_QUERY.search(self.target.decode("latin-1"))
        return (m.group(1), m.group(2).lower()) if m else None

    def service(self) -> str:
        """The AWS service the request is for (SigV4 credential scope), "s3"
        for unsigned, SigV2 or presigned S3 requests."""
        credential = self._credential()
        return credential[1] if credential else "s3"

    def action(self, body: bytes) -> str:
        """What the request asks, for the trace: the JSON protocol's target,
        the query protocol's Action (from the body's start), or for S3 the
        method, path and subresources."""
        target = self.header("x-amz-target")
        if target:
            return target.rpartition(".")[2]
        m = re.search(rb"(?:^|&)Action=([A-Za-z0-9]+)", body)
        if m:
            return m.group(1).decode()
        path, _, query = self.target.decode("latin-1").partition("?")
        keys = sorted(k.partition("=")[0] for k in query.split("&") if k)
        keys = [k for k in keys if not k.startswith("X-Amz-") and k != "x-id"]
        return f"{self.method.decode()} {path}" + (f"?{'&'.join(keys)}" if keys else "")

    def access_key(self) -> str | None:
        """The access key id the request is signed with (SigV4 or SigV2,
        header or presigned query), None for an unsigned request."""
        credential = self._credential()
        if credential:
            return credential[0]
        m = SIGV2_KEY.search(self.header("authorization")) or SIGV2_KEY_IN_QUERY.search(
            self.target.decode("latin-1")
        )
        return m.group(1) if m else None

    def account(self, body: bytes | None) -> str | None:
        """The account the request acts in (see Routes): an AssumeRole's
        role's account, else its access key's."""
        if body:
            m = ROLE_ACCOUNT_IN_BODY.search(body)
            if m:
                return m.group(1).decode()
        key = self.access_key()
        return account_of_key(key) if key else None

    def protocol(self) -> str:
        service = self.service()
        if service == "s3":
            return "s3"
        if service == "ec2":
            return "ec2"
        if self.header("x-amz-target") or "json" in self.header("content-type"):
            return "json"
        return "query"


def denied_response(req: Request, action: str, keep_alive: bool) -> bytes:
    """An AWS-shaped refusal of `action` (what AWS answers a role without the
    permission): 403 AccessDenied, EC2's UnauthorizedOperation, or the JSON
    services' AccessDeniedException."""
    message = f"User: labcheck-faultproxy is not authorized to perform: {req.service()}:{action}"
    status, code = {
        "ec2": (403, "UnauthorizedOperation"),
        "json": (400, "AccessDeniedException"),
    }.get(req.protocol(), (403, "AccessDenied"))
    return error_answer(req, status, code, message, "Sender", keep_alive)


# (status, code, message, who) of each fault kind's answer, by protocol.
FAULTS = {
    "s3": {
        "throttle": (503, "SlowDown", "Please reduce your request rate.", "Sender"),
        "500": (500, "InternalError", "We encountered an internal error. Please try again.", "Receiver"),
    },
    "ec2": {
        "throttle": (503, "RequestLimitExceeded", "Request limit exceeded.", "Sender"),
        "500": (500, "InternalError", "An internal error has occurred.", "Receiver"),
    },
    "json": {
        "throttle": (400, "ThrottlingException", "Rate exceeded", "Sender"),
        "500": (500, "InternalFailure", "An internal error occurred.", "Receiver"),
    },
    "query": {
        "throttle": (400, "Throttling", "Rate exceeded", "Sender"),
        "500": (500, "InternalFailure", "An internal error occurred.", "Receiver"),
    },
}


def fault_response(req: Request, kind: str, keep_alive: bool) -> bytes:
    """The bytes of an AWS-shaped error answer for `kind` ("500"/"throttle")."""
    status, code, message, who = FAULTS[req.protocol()][kind]
    return error_answer(req, status, code, message, who, keep_alive)


def error_answer(req: Request, status: int, code: str, message: str, who: str, keep_alive: bool) -> bytes:
    """An error answer shaped as the request's protocol shapes AWS's own."""
    rid = str(uuid.uuid4())
    proto = req.protocol()
    extra: list[tuple[str, str]] = []
    if proto == "s3":
        ctype = "application/xml"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{message}</Message>"
            f"<RequestId>{rid[:16].upper()}</RequestId><HostId>{rid}</HostId></Error>"
        )
        extra = [("x-amz-request-id", rid[:16].upper()), ("x-amz-id-2", rid)]
    elif proto == "ec2":
        ctype = "text/xml;charset=UTF-8"
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
            f"</Error></Errors><RequestID>{rid}</RequestID></Response>"
        )
    elif proto == "json":
        ctype = "application/x-amz-json-1.1"
        body = json.dumps({"__type": code, "message": message})
        extra = [("x-amzn-RequestId", rid), ("x-amzn-ErrorType", code)]
    else:
        xmlns = QUERY_XMLNS.get(req.service(), "")
        ns = f' xmlns="{xmlns}"' if xmlns else ""
        ctype = "text/xml"
        body = (
            f"<ErrorResponse{ns}>\n  <Error>\n    <Type>{who}</Type>\n"
            f"    <Code>{code}</Code>\n    <Message>{message}</Message>\n  </Error>\n"
            f"  <RequestId>{rid}</RequestId>\n</ErrorResponse>\n"
        )
        extra = [("x-amzn-RequestId", rid)]
    payload = body.encode()
    reason = {400: "Bad Request", 403: "Forbidden", 500: "Internal Server Error", 503: "Service Unavailable"}
    headers = [
        ("Content-Type", ctype),
        ("Content-Length", str(len(payload))),
        ("Date", formatdate(usegmt=True)),
        ("Server", "labcheck-faultproxy"),
        *extra,
        ("Connection", "keep-alive" if keep_alive else "close"),
    ]
    head = f"HTTP/1.1 {status} {reason[status]}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode("latin-1") + (b"" if req.method == b"HEAD" else payload)


class Proxy:
    def __init__(self, args) -> None:
        self.args = args
        self.stats = Stats()
        self.rng = random.Random(args.seed)
        self.kinds = args.faults
        self.routes: Routes = args.routes
        self.tasks: set[asyncio.Task] = set()

    # ---- helpers -------------------------------------------------------------

    def pick_fault(self) -> str | None:
        if self.args.fault_rate > 0 and self.rng.random() < self.args.fault_rate:
            return self.rng.choice(self.kinds)
        return None

    @staticmethod
    async def relay_exact(reader, writer, n: int) -> None:
        while n > 0:
            data = await reader.read(min(n, CHUNK))
            if not data:
                raise ConnectionError("peer closed mid-body")
            writer.write(data)
            await writer.drain()
            n -= len(data)

    @staticmethod
    async def relay_chunked(reader, writer) -> None:
        while True:
            line = await reader.readuntil(b"\r\n")
            writer.write(line)
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while True:  # trailers, up to the empty line
                    trailer = await reader.readuntil(b"\r\n")
                    writer.write(trailer)
                    if trailer == b"\r\n":
                        break
                await writer.drain()
                return
            await Proxy.relay_exact(reader, writer, size + 2)

    @staticmethod
    async def discard_body(reader, req: Request) -> None:
        sink = _Sink()
        if req.chunked:
            await Proxy.relay_chunked(reader, sink)
        elif req.content_length:
            await Proxy.relay_exact(reader, sink, req.content_length)

    @staticmethod
    def reset(writer) -> None:
        sock = writer.get_extra_info("socket")
        try:
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        writer.transport.abort()

    # ---- one client connection ---------------------------------------------------

    async def client(self, reader, writer) -> None:
        task = asyncio.current_task()
        self.tasks.add(task)
        self.stats.connections += 1
        self.stats.open_connections += 1
        upstream = None
        try:
            while True:
                try:
                    raw = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the client closed between requests
                except asyncio.LimitOverrunError:
                    self.stats.client_errors += 1
                    writer.write(
                        b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                        b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    await writer.drain()
                    return
                try:
                    req = Request(raw)
                except ValueError:
                    self.stats.client_errors += 1
                    writer.write(
                        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                    await writer.drain()
                    return
                self.stats.requests += 1
                keep, upstream = await self.one_request(req, reader, writer, upstream)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.stats.client_errors += 1
        except asyncio.CancelledError:
            pass  # shutting down: close the connection below, quietly
        finally:
            self.stats.open_connections -= 1
            self.tasks.discard(task)
            for w in (writer, upstream[1] if upstream else None):
                if w is not None and not w.is_closing():
                    w.close()

    async def one_request(self, req, reader, writer, upstream):
        """Answers one request; returns (keep the client connection, upstream)."""
        path = req.target.split(b"?", 1)[0]
        if path == b"/faultproxy/trace":
            return await self.answer_trace(req, reader, writer), upstream
        if path == b"/faultproxy/stats":
            await self.discard_body(reader, req)
            return await self.answer_json(req, writer, self.stats.as_dict()), upstream
        control = path.startswith(UNFAULTED_PREFIXES)
        record = None
        if control:
            self.stats.unfaulted_control += 1
        else:
            if self.stats.trace is not None:
                record = {"start": time.time(), "service": req.service(), "action": "", "status": None}
                reader = _TeeReader(reader)
            if self.args.latency_ms > 0:
                await asyncio.sleep(self.args.latency_ms / 1000)
            kind = self.pick_fault()
            if kind is not None:
                self.stats.faults[kind] += 1
                svc = req.service()
                self.stats.faults_by_service[svc] = self.stats.faults_by_service.get(svc, 0) + 1
                if record is not None:
                    record["status"] = kind
                try:
                    return await self.inject(kind, req, reader, writer), upstream
                finally:
                    self.end_record(record, req, reader)
        addr, body = self.routes.default, None
        if (
            not control
            and ((self.routes and req.service() == "sts") or self.args.deny)
            and not req.chunked
            and not req.expects_continue
            and 0 < req.content_length <= ROUTED_BODY_LIMIT
        ):
            body = await reader.readexactly(req.content_length)
        if self.args.deny and not control and self.denied(req, body or b""):
            writer.write(denied_response(req, req.action(body or b""), req.keep_alive))
            await writer.drain()
            if record is not None:
                record["status"] = "denied"
                self.end_record(record, req, reader)
            return req.keep_alive, upstream
        if self.routes and not control:
            addr = self.routes.upstream(req.account(body))
        if record is None:
            return await self.forward(req, reader, writer, upstream, addr, body)
        try:
            return await self.forward(req, reader, writer, upstream, addr, body, record)
        finally:
            self.end_record(record, req, reader)

    def end_record(self, record, req: Request, reader) -> None:
        if record is None:
            return
        record["end"] = time.time()
        record["action"] = req.action(reader.seen)
        self.stats.trace.append(record)

    async def answer_trace(self, req: Request, reader, writer) -> bool:
        await self.discard_body(reader, req)
        query = req.target.partition(b"?")[2].decode("latin-1")
        since = 0
        for kv in query.split("&"):
            k, _, v = kv.partition("=")
            if k == "since" and v.isdigit():
                since = int(v)
        calls = self.stats.trace
        return await self.answer_json(
            req,
            writer,
            {"tracing": calls is not None, "calls": (calls or [])[since:], "next": len(calls or [])},
        )

    @staticmethod
    async def answer_json(req: Request, writer, payload) -> bool:
        """Answers the proxy's own endpoints with `payload` as JSON; returns
        whether the client's connection stays open."""
        body = json.dumps(payload).encode()
        keep = req.keep_alive
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\n".encode()
            + (b"Connection: keep-alive\r\n" if keep else b"Connection: close\r\n")
            + b"\r\n"
            + (b"" if req.method == b"HEAD" else body)
        )
        await writer.drain()
        return keep

    async def inject(self, kind: str, req: Request, reader, writer) -> bool:
        if kind == "reset":
            self.reset(writer)
            return False
        if kind == "stall":
            # Hold the connection; stop early if the client gives up and closes.
            gone = asyncio.ensure_future(reader.read(CHUNK))
            try:
                await asyncio.wait_for(self._until_closed(reader, gone), self.args.stall_seconds)
            except TimeoutError:
                pass
            finally:
                gone.cancel()
            writer.close()
            return False
        # An error answer. A client waiting for 100 Continue may or may not
        # send its body now: answer and close. Otherwise read the body first,
        # so the connection stays usable.
        keep = req.keep_alive and not req.expects_continue
        if keep:
            await self.discard_body(reader, req)
        writer.write(fault_response(req, kind, keep))
        await writer.drain()
        return keep

    def denied(self, req: Request, body: bytes) -> bool:
        """Whether --deny refuses this request (and counts it)."""
        service, action, account = req.service(), req.action(body), None
        for d_service, d_action, d_account in self.args.deny:
            if d_service == service and d_action == action:
                account = account or req.account(body)
                if d_account is None or d_account == account:
                    key = f"{service}:{action}"
                    self.stats.denied[key] = self.stats.denied.get(key, 0) + 1
                    return True
        return False

    @staticmethod
    async def _until_closed(reader, first) -> None:
        data = await first
        while data:
            data = await reader.read(CHUNK)

    async def forward(self, req: Request, reader, writer, upstream, addr, body=None, record=None):
        """Sends the request to moto at `addr` (its body already read, when
        `body` is given) and relays the answer; `upstream` is the connection
        kept from the last request: (reader, writer, addr) or None."""
        if upstream is None or upstream[1].is_closing() or upstream[0].at_eof() or upstream[2] != addr:
            if upstream is not None:
                upstream[1].close()
            try:
                upstream = (*await asyncio.open_connection(*addr, limit=HEAD_LIMIT * 2), addr)
            except OSError as err:
                self.stats.upstream_errors += 1
                msg = f"faultproxy: upstream http://{addr[0]}:{addr[1]} unreachable: {err}".encode()
                writer.write(
                    b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
                    + f"Content-Length: {len(msg)}\r\n".encode()
                    + b"Connection: close\r\n\r\n"
                    + msg
                )
                await writer.drain()
                return False, None
        ureader, uwriter, _ = upstream
        self.stats.forwarded += 1
        if self.routes:
            name = f"http://{addr[0]}:{addr[1]}"
            self.stats.routed[name] = self.stats.routed.get(name, 0) + 1
        uwriter.write(req.raw)
        await uwriter.drain()

        async def send_body():
            if body is not None:
                uwriter.write(body)
                await uwriter.drain()
            elif req.chunked:
                await self.relay_chunked(reader, uwriter)
            elif req.content_length:
                await self.relay_exact(reader, uwriter, req.content_length)

        async def response_head():
            while True:
                try:
                    raw = await ureader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as err:
                    raise UpstreamGone(str(err)) from err
                status, lines, headers = parse_response_head(raw)
                if 100 <= status < 200 and status != 101:
                    writer.write(raw)  # 100 Continue: pass it on
                    await writer.drain()
                    continue
                return status, lines, headers

        body_task = asyncio.ensure_future(send_body())
        head_task = asyncio.ensure_future(response_head())
        try:
            await asyncio.wait({body_task, head_task}, return_when=asyncio.FIRST_COMPLETED)
            if body_task.done() and body_task.exception() is not None and not head_task.done():
                # The client went away mid-body: moto waits for the rest in vain.
                head_task.cancel()
                uwriter.close()
                raise ConnectionError("client closed mid-body")
            status, rhead, rheaders = await head_task
            if record is not None:
                record["status"] = status
            no_body = req.method == b"HEAD" or status in (204, 304)
            te = rheaders.get("transfer-encoding", "").lower()
            length = rheaders.get("content-length")
            delimited = no_body or "chunked" in te or length is not None
            keep = req.keep_alive and delimited
            up_keep = delimited and "close" not in rheaders.get("connection", "").lower()
            writer.write(rebuild_head(rhead, keep))
            try:
                if not no_body:
                    if "chunked" in te:
                        await self.relay_chunked(ureader, writer)
                    elif length is not None:
                        await self.relay_exact(ureader, writer, int(length))
                    else:
                        while data := await ureader.read(CHUNK):
                            writer.write(data)
                            await writer.drain()
                await writer.drain()
            except asyncio.IncompleteReadError as err:
                raise UpstreamGone(str(err)) from err
            if not body_task.done():
                # Answered before the whole body arrived: the client
                # connection's framing is lost.
                keep = up_keep = False
            elif body_task.exception() is not None:
                keep = up_keep = False
        except UpstreamGone:
            self.stats.upstream_errors += 1
            uwriter.close()
            # The client sees its connection drop, as it would had moto dropped it.
            self.reset(writer)
            return False, None
        finally:
            for t in (body_task, head_task):
                if not t.done():
                    t.cancel()
        if not up_keep:
            uwriter.close()
            upstream = None
        return keep, upstream


class UpstreamGone(Exception):
    pass


class _TeeReader:
    """A client reader that keeps the first bytes of the body read through
    it (the query protocol's Action is there), for the trace."""

    KEEP = 4096

    def __init__(self, inner) -> None:
        self.inner = inner
        self.seen = b""

    def _keep(self, data: bytes) -> bytes:
        if len(self.seen) < self.KEEP:
            self.seen += data[: self.KEEP - len(self.seen)]
        return data

    async def read(self, n: int = -1) -> bytes:
        return self._keep(await self.inner.read(n))

    async def readuntil(self, separator: bytes = b"\n") -> bytes:
        return self._keep(await self.inner.readuntil(separator))

    async def readexactly(self, n: int) -> bytes:
        return self._keep(await self.inner.readexactly(n))

    def at_eof(self) -> bool:
        return self.inner.at_eof()


class _Sink:
    """A writer that drops what it is given (to read past a body)."""

    def write(self, data) -> None:
        pass

    async def drain(self) -> None:
        pass


HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection"}


def parse_response_head(raw: bytes):
    lines = raw[:-4].split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    status = int(parts[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return status, lines, headers


def rebuild_head(lines: list[bytes], keep: bool) -> bytes:
    """The upstream's status line and headers as they came, but for the
    hop-by-hop Connection headers, which say what the proxy does with this
    client connection."""
    kept = [lines[0]] + [
        ln for ln in lines[1:] if ln.partition(b":")[0].strip().decode("latin-1").lower() not in HOP_BY_HOP
    ]
    kept.append(b"Connection: keep-alive" if keep else b"Connection: close")
    return b"\r\n".join(kept) + b"\r\n\r\n"


# ---- process ------------------------------------------------------------------------


def bad_usage(message: str) -> NoReturn:
    """A bad option: the message on stderr, exit 2."""
    print(f"faultproxy: error: {message}", file=sys.stderr)
    sys.exit(2)


def pid_file(port: int) -> Path:
    return STATE / f"faultproxy-{port}.pid"


def loopback_addr(value: str, what: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if host != LOOPBACK or not port.isdigit():
        bad_usage(f"{what} must be {LOOPBACK}:PORT, got {value!r}")
    return host, int(port)


def upstream_addr(url: str, what: str) -> tuple[str, int]:
    """(host, port) of a moto URL, which must be http://127.0.0.1:PORT."""
    up = urlsplit(url)
    try:
        port = up.port
    except ValueError:
        port = None
    if up.scheme != "http" or up.hostname != LOOPBACK or not port or up.path not in ("", "/"):
        bad_usage(f"{what} must be http://{LOOPBACK}:PORT, got {url!r}")
    return LOOPBACK, port


def stop(port: int) -> int:
    path = pid_file(port)
    try:
        pid = pidfile.stop(path, r"faultproxy\.py", timeout=10)
    except TimeoutError as err:
        print(f"faultproxy: {err}", file=sys.stderr)
        return 1
    if pid is None:
        print(f"faultproxy: none running on port {port} (no live {path})")
        return 0
    print(f"faultproxy: stopped pid {pid} (port {port})")
    return 0


def write_stats(stats: Stats, path: str | None) -> None:
    if path:
        tmp = Path(path + ".tmp")
        tmp.write_text(json.dumps(stats.as_dict(), indent=2) + "\n")
        tmp.replace(path)


async def serve(args, listen_port: int) -> None:
    proxy = Proxy(args)
    if args.trace:
        proxy.stats.trace = []
    server = await asyncio.start_server(
        proxy.client, LOOPBACK, listen_port, limit=HEAD_LIMIT, backlog=1024, reuse_address=True
    )
    STATE.mkdir(parents=True, exist_ok=True)
    pidf = pid_file(listen_port)
    pidf.write_text(f"{os.getpid()}\n")
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGINT, done.set)
    loop.add_signal_handler(signal.SIGUSR1, lambda: write_stats(proxy.stats, args.stats))
    routes = "".join(f", {r} " for r in args.route)
    print(
        f"faultproxy: listening on http://{LOOPBACK}:{listen_port} -> {args.upstream}{routes} "
        f"(latency {args.latency_ms} ms, fault rate {args.fault_rate}: {','.join(args.faults)}; "
        f"stall {args.stall_seconds} s; seed {args.seed}; pid {os.getpid()}, "
        f"pid file {pidf})",
        flush=True,
    )
    try:
        await done.wait()
    finally:
        server.close()
        for task in list(proxy.tasks):
            task.cancel()
        await asyncio.gather(*proxy.tasks, return_exceptions=True)
        s = proxy.stats.as_dict()
        faults = ", ".join(f"{k} {v}" for k, v in s["faults"].items())
        print(
            f"faultproxy: {s['requests']} requests, {s['forwarded']} forwarded, "
            f"{s['faults_total']} faults injected ({faults}), "
            f"{s['upstream_errors']} upstream errors, {s['connections']} connections",
            flush=True,
        )
        write_stats(proxy.stats, args.stats)
        try:
            if pidf.read_text().strip() == str(os.getpid()):
                pidf.unlink()
        except OSError:
            pass


def main() -> int:
    ap = argparse.ArgumentParser(
        prog="sandbox/faultproxy",
        description="Reverse proxy in front of moto adding latency and injecting faults "
        "(500, throttling, connection reset, stall). 127.0.0.1 only.",
    )
    ap.add_argument("--listen", default="127.0.0.1:24567", help="127.0.0.1:PORT (default :24567)")
    ap.add_argument(
        "--upstream",
        default="http://127.0.0.1:24566",
        help="moto's URL, http://127.0.0.1:PORT (default :24566)",
    )
    ap.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="FIRST-LAST=URL",
        help="send requests acting in accounts FIRST..LAST (12-digit ids) to the "
        "moto at URL instead of --upstream (repeatable)",
    )
    ap.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="delay added before each request is answered (default 0)",
    )
    ap.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="probability that a request gets a fault (0..1, default 0)",
    )
    ap.add_argument(
        "--faults",
        default=",".join(KINDS),
        help=f"kinds to choose from, comma-separated (default {','.join(KINDS)})",
    )
    ap.add_argument(
        "--deny",
        action="append",
        default=[],
        metavar="SERVICE:Action[@ACCOUNT]",
        help="answer this call (in ACCOUNT only, if given) as AWS answers a role without the "
        "permission: AccessDenied, or EC2's UnauthorizedOperation (repeatable)",
    )
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    ap.add_argument(
        "--stall-seconds",
        type=float,
        default=30.0,
        help="how long a stall holds the connection before closing it (default 30)",
    )
    ap.add_argument(
        "--stats", metavar="FILE", help="write the counters as JSON here on exit (and on SIGUSR1)"
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="record each AWS request's start and end times, service and action, "
        "answered by GET /faultproxy/trace?since=N",
    )
    ap.add_argument(
        "--stop", action="store_true", help="stop the proxy listening on --listen (by its pid file) and exit"
    )
    args = ap.parse_args()
    _, listen_port = loopback_addr(args.listen, "--listen")
    if args.stop:
        return stop(listen_port)
    args.routes = Routes(args.upstream, args.route)  # exits 2 on a bad --upstream or --route
    args.deny = parse_denials(args.deny)
    if not 0 <= args.fault_rate <= 1:
        bad_usage("--fault-rate must be between 0 and 1")
    kinds = [k.strip() for k in args.faults.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        bad_usage(f"--faults takes {','.join(KINDS)}; got {args.faults!r}")
    args.faults = kinds
    try:
        asyncio.run(serve(args, listen_port))
    except OSError as err:
        print(f"error: cannot listen on {args.listen}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
