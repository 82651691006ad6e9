"""Which font file has the Chinese glyphs on this machine or phone. Kivy-free.

Kivy's own font (Roboto) has no CJK glyphs: Chinese would render as boxes, in the Chinese
screens and in app or device names written in Chinese whatever the language. The receiver
therefore draws every label with a font that has both Latin and CJK glyphs, found here:

- ``APPBEAM_CJK_FONT``, when set (a ``.ttf``, ``.otf`` or ``.ttc`` file);
- on Android, the system's own CJK font (``/system/fonts``: Droid Sans Fallback or Noto Sans
  CJK, on every Android the APK supports), so the APK bundles none;
- on a desktop, Debian's ``fonts-wqy-microhei`` (what ``.ci/run`` installs), Noto Sans CJK or
  Droid Sans Fallback from the distribution, PingFang on macOS, Microsoft YaHei on Windows.

Kivy opens the first face of a ``.ttc`` collection (Noto Sans CJK's is the Japanese one, whose
few differing glyphs still read as Chinese): a Simplified Chinese face is preferred where there
is one.
"""

from __future__ import annotations

import os
from pathlib import Path

ANDROID_FONTS = (
    "/system/fonts/NotoSansSC-Regular.otf",
    "/system/fonts/DroidSansFallbackFull.ttf",
    "/system/fonts/DroidSansFallback.ttf",
    "/system/fonts/NotoSansCJK-Regular.ttc",
)
DESKTOP_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)


def cjk_font(candidates: tuple[str, ...] | None = None) -> Path | None:
    """The first font file that exists: ``APPBEAM_CJK_FONT``, then the platform's, or None."""
    chosen = os.environ.get("APPBEAM_CJK_FONT")
    if chosen and Path(chosen).is_file():
        return Path(chosen)
    if candidates is None:
        on_android = "ANDROID_ARGUMENT" in os.environ or "ANDROID_PRIVATE" in os.environ
        candidates = ANDROID_FONTS if on_android else DESKTOP_FONTS
    return next((Path(c) for c in candidates if Path(c).is_file()), None)
