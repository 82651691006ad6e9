"""The catalog and download by app id [12, 0074-0079]."""

from __future__ import annotations

from flask import redirect, request
from flask.typing import ResponseReturnValue

from relay_server import catalog
from relay_server.api import api
from relay_server.api.body import answer
from relay_server.errors import ApiError, bad_request, not_found
from relay_server.models import CatalogApp
from shared.api_messages import CatalogList
from shared.protocol import parse_app_id


@api.get("/apps")
def list_apps() -> ResponseReturnValue:
    query = request.args.get("q")
    if query is not None and len(query) > 200:
        raise bad_request("q: at most 200 characters", "invalid_field")
    return answer(CatalogList([catalog.entry(a) for a in catalog.search(query)]))


def _app(app_id: str) -> CatalogApp:
    parse_app_id(app_id, "app_id")
    app = CatalogApp.get_or_none(CatalogApp.app_id == app_id)
    if app is None:
        raise not_found("the catalog has no app %(app)s", "unknown_app", app=repr(app_id))
    return app


@api.get("/apps/<app_id>")
def show_app(app_id: str) -> ResponseReturnValue:
    return answer(catalog.entry(_app(app_id)))


@api.get("/apps/<app_id>/package")
def package_by_app_id(app_id: str) -> ResponseReturnValue:
    """Redirect to the package of ``app_id`` that the asking device's platform installs."""
    _app(app_id)
    platform = request.args.get("platform")
    if not platform:
        raise bad_request("platform: required (android, ios, ...)", "invalid_field")
    package, reason = catalog.package_for_platform(app_id, platform)
    if package is None:
        assert reason is not None, "package_for_platform always says why it found none"
        raise ApiError(404, "no_package_for_platform", reason)
    return redirect(catalog.file_url(package), code=302)
