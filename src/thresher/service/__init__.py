"""The decision service: a policy served over HTTP, every decision in an audit log first.

``create_app`` needs the ``serve`` extra (FastAPI, uvicorn, orjson) and is imported lazily;
the audit log (``thresher.service.audit``) is readable without it.
"""


def __getattr__(name):
    if name == "create_app":
        from thresher.service.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
