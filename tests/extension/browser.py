"""Debian's Chromium with the unpacked extension loaded, driven by Playwright (headless).

``stage_extension`` copies what the browser loads (no ``node_modules``, no tests: Chromium refuses
an extension with files named ``_...``, which npm packages have); ``ExtensionBrowser`` starts a
persistent context with it and finds its MV3 service worker and id.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Self

REPO = Path(__file__).resolve().parents[2]
SOURCE = REPO / "browser_extension"
CHROMIUM = os.environ.get("APPBEAM_CHROMIUM", "/usr/bin/chromium")
#: What the extension is made of; everything else in browser_extension/ is for developing it.
SHIPPED = (
    "manifest.json",
    "background.js",
    "picker.html",
    "picker.css",
    "picker.js",
    "signin.html",
    "signin.css",
    "signin.js",
    "src",
    "icons",
    "_locales",
)


def stage_extension(dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED:
        src = SOURCE / name
        if src.is_dir():
            shutil.copytree(src, dest / name, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dest / name)
    return dest


class ExtensionBrowser:
    """``with ExtensionBrowser(tmp) as browser:`` ``browser.context``, ``.worker``, ``.url("picker.html")``.

    ``lang="zh-CN"`` starts Chromium in that language: ``--lang`` is what Chromium on Linux takes
    its UI language from (the extension's ``_locales`` follow it), and Playwright's ``locale``
    makes the pages' ``navigator.language`` and ``Accept-Language`` say it too (as the browser's
    language setting does for a person). None leaves Chromium as it starts here: English."""

    def __init__(self, root: Path, lang: str | None = None):
        self.root = Path(root)
        self.lang = lang
        self._playwright = None
        self.context = None
        self.worker = None
        self.extension_id = ""
        self.page_errors: list[str] = []

    def __enter__(self) -> Self:
        from playwright.sync_api import sync_playwright

        extension = stage_extension(self.root / "extension")
        self._playwright = sync_playwright().start()
        language = {"locale": self.lang} if self.lang else {}
        try:
            self.context = self._playwright.chromium.launch_persistent_context(
                str(self.root / "profile"),
                executable_path=CHROMIUM,
                headless=True,
                accept_downloads=False,
                args=[
                    f"--disable-extensions-except={extension}",
                    f"--load-extension={extension}",
                    "--no-sandbox",
                    "--headless=new",
                    "--no-first-run",
                    "--disable-gpu",
                    *([f"--lang={self.lang}"] if self.lang else []),
                ],
                viewport={"width": 1100, "height": 760},
                **language,
            )
            self.context.set_default_timeout(60_000)
            # Uncaught exceptions in the extension's pages: a test fails on any (see page_errors).
            self.context.on(
                "page", lambda page: page.on("pageerror", lambda exc: self.page_errors.append(f"{page.url}: {exc}"))
            )
            workers = self.context.service_workers
            self.worker = workers[0] if workers else self.context.wait_for_event("serviceworker", timeout=60_000)
            self.extension_id = self.worker.url.split("/")[2]
        except BaseException:
            self.__exit__()
            raise
        return self

    def url(self, page: str) -> str:
        return f"chrome-extension://{self.extension_id}/{page}"

    def __exit__(self, *exc) -> None:
        if self.context is not None:
            self.context.close()
            self.context = None
        if self._playwright is not None:
            self._playwright.stop()
            self._playwright = None


def compose_over_page(page_png: Path, window_png: Path, out: Path) -> Path:
    """The picker window as a person sees it: over the page it came from, the page dimmed.
    (Headless Chromium renders each window on its own; this puts the two together for the README.)"""
    from PIL import Image, ImageDraw, ImageFilter

    page = Image.open(page_png).convert("RGBA")
    window = Image.open(window_png).convert("RGBA")
    canvas = Image.alpha_composite(page, Image.new("RGBA", page.size, (15, 23, 42, 110)))
    x, y = (page.width - window.width) // 2, max(16, (page.height - window.height) // 2)
    shadow = Image.new("RGBA", page.size, (0, 0, 0, 0))
    ImageDraw.Draw(shadow).rounded_rectangle(
        (x - 2, y + 4, x + window.width + 2, y + window.height + 8), 12, fill=(0, 0, 0, 120)
    )
    canvas = Image.alpha_composite(canvas, shadow.filter(ImageFilter.GaussianBlur(10)))
    canvas.alpha_composite(window, (x, y))
    canvas.convert("RGB").save(out)
    return out
