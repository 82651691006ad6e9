"""Health check: honest about the database and the data directory (``storage_health``)."""

from __future__ import annotations

from flask import jsonify

from relay_server.api import api
from relay_server.context import current_relay
from relay_server.db import is_postgres
from relay_server.errors import error_response
from relay_server.storage_health import RETRY_AFTER
from shared import __version__


@api.get("/healthz")
def healthz():
    report = current_relay().storage.check()
    kind = "postgresql" if is_postgres() else "sqlite"
    if not report.ok:
        status = 507 if report.disk_full else 503
        resp = error_response(
            status,
            "storage_full" if report.disk_full else "storage_unavailable",
            "; ".join(report.problems),
            {"Retry-After": str(RETRY_AFTER)},
        )
        return resp
    return jsonify({"status": "ok", "version": __version__, "database": kind})
