"""Health check."""

from __future__ import annotations

from flask import jsonify

from shared import __version__

from relay_server.api import api
from relay_server.db import database


@api.get("/healthz")
def healthz():
    database.execute_sql("SELECT 1")
    kind = "postgresql" if "postgres" in type(database.obj).__name__.lower() else "sqlite"
    return jsonify({"status": "ok", "version": __version__, "database": kind})
