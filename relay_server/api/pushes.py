"""Push routes: create, list, show, report progress, cancel [claims 2, 3, 9-11]."""

from __future__ import annotations

from typing import Any

from flask import g, request
from flask.typing import ResponseReturnValue

from relay_server import push_cancel, push_reports, push_views, pushes
from relay_server.api import api
from relay_server.api.body import answer, json_body
from relay_server.auth import device_required
from relay_server.context import Relay, current_relay
from relay_server.errors import bad_request
from relay_server.models import Device
from shared.api_messages import PushReport, PushRequest
from shared.messages import Push as PushView
from shared.messages import PushList


@api.post("/pushes")
@device_required
def create_pushes() -> ResponseReturnValue:
    return answer(push_from(current_relay(), g.device, json_body(), request.host_url), 201)


def push_from(relay: Relay, sender: Device, body: dict[str, Any], host_url: str) -> PushList:
    """``POST /pushes`` after authentication: the pushes made from a request's JSON object.
    (Also answered without Flask: ``relay_server.hot_routes``.)"""
    targets = body.get("device_ids")
    # Each target counts: one request to fifty devices is fifty pushes.
    relay.limits.check("push", sender.id, cost=len(targets) if isinstance(targets, list) and targets else 1)
    created = pushes.create(relay, sender, PushRequest.from_dict(body), host_url)
    return PushList([push_views.view(p) for p in created])


@api.get("/pushes")
@device_required
def list_pushes() -> ResponseReturnValue:
    role = request.args.get("role", "sent")
    try:
        limit = int(request.args.get("limit", 100))
    except ValueError:
        raise bad_request("limit: must be a whole number", "invalid_field") from None
    if not 1 <= limit <= 1000:
        raise bad_request("limit: 1 to 1000", "invalid_field")
    return answer(PushList([push_views.view(p) for p in push_views.listing(g.device, role, limit)]))


@api.get("/pushes/<push_id>")
@device_required
def show_push(push_id: str) -> ResponseReturnValue:
    return answer(push_views.view(push_views.get(g.device, push_id), history=True))


@api.post("/pushes/<push_id>/events")
@device_required
def report_push(push_id: str) -> ResponseReturnValue:
    return answer(report_from(current_relay(), g.device, push_id, json_body()))


def report_from(relay: Relay, device: Device, push_id: str, body: dict[str, Any]) -> PushView:
    """``POST /pushes/<push_id>/events`` after authentication: the target device says where it
    stands (``shared.protocol.TRANSITIONS``): 409 for an impossible change; a declined push
    re-opened by Download again gets 410 ``package_gone`` when the relay no longer has the copy
    of its package that the download needs. (Also answered without Flask: ``relay_server.hot_routes``.)"""
    return push_views.view(push_reports.report(relay, device, push_id, PushReport.from_dict(body)))


@api.delete("/pushes/<push_id>")
@device_required
def cancel_push(push_id: str) -> ResponseReturnValue:
    return answer(push_views.view(push_cancel.cancel(current_relay(), g.device, push_id)))
