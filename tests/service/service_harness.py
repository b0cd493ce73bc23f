"""Helpers for the service tests: the real CLI in a subprocess on 127.0.0.1 and a free port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


POLICY_V1 = """\
name: credit
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
  - name: region-7
    match: {region: 7}
    tiers: [{action: block, threshold: 0.4}]
    otherwise: review
  - name: south-east
    match: {region: [south, east]}
    tiers: [{action: block, threshold: 0.55}]
  - name: default
    match: {}
    tiers: [{action: block, threshold: 0.5}, {action: review, threshold: 0.2}]
"""


def policy_text(version: int = 1, shift: float = 0.0) -> str:
    """POLICY_V1 at another version, every threshold moved by ``shift``."""
    text = POLICY_V1.replace("version: 1", f"version: {version}")
    if shift:
        import yaml

        doc = yaml.safe_load(text)
        for rule in doc["rules"]:
            for tier in rule["tiers"]:
                tier["threshold"] = round(tier["threshold"] + shift, 6)
        text = yaml.safe_dump(doc, sort_keys=False)
    return text


class Server:
    """``thresher serve`` in a subprocess; ``stop()`` sends SIGTERM, ``kill()`` SIGKILL."""

    def __init__(self, policy_path, audit_url: str, *args: str, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.audit_url = audit_url
        self.policy_path = policy_path
        self._log = tempfile.TemporaryFile("w+")  # not a pipe: a chatty server must never block on it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "thresher.cli.main", "serve", str(policy_path), "--port", str(self.port),
             "--audit", audit_url, "--reload-interval", "0.1", "--log-level", "warning", *args],
            env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=self._log)
        self.client = httpx.Client(base_url=self.url, timeout=30)
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"thresher serve exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if self.client.get("/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.time() > deadline:
                self.kill()
                raise AssertionError("thresher serve was not ready within 60 s")
            time.sleep(0.05)

    def decide(self, body):
        return self.client.post("/v1/decide", content=body if isinstance(body, (bytes, str)) else json.dumps(body))

    def policy(self) -> dict:
        return self.client.get("/v1/policy").json()

    def metrics(self) -> str:
        return self.client.get("/metrics").text

    def stop(self) -> str:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.log()

    def log(self) -> str:
        self._log.seek(0)
        return self._log.read()

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.client.close()


def cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "thresher.cli.main", *args], capture_output=True, text=True,
                          timeout=timeout)
