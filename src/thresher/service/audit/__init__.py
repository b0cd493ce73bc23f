"""The audit log: stores (SQLite, PostgreSQL), the group-commit writer, query and replay."""

from thresher.service.audit.store import AuditError, Filters, open_store

__all__ = ["AuditError", "Filters", "open_store"]
