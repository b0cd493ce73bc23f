"""Shared fixtures: real services, started on loopback for the session and torn down after."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed: run .ci/system-deps.sh (make test does)")
    return found[-1]


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust auth), as ``postgresql://...`` URL."""
    root = os.geteuid() == 0
    data = tempfile.mkdtemp(prefix="thresher-pg-")
    as_postgres = ["runuser", "-u", "postgres", "--"] if root else []
    if root:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run([*as_postgres, _pg_bin("initdb"), "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"],
                   check=True, capture_output=True)
    subprocess.run([*as_postgres, _pg_bin("pg_ctl"), "-D", data, "-w", "-l", os.path.join(data, "log"), "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start"],
                   check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, _pg_bin("pg_ctl"), "-D", data, "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(data, ignore_errors=True)
