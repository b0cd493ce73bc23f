"""Benchmark the decision service end to end on loopback, against a bare FastAPI endpoint.

What it measures
----------------
Two servers run side by side with the same uvicorn settings (``--workers``, default 1; httptools,
uvloop, no access log), each in its own process:
  thresher   ``thresher serve policy.yaml --audit sqlite:///...`` : parse, validate, decide, write
             every decision to the SQLite audit log (WAL, synchronous=FULL: fsync per group commit)
             and only then answer;
  bare       a FastAPI ``POST /v1/decide`` that reads the body and returns a constant;
  thresher sync=normal   (single-case scenarios only) the same with ``?synchronous=normal``: no fsync
             per commit (safe from a crash of the server, not of the machine), to show what the
             fsync costs.
Scenarios (each a few seconds, closed loop: every connection sends its next request when the last
one is answered):
  single c=1   one connection, one case per request: the latency of one decision;
  single c=8   eight connections, one case per request: throughput of single decisions;
  batch c=4    four connections, 10,000 cases per request: decisions per second.
For each: requests/s, decisions/s, p50 and p99 latency, and thresher / bare ratios. At the end the
thresher server is stopped and its audit log is counted: it must hold every decision answered 200.

The load generator is ``wrk`` (C, epoll; installed with apt-get when missing and running as root),
so the client is not the bottleneck; ``--client httpx`` uses httpx with keep-alive in threads
instead. The machine may be small and shared: read the ratios, and the absolute figures with care.

Run:  .venv/bin/python benchmarks/bench_service.py [--duration 4] [--workers 1] [--client wrk|httpx] [--only batch]
Writes benchmarks/results/bench_service.json.
"""


import argparse
import json
import os
import platform
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "bench_service.json"
NOFSYNC = "thresher sync=normal"

POLICY = """\
name: bench
version: 1
score: score
segments: [student, region]
actions: [block, review, allow]
rules:
  - name: student-north
    match: {student: "yes", region: north}
    tiers: [{action: block, threshold: 0.7}, {action: review, threshold: 0.3}]
  - name: student
    match: {student: "yes"}
    tiers: [{action: block, threshold: 0.6}, {action: review, threshold: 0.25}]
  - name: south
    match: {region: [south, east]}
    tiers: [{action: block, threshold: 0.55}]
  - name: default
    match: {}
    tiers: [{action: block, threshold: 0.5}, {action: review, threshold: 0.2}]
"""

SINGLE_LUA = """\
local n = 0
local students = {"yes", "no"}
local regions = {"north", "south", "east", "west"}
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  n = n + 1
  local body = string.format('{"id":"c-%d","score":%.6f,"student":"%s","region":"%s"}', n, math.random(),
                             students[n % 2 + 1], regions[n % 4 + 1])
  return wrk.format(nil, nil, nil, body)
end
"""

BATCH_LUA = """\
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open("{path}", "rb")
wrk.body = f:read("*a")
f:close()
"""

REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "errors": %d, '
    .. '"p50_us": %d, "p99_us": %d, "mean_us": %.1f}\\n', summary.requests, summary.duration, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""


def bare_app():
    """The baseline (a uvicorn factory): same framework, no decision and no audit."""
    from fastapi import FastAPI, Request
    from fastapi.responses import Response

    app = FastAPI()
    constant = b'{"action":"allow"}'

    @app.post("/v1/decide")
    async def decide(request: Request):
        await request.body()
        return Response(constant, media_type="application/json")

    @app.get("/healthz")
    async def healthz():
        return Response(b'{"status":"ok"}', media_type="application/json")

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server at {url} not ready after {seconds}s")


def ensure_wrk() -> str | None:
    if shutil.which("wrk"):
        return shutil.which("wrk")
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (apt-get install wrk) ...", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True).returncode:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], env=env, capture_output=True)
    return shutil.which("wrk")


def run_wrk(wrk: str, url: str, script: str, connections: int, duration: float, tmp: Path) -> dict:
    lua = tmp / f"s{random.randrange(1 << 30)}.lua"
    lua.write_text(script + REPORT_LUA)
    proc = subprocess.run([wrk, "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "10s",
                           "-s", str(lua), url], capture_output=True, text=True)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {proc.stdout}\n{proc.stderr}")
    r = json.loads(line[len("RESULT "):])
    seconds = r["duration_us"] / 1e6
    return {"requests": r["requests"], "ok": r["requests"] - r["non2xx"], "errors": r["errors"] + r["non2xx"],
            "rps": r["requests"] / seconds, "p50_ms": r["p50_us"] / 1e3, "p99_ms": r["p99_us"] / 1e3}


def run_httpx(url: str, bodies, connections: int, duration: float) -> dict:
    latencies, errors, lock = [], [0], threading.Lock()
    stop = time.perf_counter() + duration

    def worker(k: int) -> None:
        mine, bad = [], 0
        with httpx.Client(timeout=30, headers={"content-type": "application/json"}) as client:
            i = k
            while time.perf_counter() < stop:
                t = time.perf_counter()
                status = client.post(url, content=bodies(i)).status_code
                mine.append(time.perf_counter() - t)
                bad += status != 200
                i += connections
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"requests": len(latencies), "ok": len(latencies) - errors[0], "errors": errors[0],
            "rps": len(latencies) / seconds, "p50_ms": q[49] * 1e3, "p99_ms": q[98] * 1e3}


def batch_body(n: int, rng: random.Random) -> bytes:
    cases = [{"id": f"b-{i}", "score": round(rng.random(), 6), "student": rng.choice(["yes", "no"]),
              "region": rng.choice(["north", "south", "east", "west"])} for i in range(n)]
    return json.dumps({"cases": cases}).encode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=4, help="seconds per scenario and server")
    parser.add_argument("--batch-size", type=int, default=10_000)
    parser.add_argument("--client", choices=["wrk", "httpx"], default="wrk")
    parser.add_argument("--only", choices=["single", "batch"], help="run only these scenarios")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers of both servers (default 1)")
    parser.add_argument("--json", default=str(RESULTS))
    args = parser.parse_args()

    wrk = ensure_wrk() if args.client == "wrk" else None
    client = "wrk" if wrk else "httpx"
    if args.client == "wrk" and not wrk:
        print("wrk is not available; using httpx threads", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="thresher-bench-"))
    (tmp / "policy.yaml").write_text(POLICY)
    rng = random.Random(7)
    body = batch_body(args.batch_size, rng)
    (tmp / "batch.json").write_bytes(body)
    audit = tmp / "audit.db"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    nofsync = tmp / "audit-nofsync.db"
    servers = {"bare": None, "thresher": f"sqlite:///{audit}", NOFSYNC: f"sqlite:///{nofsync}?synchronous=normal"}
    ports = {name: free_port() for name in servers}
    procs = {}
    for name, audit_url in servers.items():
        if audit_url is None:
            command = [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(Path(__file__).parent),
                       "bench_service:bare_app", "--host", "127.0.0.1", "--port", str(ports[name]), "--workers",
                       str(args.workers), "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level",
                       "warning"]
        else:
            command = [sys.executable, "-m", "thresher.cli.main", "serve", str(tmp / "policy.yaml"), "--port",
                       str(ports[name]), "--audit", audit_url, "--max-batch", str(args.batch_size), "--workers",
                       str(args.workers), "--log-level", "warning"]
        procs[name] = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    results: dict = {}
    answered = 0
    try:
        for name, proc in procs.items():
            wait_ready(f"http://127.0.0.1:{ports[name]}/healthz", proc)

        def single(i: int) -> bytes:
            return json.dumps({"id": f"c-{i}", "score": rng.random(), "student": ("yes", "no")[i % 2],
                               "region": ("north", "south", "east", "west")[i % 4]}).encode()

        scenarios = [("single c=1", 1, 1, SINGLE_LUA, single), ("single c=8", 8, 1, SINGLE_LUA, single),
                     (f"batch {args.batch_size:,} c=4", 4, args.batch_size,
                      BATCH_LUA.replace("{path}", str(tmp / "batch.json")), lambda i: body)]
        scenarios = [s for s in scenarios if not args.only or s[0].startswith(args.only)]
        for label, connections, per_request, lua, bodies in scenarios:
            for name in ("bare", "thresher", NOFSYNC) if label.startswith("single") else ("bare", "thresher"):
                url = f"http://127.0.0.1:{ports[name]}/v1/decide"
                # warm up: first requests load the JIT cache and open the connections
                run_httpx(url, bodies, 1, 0.5)
                r = (run_wrk(wrk, url, lua, connections, args.duration, tmp) if wrk
                     else run_httpx(url, bodies, connections, args.duration))
                r["decisions_per_s"] = r["rps"] * per_request
                results.setdefault(label, {})[name] = r
                print(f"{label:<18} {name:<20} {r['rps']:>9,.0f} req/s {r['decisions_per_s']:>11,.0f} decisions/s "
                      f"p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}", file=sys.stderr)
        metrics = httpx.get(f"http://127.0.0.1:{ports['thresher']}/metrics").text
        answered = sum(int(float(line.rsplit(" ", 1)[1])) for line in metrics.splitlines()
                       if line.startswith("thresher_decisions_total{"))
        transactions = next(int(float(line.split()[1])) for line in metrics.splitlines()
                            if line.startswith("thresher_audit_transactions_total"))
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    logged = sqlite3.connect(audit).execute("SELECT count(*) FROM thresher_decisions").fetchone()[0]
    audit_bytes = sum(p.stat().st_size for p in tmp.glob("audit.db*"))  # the fsynced log only
    shutil.rmtree(tmp, ignore_errors=True)

    print()
    header = ("| scenario | server | requests/s | decisions/s | p50 ms | p99 ms | thresher/bare p50 | "
              "thresher/bare p99 | thresher/bare throughput |")
    print(header)
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, by_server in results.items():
        b = by_server["bare"]
        for name, r in by_server.items():
            ratios = (f"{r['p50_ms'] / b['p50_ms']:.2f}x | {r['p99_ms'] / b['p99_ms']:.2f}x | "
                      f"{r['rps'] / b['rps']:.2f}x") if name != "bare" else " |  | "
            print(f"| {label} | {name} | {r['rps']:,.0f} | {r['decisions_per_s']:,.0f} | {r['p50_ms']:.2f} | "
                  f"{r['p99_ms']:.2f} | {ratios} |")
    print()
    latency_ratio = rate = None
    for label in ("single c=1", "single c=8"):
        if label in results:
            ratio = results[label]["thresher"]["p50_ms"] / results[label]["bare"]["p50_ms"]
            latency_ratio = latency_ratio or ratio
            print(f"{label}: p50 latency thresher with SQLite audit / bare: {ratio:.2f}x (target <= 1.5x): "
                  f"{'met' if ratio <= 1.5 else 'MISSED'}")
    batch = next((v for k, v in results.items() if k.startswith("batch")), None)
    if batch:
        rate = batch["thresher"]["decisions_per_s"]
        print(f"batch decisions per second end to end: {rate:,.0f} (target >= 200,000): "
              f"{'met' if rate >= 200_000 else 'MISSED'}")
    print(f"audit log: {logged:,} decisions logged, {answered:,} answered 200 ({transactions:,} group commits, "
          f"{audit_bytes / 2**20:,.0f} MiB): "
          f"{'every answered decision is logged' if logged >= answered else 'DECISIONS MISSING'}")
    load = os.getloadavg()[0]
    print(f"client {client}, {args.workers} worker(s) per server, {os.cpu_count()} CPUs, 1-minute load average "
          f"{load:.1f} at the end (other processes included), {platform.python_implementation()} "
          f"{platform.python_version()}")
    document = {"client": client, "workers": args.workers, "cpus": os.cpu_count(), "load_average_1min": load,
                "duration_s": args.duration, "results": results, "single_latency_ratio": latency_ratio,
                "batch_decisions_per_s": rate,
                "audit_logged": logged, "answered": answered, "audit_transactions": transactions}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
    return 0 if logged >= answered else 1


if __name__ == "__main__":
    sys.exit(main())
