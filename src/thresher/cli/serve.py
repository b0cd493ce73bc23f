"""``thresher serve POLICY``: the decision service under uvicorn (needs the ``serve`` extra)."""

from __future__ import annotations

import json
import os

from thresher.cli.output import err_console
from thresher.errors import ParameterError, require


def add_parser(sub) -> None:
    s = sub.add_parser("serve", help="serve a policy over HTTP, every decision in an audit log first")
    s.add_argument("policy", help="policy file (.yaml or .json); reloaded when it changes")
    s.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--audit", default="sqlite:///thresher-audit.db", metavar="URL",
                   help="audit log: sqlite:///path.db (default sqlite:///thresher-audit.db) or postgresql://...")
    s.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    s.add_argument("--max-batch", type=int, default=10_000, help="most cases in one request (default 10000)")
    s.add_argument("--reload-interval", type=float, default=1.0, metavar="SECONDS",
                   help="how often to check the policy file for changes (default 1; 0: never)")
    s.add_argument("--audit-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="answer 503 when the audit log has not committed a decision by then (default 30)")
    s.add_argument("--admin-token-env", default="THRESHER_ADMIN_TOKEN", metavar="NAME",
                   help="environment variable holding the bearer token for PUT /v1/policy (unset: disabled)")
    s.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    s.add_argument("--access-log", action="store_true", help="log every request (costs throughput)")
    s.set_defaults(run=run_serve)


def run_serve(args) -> int:
    for module in ("fastapi", "uvicorn", "orjson"):
        require(module, "serve", "thresher serve")
    import uvicorn

    from thresher.policy.policy import Policy
    from thresher.service.audit.store import open_store, redact

    for name, value, low in (("--workers", args.workers, 1), ("--max-batch", args.max_batch, 1),
                             ("--port", args.port, 0)):
        if value < low:
            raise ParameterError(f"{name} must be at least {low}; got {value}.")
    policy = Policy.load(args.policy)  # fail here, with the field path, not inside a worker
    open_store(args.audit).close()  # and here for an audit log that cannot be opened
    os.environ["THRESHER_SERVE_CONFIG"] = json.dumps({
        "policy": os.path.abspath(args.policy), "audit": args.audit, "max_batch": args.max_batch,
        "reload_interval": args.reload_interval, "audit_timeout": args.audit_timeout,
        "admin_token_env": args.admin_token_env})
    token = "on" if os.environ.get(args.admin_token_env) else f"off (set {args.admin_token_env} to enable)"
    err_console.print(f"thresher serve: policy '{policy.name}' v{policy.version} on http://{args.host}:{args.port} "
                      f"(docs /docs), audit log {redact(args.audit)}, PUT /v1/policy {token}")
    options = {"http": "httptools"} if _has("httptools") else {}
    if _has("uvloop"):
        options["loop"] = "uvloop"
    uvicorn.run("thresher.service.app:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level=args.log_level, access_log=args.access_log,
                timeout_graceful_shutdown=10, **options)
    return 0


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
