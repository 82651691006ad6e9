"""The relay's small app store: web pages with JSON-LD install information, public package files."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import Blueprint, Response, abort, render_template, request, send_from_directory

from relay_server import catalog
from relay_server.models import CatalogApp
from relay_server.serving import send_package
from shared.assets import LOGO
from shared.formatting import human_size

store = Blueprint("store", __name__)


def json_ld(app: dict[str, Any]) -> dict[str, Any]:
    """schema.org SoftwareApplication for one app, with absolute URLs (``docs/api.md``)."""
    base = request.host_url
    packages = [
        {
            "format": p["format"],
            "url": urljoin(base, p["url"]),
            "sha256": p["sha256"],
            "size": p["size"],
            "runtime": p.get("runtime") or None,
        }
        for p in app["packages"]
    ]
    return {
        "@context": "https://schema.org",
        "@type": "SoftwareApplication",
        "identifier": app["id"],
        "name": app["name"],
        "softwareVersion": app["version"],
        "operatingSystem": app.get("runtime") or "",
        "applicationCategory": app.get("category") or "",
        "image": urljoin(base, app["icon_url"]) if app.get("icon_url") else None,
        "description": app.get("description") or "",
        "author": {"@type": "Organization", "name": app.get("developer") or ""},
        "license": app.get("license") or "",
        "fileSize": str(app["size"]) if app.get("size") else None,
        "downloadUrl": [p["url"] for p in packages],
        "offers": {"@type": "Offer", "price": "0", "priceCurrency": "USD"},
        "appbeam:versionCode": app.get("version_code"),
        "appbeam:packages": packages,
    }


def _view(app: CatalogApp) -> dict[str, Any]:
    data = catalog.app_dict(app)
    data["json_ld"] = json_ld(data)
    data["size_label"] = human_size(data.get("size"))
    for ref in data["packages"]:
        ref["size_label"] = human_size(ref["size"])
    return data


@store.get("/static/icons/appbeam.png")
def logo() -> Response:
    """The Appbeam logo beside the store's other icons; it lives in shared/assets (the phone shows it too)."""
    return send_from_directory(LOGO.parent, LOGO.name)


@store.get("/")
def index() -> str:
    query = (request.args.get("q") or "").strip()[:200]
    apps = [_view(a) for a in catalog.search(query or None)]
    return render_template("store_index.html", apps=apps, query=query)


@store.get("/app/<app_id>")
def app_page(app_id: str) -> str:
    app = CatalogApp.get_or_none(CatalogApp.app_id == app_id)
    if app is None:
        abort(404)
    return render_template("store_app.html", app=_view(app))


@store.get("/files/<sha256>/<filename>")
def public_file(sha256: str, filename: str) -> Response:
    """A catalog package (public: these are the store's download links)."""
    package = catalog.public_package(sha256.lower())
    if package is None or package.filename != filename:
        abort(404)
    return send_package(package.package, package.filename)
