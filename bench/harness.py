"""Shared helpers for benchmarks that print figures (never tests: nothing here asserts a time).

- `free_port()`, `running(...)`: start a server process on a free 127.0.0.1 port, wait until it
  answers, and stop it (and everything it spawned) on exit, error or Ctrl-C.
- `fetch(...)`: one raw GET on 127.0.0.1 that does not follow redirects.
- `run_wrk(...)`: load a URL with Debian's wrk (`--latency`) and parse requests/s, p50, p99,
  plus exact counts (requests, bytes, errors) from a Lua `done` hook.
- `nginx_serving(...)`: nginx in the foreground with a temporary prefix, serving one file.
- `print_table(...)`: fixed-width rows.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"


class BenchError(RuntimeError):
    """A benchmark step could not run; the message says what to do."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def require_tool(executable: str, debian_package: str) -> str:
    """The tool's path, installing the Debian package first when missing and we can."""
    found = shutil.which(executable) or shutil.which(executable, path="/usr/sbin:/usr/bin")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"Installing {debian_package} (apt-get) ...", flush=True)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", debian_package],
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        found = shutil.which(executable) or shutil.which(executable, path="/usr/sbin:/usr/bin")
    if not found:
        raise BenchError(f"{executable} is missing: run `apt-get install -y {debian_package}`.")
    return found


def stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so `with` blocks stop the servers, as on Ctrl-C."""

    def leave(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, leave)


@dataclass(frozen=True)
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def fetch(port: int, path: str, *, timeout: float = 10.0) -> Response:
    """One GET on 127.0.0.1 without cookies and without following redirects."""
    connection = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        return Response(answer.status, answer.getheaders(), answer.read())
    finally:
        connection.close()


class Server:
    """A process started in its own session, so stopping it reaches every child it spawned."""

    def __init__(self, name: str, process: subprocess.Popen[bytes], port: int, log: Path):
        self.name = name
        self.process = process
        self.port = port
        self.log = log

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_until_answers(self, path: str, timeout: float) -> Response:
        """Poll `path` until any HTTP response arrives; fail fast if the process died."""
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with code {self.process.returncode} before answering."
                    f"\n--- its log ---\n{self.log_tail()}"
                )
            try:
                return fetch(self.port, path, timeout=5)
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError(
                        f"{self.name} did not answer on {self.base_url}{path} within "
                        f"{timeout:.0f} s.\n--- its log ---\n{self.log_tail()}"
                    ) from None
                time.sleep(0.2)

    def stop(self, grace: float = 15.0) -> None:
        """Graceful stop (SIGTERM to its process group), then SIGKILL after `grace` seconds."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=5)


@contextlib.contextmanager
def running(
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    ready_path: str = "/",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    log_dir: Path,
    timeout: float = 60.0,
) -> Iterator[Server]:
    """Start `argv` (listening on 127.0.0.1:`port`), wait until it answers, stop it after."""
    log = log_dir / f"{re.sub(r'[^a-z0-9]+', '-', name.lower())}.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(name, process, port, log)
    try:
        server.wait_until_answers(ready_path, timeout)
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class LoadResult:
    """One wrk run. Latencies in milliseconds."""

    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    bytes_read: int
    # wrk counts responses with a status above 399 here (it has no 3xx counter).
    error_statuses: int
    socket_errors: dict[str, int]

    @property
    def bytes_per_response(self) -> float:
        return self.bytes_read / self.requests if self.requests else 0.0


# Exact totals from wrk's `done` hook; the text report rounds bytes to two decimals.
WRK_DONE_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_TOTALS {"requests": %.0f, "bytes": %.0f, "connect": %.0f, "read": %.0f, ' ..
    '"write": %.0f, "status": %.0f, "timeout": %.0f}\\n',
    summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_PERCENTILE = re.compile(
    r"^\s*(?P<pct>\d+(?:\.\d+)?)%\s+(?P<value>[\d.]+)(?P<unit>us|ms|s|m|h)\s*$"
)
_REQUESTS_PER_SEC = re.compile(r"^Requests/sec:\s+(?P<value>[\d.]+)\s*$")


def parse_wrk_output(text: str) -> LoadResult:
    """Parse `wrk --latency` output that ends with the WRK_TOTALS line of WRK_DONE_SCRIPT."""
    percentiles: dict[str, float] = {}
    requests_per_second: float | None = None
    totals: dict[str, int] | None = None
    for line in text.splitlines():
        if match := _PERCENTILE.match(line):
            value = float(match["value"]) * _TIME_UNITS_MS[match["unit"]]
            percentiles[match["pct"]] = value
        elif match := _REQUESTS_PER_SEC.match(line):
            requests_per_second = float(match["value"])
        elif line.startswith("WRK_TOTALS "):
            totals = {k: int(v) for k, v in json.loads(line.removeprefix("WRK_TOTALS ")).items()}
    if requests_per_second is None or totals is None or not {"50", "99"} <= percentiles.keys():
        raise BenchError(f"Could not read wrk's report:\n{text}")
    return LoadResult(
        requests_per_second=requests_per_second,
        p50_ms=percentiles["50"],
        p99_ms=percentiles["99"],
        requests=totals["requests"],
        bytes_read=totals["bytes"],
        error_statuses=totals["status"],
        socket_errors={k: totals[k] for k in ("connect", "read", "write", "timeout")},
    )


def run_wrk(
    url: str, *, duration: int, connections: int, threads: int, work_dir: Path
) -> LoadResult:
    if not url.startswith(f"http://{LOOPBACK}:"):
        raise BenchError(f"Refusing to load {url}: benchmarks stay on {LOOPBACK}.")
    wrk = require_tool("wrk", "wrk")
    script = work_dir / "wrk_totals.lua"
    script.write_text(WRK_DONE_SCRIPT)
    argv = [
        wrk,
        "--latency",
        f"--threads={min(threads, connections)}",
        f"--connections={connections}",
        f"--duration={duration}s",
        "--timeout=10s",
        f"--script={script}",
        url,
    ]
    finished = subprocess.run(argv, capture_output=True, text=True, check=False)
    if finished.returncode != 0:
        raise BenchError(f"wrk failed ({finished.returncode}): {finished.stderr.strip()}")
    return parse_wrk_output(finished.stdout)


NGINX_CONFIG = """\
worker_processes {workers};
daemon off;
master_process on;
pid {prefix}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/tmp/body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=16 inactive=60s;
    types {{ }}
    default_type "{content_type}";
    server {{
        listen {host}:{port};
        root {prefix}/www;
        location / {{ try_files /page =404; }}
    }}
}}
"""


@contextlib.contextmanager
def nginx_serving(
    page: bytes,
    *,
    content_type: str,
    workers: int,
    log_dir: Path,
    ready_path: str = "/",
) -> Iterator[Server]:
    """nginx (foreground, temporary prefix) answering every path with `page`."""
    nginx = require_tool("nginx", "nginx-light")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="bench-nginx-") as prefix_name:
        prefix = Path(prefix_name)
        (prefix / "www").mkdir()
        (prefix / "tmp").mkdir()
        (prefix / "www" / "page").write_bytes(page)
        # Workers may run as an unprivileged user (when started as root): let them read.
        for path in (prefix, prefix / "www"):
            path.chmod(0o755)
        (prefix / "www" / "page").chmod(0o644)
        config = prefix / "nginx.conf"
        config.write_text(
            NGINX_CONFIG.format(
                workers=workers,
                prefix=prefix,
                host=LOOPBACK,
                port=port,
                content_type=content_type.replace('"', ""),
            )
        )
        argv = [nginx, "-p", str(prefix), "-e", "stderr", "-c", str(config)]
        with running(
            "nginx", argv, port=port, ready_path=ready_path, log_dir=log_dir, timeout=15
        ) as server:
            yield server


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    line = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    print(line.format(*headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    sys.stdout.flush()
