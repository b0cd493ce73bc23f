"""Benchmark the decision service end to end on loopback, against a bare FastAPI endpoint.

What it measures
----------------
Four servers run side by side with the same uvicorn settings (``--workers``, default 1; httptools,
uvloop, no access log), each in its own process:
  bare              a FastAPI ``POST /v1/decide`` that reads the body and returns a constant: the
                    baseline of the targets (p50 within 1.5x of it);
  bare ASGI         the same without a framework (a plain ASGI callable): for the record, because
                    thresher's decide endpoint is itself plain ASGI, ahead of FastAPI's middleware;
  thresher FULL     ``thresher serve policy.yaml --audit sqlite:///...``: parse, validate, decide, write
                    every decision to the SQLite audit log and only then answer. The default,
                    ``synchronous=FULL``: every commit is fsynced, so an answered decision survives a
                    power cut; the commit waits for the disk (the fsync floor below);
  thresher NORMAL   the same with ``?synchronous=normal``: no fsync per commit, so an answered decision
                    survives a crash or SIGKILL of the server but not of the machine; a small request
                    commits on the event loop itself.
Scenarios (closed loop: every connection sends its next request when the last one is answered):
  single c=1   one connection, one case per request: the latency of one decision;
  single c=8   eight connections, one case per request: throughput of single decisions;
  batch c=4    four connections, 10,000 cases per request (the same body each time): decisions/s.
Each scenario runs ``--rounds`` rounds; in each round every server gets ``--duration`` seconds, the
first to go rotating from round to round. The figures are medians over the rounds and each ratio
is the median of the rounds' ratios (thresher against the bare endpoint measured right beside it),
which keeps the drifting load of a shared machine out of the ratios. Before the servers start, a
4 KiB write + fsync loop in the same folder measures the disk's fsync floor, which bounds the FULL
latency from below. At the end the servers are stopped and both audit logs are counted: each must
hold every decision its server answered 200.

The load generator is ``wrk`` (C, epoll; installed with apt-get when missing and running as root),
so the client is not the bottleneck; ``--client httpx`` uses httpx with keep-alive in threads
instead. The machine may be small and shared: read the ratios, and the absolute figures with care.

Run:  .venv/bin/python benchmarks/bench_service.py [--rounds 3] [--duration 3] [--workers 1] [--only batch]
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
FULL, NORMAL = "thresher FULL", "thresher NORMAL"  # SQLite synchronous=full (the default) / normal
BARE_ASGI = "bare ASGI"

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


def bare_asgi_app():
    """The floor (a uvicorn factory): a plain ASGI callable that reads the body and returns a constant,
    no framework at all. thresher's decide endpoint is itself a plain ASGI endpoint, so this shows
    what thresher's work costs on top of the cheapest possible answer."""
    answers = {}
    for path, body in (("/v1/decide", b'{"action":"allow"}'), ("/healthz", b'{"status":"ok"}')):
        answers[path] = (body, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())])

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        more = scope["method"] == "POST"
        while more:
            more = (await receive()).get("more_body", False)
        body, headers = answers.get(scope["path"], answers["/healthz"])
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

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


def fsync_floor(folder: Path, n: int = 300) -> dict:
    """What one durable commit costs on this disk at the least: a 4 KiB write and fsync, median and p99
    in ms, overwriting a block in place (as a reused WAL is written) and appending (as a growing one)."""
    path = folder / "fsync-probe.bin"
    block = os.urandom(4096)
    out = {}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for mode in ("overwrite", "append"):
            os.ftruncate(fd, 4096)
            os.fsync(fd)
            times = []
            for i in range(n):
                start = time.perf_counter()
                os.pwrite(fd, block, 0 if mode == "overwrite" else 4096 * (i + 1))
                os.fsync(fd)
                times.append(time.perf_counter() - start)
            q = statistics.quantiles(times, n=100, method="inclusive")
            out[mode] = {"p50_ms": q[49] * 1e3, "p99_ms": q[98] * 1e3}
    finally:
        os.close(fd)
        path.unlink()
    return out


def median_result(runs: list[dict], per_request: int) -> dict:
    """The median of each figure over the rounds (each round's own figures are kept beside it)."""
    out = {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms")}
    out["decisions_per_s"] = out["rps"] * per_request
    out["requests"] = sum(r["requests"] for r in runs)
    out["errors"] = sum(r["errors"] for r in runs)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=3, help="seconds per round, scenario and server (default 3)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per scenario, the servers taking turns in a rotating order; figures are "
                             "medians over the rounds, ratios medians of each round's ratio (default 3)")
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
    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="thresher-bench-"))
    floor = fsync_floor(tmp)
    print(f"fsync floor of {tmp.parent} (4 KiB write + fsync, median / p99): overwrite "
          f"{floor['overwrite']['p50_ms']:.3f} / {floor['overwrite']['p99_ms']:.3f} ms, append "
          f"{floor['append']['p50_ms']:.3f} / {floor['append']['p99_ms']:.3f} ms", file=sys.stderr)
    (tmp / "policy.yaml").write_text(POLICY)
    rng = random.Random(7)
    body = batch_body(args.batch_size, rng)
    (tmp / "batch.json").write_bytes(body)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    logs = {FULL: tmp / "audit-full.db", NORMAL: tmp / "audit-normal.db"}
    servers = {"bare": "bare_app", BARE_ASGI: "bare_asgi_app", FULL: f"sqlite:///{logs[FULL]}",
               NORMAL: f"sqlite:///{logs[NORMAL]}?synchronous=normal"}
    ports = {name: free_port() for name in servers}
    procs = {}
    for name, audit_url in servers.items():
        if not audit_url.startswith("sqlite"):
            command = [sys.executable, "-m", "uvicorn", "--factory", "--app-dir", str(Path(__file__).parent),
                       f"bench_service:{audit_url}", "--host", "127.0.0.1", "--port", str(ports[name]), "--workers",
                       str(args.workers), "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level",
                       "warning"]
        else:
            command = [sys.executable, "-m", "thresher.cli.main", "serve", str(tmp / "policy.yaml"), "--port",
                       str(ports[name]), "--audit", audit_url, "--max-batch", str(args.batch_size), "--workers",
                       str(args.workers), "--log-level", "warning"]
        procs[name] = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    rounds: dict = {}
    answered, transactions = {}, {}
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
        names = list(servers)
        for label, connections, per_request, lua, bodies in scenarios:
            for name in names:  # warm up: the first requests load the JIT cache and open the connections
                run_httpx(f"http://127.0.0.1:{ports[name]}/v1/decide", bodies, 1, 0.5)
            for k in range(args.rounds):
                for name in names[k % len(names):] + names[:k % len(names)]:  # each server goes first in turn
                    url = f"http://127.0.0.1:{ports[name]}/v1/decide"
                    r = (run_wrk(wrk, url, lua, connections, args.duration, tmp) if wrk
                         else run_httpx(url, bodies, connections, args.duration))
                    r["decisions_per_s"] = r["rps"] * per_request
                    r["load_average_1min"] = os.getloadavg()[0]
                    rounds.setdefault(label, {}).setdefault(name, []).append(r)
                    print(f"{label:<18} round {k + 1} {name:<16} {r['rps']:>8,.0f} req/s {r['decisions_per_s']:>10,.0f} "
                          f"decisions/s  p50 {r['p50_ms']:7.3f} ms  p99 {r['p99_ms']:7.2f} ms  errors {r['errors']}  "
                          f"load {r['load_average_1min']:.1f}", file=sys.stderr)
        for name in (FULL, NORMAL):
            metrics = httpx.get(f"http://127.0.0.1:{ports[name]}/metrics").text.splitlines()
            answered[name] = sum(int(float(line.rsplit(" ", 1)[1])) for line in metrics
                                 if line.startswith("thresher_decisions_total{"))
            transactions[name] = next(int(float(line.split()[1])) for line in metrics
                                      if line.startswith("thresher_audit_transactions_total"))
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
    logged = {name: sqlite3.connect(path).execute("SELECT count(*) FROM thresher_decisions").fetchone()[0]
              for name, path in logs.items()}
    shutil.rmtree(tmp, ignore_errors=True)
    load_end = os.getloadavg()[0]

    results, ratios = {}, {}
    for label, by_server in rounds.items():
        per_request = args.batch_size if label.startswith("batch") else 1
        results[label] = {name: median_result(runs, per_request) for name, runs in by_server.items()}
        bare = by_server["bare"]
        ratios[label] = {name: {key: statistics.median(r[key] / b[key] for r, b in zip(runs, bare))
                                for key in ("p50_ms", "p99_ms", "rps")}
                         for name, runs in by_server.items() if name != "bare"}
        if BARE_ASGI in by_server:  # thresher against the framework-free floor, for the record
            for name in (FULL, NORMAL):
                ratios[label][name]["p50_vs_bare_asgi"] = statistics.median(
                    r["p50_ms"] / b["p50_ms"] for r, b in zip(by_server[name], by_server[BARE_ASGI]))
    loads = [r["load_average_1min"] for by_server in rounds.values() for runs in by_server.values() for r in runs]

    print()
    print(f"Medians of {args.rounds} rounds of {args.duration} s; ratios are the median of each round's ratio.")
    print("| scenario | server | requests/s | decisions/s | p50 ms | p99 ms | p50 vs bare | p99 vs bare | "
          "throughput vs bare |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, by_server in results.items():
        for name, r in by_server.items():
            q = ratios[label].get(name)
            shown = f"{q['p50_ms']:.2f}x | {q['p99_ms']:.2f}x | {q['rps']:.2f}x" if q else " |  | "
            print(f"| {label} | {name} | {r['rps']:,.0f} | {r['decisions_per_s']:,.0f} | {r['p50_ms']:.3f} | "
                  f"{r['p99_ms']:.2f} | {shown} |")
    print()
    for label in ("single c=1", "single c=8"):
        for name in (FULL, NORMAL):
            if label in ratios:
                ratio = ratios[label][name]["p50_ms"]
                print(f"{label}: p50 latency {name} / bare: {ratio:.2f}x (target <= 1.5x): "
                      f"{'met' if ratio <= 1.5 else 'MISSED'}; / {BARE_ASGI}: "
                      f"{ratios[label][name]['p50_vs_bare_asgi']:.2f}x")
    batch = next((v for k, v in results.items() if k.startswith("batch")), None)
    if batch:
        for name in (FULL, NORMAL):
            rate = batch[name]["decisions_per_s"]
            print(f"batch decisions per second end to end, {name}: {rate:,.0f} (target >= 200,000): "
                  f"{'met' if rate >= 200_000 else 'MISSED'}")
    complete = all(logged[name] >= answered[name] for name in logged)
    for name, count in logged.items():
        print(f"audit log {name}: {count:,} decisions logged, {answered[name]:,} answered 200 "
              f"({transactions[name]:,} commits)")
    print("every answered decision is logged" if complete else "DECISIONS MISSING FROM THE AUDIT LOG")
    print(f"fsync floor: {floor['overwrite']['p50_ms']:.3f} ms median (4 KiB overwrite + fsync; appending "
          f"{floor['append']['p50_ms']:.3f} ms)")
    print(f"client {client}, {args.workers} worker(s) per server, {os.cpu_count()} CPUs, 1-minute load average "
          f"{load_start:.1f} at the start, {statistics.median(loads):.1f} median over the rounds "
          f"({min(loads):.1f}-{max(loads):.1f}), {load_end:.1f} at the end (other processes included), "
          f"{platform.python_implementation()} {platform.python_version()}")
    python = Path(sys.executable)
    shown = os.path.relpath(python, ROOT) if python.is_relative_to(ROOT) else str(python)
    document = {"command": " ".join([shown, *sys.argv]), "client": client, "workers": args.workers,
                "cpus": os.cpu_count(), "duration_s": args.duration, "rounds": args.rounds,
                "load_average_1min": {"start": load_start, "median": statistics.median(loads), "min": min(loads),
                                      "max": max(loads), "end": load_end},
                "fsync_floor_ms": floor, "results": results, "ratios_vs_bare": ratios, "rounds_detail": rounds,
                "audit_logged": logged, "answered": answered, "audit_transactions": transactions}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
