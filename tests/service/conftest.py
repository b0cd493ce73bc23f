"""Fixtures: the decision service started by the real CLI (see service_harness.py)."""

from __future__ import annotations

import pytest
from service_harness import POLICY_V1, Server


@pytest.fixture
def serve():
    """``serve(policy_path, audit_url, *args, env=...)`` -> a ready :class:`Server`, stopped after the test."""
    started = []

    def start(*args, **kwargs) -> Server:
        server = Server(*args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def policy_path(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY_V1)
    return path
