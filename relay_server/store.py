"""The relay's small app store: web pages with JSON-LD install information, public package files.

The pages speak the visitor's language (``relay_server/i18n``): ``?lang=`` picks one and a cookie
keeps it, else the browser's ``Accept-Language`` decides. The JSON-LD stays as it is in every
language: it is for programs (the sender, the extension), not people.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urljoin

from flask import Blueprint, Response, abort, g, render_template, request, send_from_directory
from flask.blueprints import BlueprintSetupState

from relay_server import catalog
from relay_server.i18n import LANGUAGE_NAMES, LANGUAGE_TAGS, LANGUAGES, formats, negotiate, translations
from relay_server.models import CatalogApp, CatalogPackage, Package
from relay_server.serving import send_package
from shared.assets import LOGO

store = Blueprint("store", __name__)

#: The visitor's own choice of language (the switch on the page), kept for a year.
LANGUAGE_COOKIE = "appbeam_store_lang"
_COOKIE_AGE = 365 * 24 * 3600


def _gettext(message: str) -> str:
    return translations(g.get("store_language", "en")).gettext(message)


def _ngettext(singular: str, plural: str, n: int) -> str:
    return translations(g.get("store_language", "en")).ngettext(singular, plural, n)


@store.record_once
def _speak_languages(state: BlueprintSetupState) -> None:
    """Jinja2's i18n extension on the app's templates, with the request's catalog (newstyle:
    ``_("Hello %(name)s", name=...)`` escapes its variables and fills them in itself; a plural's
    ``num`` may be passed already formatted for the language)."""
    env = state.app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(_gettext, _ngettext, newstyle=True)  # type: ignore[attr-defined]


@store.before_request
def _choose_language() -> None:
    chosen = request.args.get("lang") or request.cookies.get(LANGUAGE_COOKIE)
    g.store_language = negotiate(chosen, [tag for tag, _quality in request.accept_languages])


@store.after_request
def _say_language(response: Response) -> Response:
    lang = g.get("store_language")
    if lang and response.mimetype == "text/html":
        response.headers["Content-Language"] = LANGUAGE_TAGS[lang]
        response.vary.update(("Accept-Language", "Cookie"))
        if request.args.get("lang") in LANGUAGES:
            response.set_cookie(LANGUAGE_COOKIE, lang, max_age=_COOKIE_AGE, samesite="Lax", httponly=True)
    return response


@store.app_context_processor
def _language_context() -> dict[str, Any]:
    """``lang``/``html_lang`` for the page, and the switch: each other language with this page's address in it."""
    lang = g.get("store_language")
    if lang is None:
        return {}
    others = []
    for other in LANGUAGES:
        if other != lang:
            args = {**request.args.to_dict(), "lang": other}
            others.append(
                {
                    "lang": other,
                    "tag": LANGUAGE_TAGS[other],
                    "name": LANGUAGE_NAMES[other],
                    "url": request.path + "?" + urlencode(args),
                }
            )
    return {"lang": lang, "html_lang": LANGUAGE_TAGS[lang], "other_languages": others}


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


def _view(app: CatalogApp, added: dict[str, Any] | None = None) -> dict[str, Any]:
    lang = g.store_language
    data = catalog.app_dict(app)
    data["json_ld"] = json_ld(data)
    data["size_label"] = formats.size(data.get("size"), lang)
    for ref in data["packages"]:
        ref["size_label"] = formats.size(ref["size"], lang)
        ref["added_label"] = formats.day((added or {}).get(ref["sha256"]), lang)
    return data


def _added(app_id: str) -> dict[str, Any]:
    """When the relay first kept each package of an app (by SHA-256): the app page's Added column."""
    rows = CatalogPackage.select(Package.sha256, Package.created_at).join(Package).where(CatalogPackage.app == app_id)
    return {row.package.sha256: row.package.created_at for row in rows}


@store.get("/static/icons/appbeam.png")
def logo() -> Response:
    """The Appbeam logo beside the store's other icons; it lives in shared/assets (the phone shows it too)."""
    return send_from_directory(LOGO.parent, LOGO.name)


@store.get("/")
def index() -> str:
    query = (request.args.get("q") or "").strip()[:200]
    apps = [_view(a) for a in catalog.search(query or None)]
    count = formats.number(len(apps), g.store_language)
    return render_template("store_index.html", apps=apps, query=query, count=count)


@store.get("/app/<app_id>")
def app_page(app_id: str) -> str:
    app = CatalogApp.get_or_none(CatalogApp.app_id == app_id)
    if app is None:
        abort(404)
    return render_template("store_app.html", app=_view(app, _added(app_id)))


@store.get("/files/<sha256>/<filename>")
def public_file(sha256: str, filename: str) -> Response:
    """A catalog package (public: these are the store's download links)."""
    package = catalog.public_package(sha256.lower())
    if package is None or package.filename != filename:
        abort(404)
    return send_package(package.package, package.filename)
