"""The active policy and how it changes: ``PUT /v1/policy`` or a new file on disk.

Both paths validate the new policy completely (schema, then the audit log's check that its version
number is not already taken by other rules) before one attribute assignment makes it current. A
request reads that attribute once, so it sees one version from start to end. A rejected policy
leaves the old one serving and the reason in ``GET /v1/policy`` (``last_reload_error``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from pathlib import Path

import yaml

from thresher.errors import PolicyError
from thresher.policy.lint import lint
from thresher.policy.policy import Policy
from thresher.service.decide import Decider, policy_digest, policy_entry, utc_now

log = logging.getLogger("thresher.service")


def _stat(path: Path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class ActivePolicy:
    def __init__(self, path, *, max_batch: int, metrics):
        self.path = Path(path)
        self.max_batch = max_batch
        self.metrics = metrics
        self._stat = _stat(self.path)
        self.current = Decider(Policy.load(self.path), source=f"file {self.path}", max_batch=max_batch)
        self.last_reload_error: dict | None = None
        self._lock = asyncio.Lock()

    async def _activate(self, policy: Policy, source: str, writer, *, persist: bool = False) -> Decider:
        decider = Decider(policy, source=source, max_batch=self.max_batch)
        entry = policy_entry(decider)
        await writer.call(lambda store: store.register_policy(entry))
        if persist:  # before the swap: a policy that cannot be saved is not served either
            await asyncio.to_thread(policy.save, self.path)
            self._stat = _stat(self.path)
        previous, self.current = self.current, decider  # the atomic swap
        self.last_reload_error = None
        log.warning("policy %s v%s -> %s v%s (%s)", previous.name, previous.version, decider.name, decider.version,
                    source)
        return decider

    async def check_file(self, writer) -> None:
        """Reload when the file changed on disk (mtime, size or inode); keep serving on a bad file."""
        stat = _stat(self.path)
        if stat == self._stat or stat is None:
            return
        async with self._lock:
            self._stat = stat
            try:
                policy = Policy.load(self.path)
                if policy_digest(policy) == self.current.digest:
                    return
                await self._activate(policy, f"file {self.path}", writer)
                self.metrics.reloaded("file", "ok")
            except PolicyError as exc:
                self.last_reload_error = {"source": f"file {self.path}", "at": utc_now(), "detail": str(exc)}
                self.metrics.reloaded("file", "rejected")
                log.error("policy file %s rejected, still serving %s v%s: %s", self.path, self.current.name,
                          self.current.version, exc)
            except Exception as exc:  # the audit log is down: keep the old policy, try again next poll
                self._stat = None
                self.last_reload_error = {"source": f"file {self.path}", "at": utc_now(), "detail": str(exc)}
                self.metrics.reloaded("file", "error")
                log.error("policy reload from %s failed: %s", self.path, exc)

    async def put(self, body: bytes, content_type: str, writer) -> dict:
        """Validate and activate a policy sent over HTTP, then write it to the policy file (atomically)
        so that other workers and a restart serve it too. Raises :class:`PolicyError`."""
        source = "in the PUT /v1/policy body"
        try:
            data = yaml.safe_load(body) if "yaml" in content_type else json.loads(body)
        except (yaml.YAMLError, ValueError) as exc:
            fmt = "YAML" if "yaml" in content_type else "JSON"
            raise PolicyError(f"Invalid policy {source}: not valid {fmt} ({exc}). Send the policy as JSON, or as "
                              "YAML with Content-Type: application/yaml.") from None
        policy = Policy.from_dict(data, source)
        async with self._lock:
            previous = self.current
            decider = await self._activate(policy, "PUT /v1/policy", writer, persist=True)
            self.metrics.reloaded("api", "ok")
        return {"status": "active", "name": decider.name, "version": decider.version, "sha256": decider.digest,
                "previous": {"name": previous.name, "version": previous.version},
                "warnings": [str(f) for f in lint(policy) if f.level == "warning"]}

    def rejected(self, source: str, exc: Exception) -> None:
        self.last_reload_error = {"source": source, "at": utc_now(), "detail": str(exc)}
        self.metrics.reloaded("api", "rejected")
