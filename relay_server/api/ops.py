"""Operations routes: the health check, the metrics and the API's own description.

``/healthz`` and ``/metrics`` sit at the root, where load balancers, supervisors and
Prometheus look for them; the OpenAPI document sits under the prefix of the API it describes.
The health check is honest about the database and the data directory (``storage_health``).
The old addresses answer 308 (the method and body stay as they were, unlike 301) to the new
ones, with the query kept, so monitors and clients set up before the move keep working.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, redirect, request
from werkzeug.wrappers import Response as BaseResponse

from relay_server.api.body import answer
from relay_server.context import current_relay
from relay_server.db import is_postgres
from relay_server.errors import error_response
from relay_server.openapi import openapi_document
from relay_server.storage_health import RETRY_AFTER
from shared import __version__
from shared.api_messages import Health
from shared.messages import encode
from shared.protocol import API_PREFIX

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
OPENAPI_PATH = f"{API_PREFIX}/openapi.json"
#: an address the relay used to answer at -> where that moved
MOVED = {f"{API_PREFIX}/healthz": HEALTH_PATH, "/api/openapi.json": OPENAPI_PATH}

ops = Blueprint("ops", __name__)


@ops.get(HEALTH_PATH)
def healthz() -> Response:
    storage = current_relay().storage
    assert storage is not None  # create_app sets it before the first request
    report = storage.check()
    if not report.ok:
        status = 507 if report.disk_full else 503
        # A monitor sends no Accept-Language and reads English, as the log says it.
        return error_response(
            status,
            "storage_full" if report.disk_full else "storage_unavailable",
            report.summary(),
            {"Retry-After": str(RETRY_AFTER)},
        )
    return answer(Health("ok", __version__, "postgresql" if is_postgres() else "sqlite"))


@ops.get(METRICS_PATH)
def metrics() -> Response:
    return Response(current_relay().metrics.render(), mimetype="text/plain; version=0.0.4")


@ops.get(OPENAPI_PATH)
def openapi() -> Response:
    return Response(encode(openapi_document()), mimetype="application/json")


def _moved_to(new_path: str) -> Callable[[], BaseResponse]:
    def moved() -> BaseResponse:
        # Relative to the relay's own root, so it stays right behind a proxy under a sub-path.
        target = request.script_root + new_path
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        return redirect(target, 308)

    return moved


for _old, _new in MOVED.items():
    ops.add_url_rule(_old, endpoint="moved" + _old.replace("/", "_").replace(".", "_"), view_func=_moved_to(_new))
