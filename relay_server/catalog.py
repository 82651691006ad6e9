"""The relay's own app catalog: the store's apps and download by app id [0074-0079]."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from relay_server.db import database
from relay_server.i18n.errors import said
from relay_server.models import CatalogApp, CatalogPackage, Package
from shared.api_messages import CatalogEntry, CatalogPackageRef
from shared.i18n import Sentence
from shared.messages import InstallInfo
from shared.protocol import FORMAT_MIME_TYPES, PLATFORM_FORMATS, Platform, formats_for

if TYPE_CHECKING:  # the relay seeds its catalog at start-up
    from relay_server.context import Relay

log = logging.getLogger(__name__)


def seed_demo(relay: Relay) -> int:
    """Generate the demo packages (once; deterministic) and load the demo catalog."""
    from relay_server import demo_catalog

    generated = demo_catalog.generate_demo_packages(relay.config.data_dir / "demo-packages", relay.config.demo_scale)
    by_app = {app.id: app for app in demo_catalog.DEMO_APPS}
    runtimes = {(app.id, p.format): p.runtime for app in demo_catalog.DEMO_APPS for p in app.packages}
    with database.atomic():
        for app in demo_catalog.DEMO_APPS:
            fields = dict(
                name=app.name,
                version=app.version,
                version_code=app.version_code,
                description=app.description,
                developer=app.developer,
                license=app.license,
                homepage=app.homepage,
                category=app.category,
                icon=app.icon,
            )
            (
                CatalogApp.insert(app_id=app.id, **fields)
                .on_conflict(conflict_target=[CatalogApp.app_id], update=fields)
                .execute()
            )
        for pkg in generated:
            sha, size = relay.store.add_file(pkg.path)
            Package.insert(sha256=sha, size=size, content_type=pkg.mime_type).on_conflict_ignore().execute()
            (
                CatalogPackage.delete()
                .where((CatalogPackage.app == pkg.app_id) & (CatalogPackage.format == pkg.format))
                .execute()
            )
            CatalogPackage.create(
                app=by_app[pkg.app_id].id,
                format=pkg.format,
                package=sha,
                filename=pkg.filename,
                runtime=runtimes.get((pkg.app_id, pkg.format), ""),
            )
    log.info("demo catalog: %d apps, %d packages", len(demo_catalog.DEMO_APPS), len(generated))
    return len(generated)


def file_url(package: CatalogPackage) -> str:
    """The public download URL of a catalog package (relative to the relay)."""
    return f"/files/{package.package_id}/{package.filename}"


def icon_url(app: CatalogApp) -> str | None:
    return f"/static/icons/{app.icon}" if app.icon else None


def _packages(app: CatalogApp) -> list[CatalogPackage]:
    return list(
        CatalogPackage.select(CatalogPackage, Package)
        .join(Package)
        .where(CatalogPackage.app == app.app_id)
        .order_by(CatalogPackage.format)
    )


def _info(app: CatalogApp, packages: list[CatalogPackage]) -> InstallInfo:
    runtimes = [p.runtime for p in packages if p.runtime]
    return InstallInfo.from_dict(
        {
            "id": app.app_id,
            "name": app.name,
            "version": app.version,
            "version_code": app.version_code,
            "size": max((p.package.size for p in packages), default=None),
            "icon_url": icon_url(app),
            "runtime": ", ".join(runtimes) or None,
            "description": app.description[:2000] or None,
            "packages": [
                {"format": p.format, "url": file_url(p), "sha256": p.package_id, "size": p.package.size}
                for p in packages
            ],
        }
    )


def install_info(app_id: str) -> InstallInfo | None:
    """The catalog's install information for ``app_id``, or None."""
    app = CatalogApp.get_or_none(CatalogApp.app_id == app_id)
    return _info(app, _packages(app)) if app else None


def app_dict(app: CatalogApp) -> dict[str, Any]:
    """An app as ``GET /apps`` shows it, as plain values (for the store's pages)."""
    return entry(app).to_dict()


def entry(app: CatalogApp) -> CatalogEntry:
    """An app as ``GET /apps`` shows it: install information plus store details."""
    packages = _packages(app)
    info = _info(app, packages)
    return CatalogEntry(
        id=info.id,
        name=info.name,
        version=info.version,
        version_code=info.version_code,
        size=info.size,
        icon_url=info.icon_url,
        runtime=info.runtime,
        description=app.description,
        packages=tuple(
            CatalogPackageRef(
                ref.format,
                ref.url,
                ref.sha256,
                ref.size,
                runtime=pkg.runtime,
                filename=pkg.filename,
                mime_type=FORMAT_MIME_TYPES.get(pkg.format, "application/octet-stream"),
            )
            for ref, pkg in zip(info.packages, packages, strict=True)
        ),
        developer=app.developer,
        license=app.license,
        homepage=app.homepage,
        category=app.category,
        store_url=f"/app/{app.app_id}",
    )


def search(query: str | None = None) -> list[CatalogApp]:
    apps = CatalogApp.select().order_by(CatalogApp.name)
    if query:
        like = f"%{query.strip()}%"
        apps = apps.where(
            CatalogApp.name.ilike(like)
            | CatalogApp.app_id.ilike(like)
            | CatalogApp.description.ilike(like)
            | CatalogApp.developer.ilike(like)
            | CatalogApp.category.ilike(like)
        )
    return list(apps)


def package_for_platform(app_id: str, platform: str) -> tuple[CatalogPackage | None, Sentence | None]:
    """The best package of ``app_id`` for ``platform``, or None and the reason (in any language)."""
    app = CatalogApp.get_or_none(CatalogApp.app_id == app_id)
    if app is None:
        return None, said("the catalog has no app %(app)s", app=repr(app_id))
    try:
        Platform(platform)
    except ValueError:
        known = ", ".join(p.value for p in PLATFORM_FORMATS)
        return None, said("unknown platform %(platform)s (known: %(known)s)", platform=repr(platform), known=known)
    packages = {p.format: p for p in _packages(app)}
    for fmt in formats_for(platform):
        if fmt in packages:
            return packages[fmt], None
    return None, said(
        "%(app)s has no package for %(platform)s (it comes as %(formats)s)",
        app=app.name,
        platform=platform,
        formats=", ".join(sorted(packages)) or said("nothing"),
    )


def public_package(sha256: str) -> CatalogPackage | None:
    """The catalog package with this hash (catalog files are public)."""
    package: CatalogPackage | None = (
        CatalogPackage.select(CatalogPackage, Package).join(Package).where(Package.sha256 == sha256).first()
    )
    return package
