"""Draw the demo store's app icons, the Appbeam logo and the placeholder icon.

Run ``.venv/bin/python assets/make_icons.py`` after adding a demo app; the PNGs it writes are
committed inside the packages that use them: the demo apps' icons and the placeholder in
``relay_server/static/icons/`` (the store serves them), the logo in ``shared/assets/`` (the
store, the phone and the APK show it). Every icon is our own drawing: a rounded square in a colour
that suits the app with a simple white glyph, evoking the app without copying its logo.
Optional: ``--sheet contact.png`` also writes a contact sheet of all icons for review.
"""

from __future__ import annotations

import argparse
import math
import shutil
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = Path(__file__).resolve().parents[1]
SIZE = 192
SS = 4  # drawn at 4x and scaled down: Pillow's shapes have no anti-aliasing of their own
W = SIZE * SS
WHITE = (255, 255, 255, 255)


def _load_catalog():
    """The demo catalog module: its app list, and where the relay reads the icons from.

    ``relay_server``'s ``__init__`` imports nothing, so this does not load Flask or peewee.
    """
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # when run as a plain script from the repository
    from relay_server import demo_catalog

    return demo_catalog


def _icon_path(catalog, stem: str) -> Path:
    """Where the code that shows this icon reads it (written there, inside its package)."""
    if stem == "appbeam":
        from shared.assets import LOGO

        return LOGO
    return catalog.ICONS_DIR / f"{stem}.png"


# --------------------------------------------------------------------------- fonts

_FONT_FILES = {
    "sans": "DejaVuSans-Bold.ttf",
    "serif": "DejaVuSerif-Bold.ttf",
    "mono": "DejaVuSansMono-Bold.ttf",
}
_FONT_DIRS = [
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".fonts",
    Path("/Library/Fonts"),
    Path("C:/Windows/Fonts"),
]


def _find_font_file(name: str) -> Path | None:
    if shutil.which("fc-match"):
        family = {"sans": "DejaVu Sans:bold", "serif": "DejaVu Serif:bold", "mono": "DejaVu Sans Mono:bold"}[name]
        out = subprocess.run(["fc-match", "-f", "%{file}", family], capture_output=True, text=True).stdout
        if out and Path(out).name == _FONT_FILES[name]:
            return Path(out)
    for folder in _FONT_DIRS:
        if folder.is_dir():
            hit = next(folder.rglob(_FONT_FILES[name]), None)
            if hit:
                return hit
    return None


def font(kind: str, size: int) -> ImageFont.ImageFont:
    """A bold font of this kind, or Pillow's built-in one (scalable since Pillow 10.1)."""
    path = _find_font_file(kind)
    if path:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


# --------------------------------------------------------------------------- drawing helpers


def p(*values: float) -> list[float]:
    """Fractions of the icon (0..1) to pixels of the 4x canvas."""
    return [v * W for v in values]


def background(top: str, bottom: str) -> Image.Image:
    """A rounded square with a vertical gradient and a soft shadow, on transparency."""
    top_rgb, bottom_rgb = rgb(top), rgb(bottom)
    gradient = Image.new("RGBA", (1, W))
    for y in range(W):
        t = y / (W - 1)
        gradient.putpixel((0, y), tuple(round(a + (b - a) * t) for a, b in zip(top_rgb, bottom_rgb)) + (255,))
    gradient = gradient.resize((W, W))

    inset, radius = 0.05, 0.22
    mask = Image.new("L", (W, W), 0)
    ImageDraw.Draw(mask).rounded_rectangle(p(inset, inset, 1 - inset, 1 - inset), radius=W * radius, fill=255)

    shadow = Image.new("L", (W, W), 0)
    ImageDraw.Draw(shadow).rounded_rectangle(
        p(inset, inset + 0.015, 1 - inset, 1 - inset + 0.015), radius=W * radius, fill=90
    )
    canvas = Image.new("RGBA", (W, W), (0, 0, 0, 0))
    canvas.putalpha(shadow.filter(ImageFilter.GaussianBlur(W * 0.012)))
    canvas.paste(gradient, (0, 0), mask)
    # A faint highlight across the top half gives the flat colour a little depth.
    gloss = Image.new("L", (W, W), 0)
    ImageDraw.Draw(gloss).ellipse(p(-0.3, -0.75, 1.3, 0.45), fill=28)
    gloss = Image.composite(gloss, Image.new("L", (W, W), 0), mask)
    canvas = Image.composite(Image.new("RGBA", (W, W), WHITE), canvas, gloss)
    return canvas


def rgb(hex_colour: str) -> tuple[int, int, int]:
    hex_colour = hex_colour.lstrip("#")
    return tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4))


def finish(canvas: Image.Image, glyph: Image.Image) -> Image.Image:
    """Lay the glyph (with a light shadow) on the background and scale to the final size."""
    alpha = glyph.getchannel("A")
    shade = Image.new("RGBA", (W, W), (0, 0, 0, 0))
    shade.putalpha(alpha.point(lambda a: a * 0.22).filter(ImageFilter.GaussianBlur(W * 0.01)))
    canvas = Image.alpha_composite(canvas, shade.transform((W, W), Image.Transform.AFFINE, (1, 0, 0, 0, 1, -W * 0.008)))
    canvas = Image.alpha_composite(canvas, glyph)
    return canvas.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def text_glyph(text: str, kind: str = "sans", size: float = 0.5, colour=WHITE, dy: float = 0.0):
    def draw(d: ImageDraw.ImageDraw, bg: tuple):
        d.text((W / 2, W * (0.5 + dy)), text, font=font(kind, int(W * size)), fill=colour, anchor="mm")

    return draw


# --------------------------------------------------------------------------- glyphs
# Each glyph draws in white on a transparent layer; ``bg`` is the background colour for
# cut-outs (stripes, holes) that should show the icon's colour.


def glyph_store(d, bg):  # F-Droid: a shopping bag with an F
    d.rounded_rectangle(p(0.26, 0.36, 0.74, 0.78), radius=W * 0.06, fill=WHITE)
    d.arc(p(0.37, 0.22, 0.63, 0.50), 180, 360, fill=WHITE, width=int(W * 0.045))
    d.text((W * 0.5, W * 0.575), "F", font=font("sans", int(W * 0.3)), fill=bg, anchor="mm")


def glyph_cone(d, bg):  # VLC: a traffic cone
    d.polygon(p(0.5, 0.18, 0.66, 0.70, 0.34, 0.70), fill=WHITE)
    d.rounded_rectangle(p(0.22, 0.68, 0.78, 0.79), radius=W * 0.03, fill=WHITE)
    for top, bottom in ((0.33, 0.41), (0.50, 0.58)):
        # Stripes follow the cone's slanted sides so they read as bands, not boxes.
        half_t, half_b = 0.16 * (top - 0.18) / 0.52, 0.16 * (bottom - 0.18) / 0.52
        d.polygon(p(0.5 - half_t, top, 0.5 + half_t, top, 0.5 + half_b, bottom, 0.5 - half_b, bottom), fill=bg)


def glyph_podcast(d, bg):  # AntennaPod: an antenna sending waves
    cx, cy = 0.5, 0.42
    for r in (0.24, 0.16):
        d.arc(p(cx - r, cy - r, cx + r, cy + r), 200, 340, fill=WHITE, width=int(W * 0.045))
        d.arc(p(cx - r, cy - r, cx + r, cy + r), 20, 160, fill=WHITE, width=int(W * 0.045))
    d.ellipse(p(cx - 0.065, cy - 0.065, cx + 0.065, cy + 0.065), fill=WHITE)
    d.polygon(p(0.5, 0.46, 0.6, 0.80, 0.4, 0.80), fill=WHITE)


def glyph_prompt(d, bg):  # Termux: a shell prompt
    d.text((W * 0.30, W * 0.5), ">", font=font("mono", int(W * 0.42)), fill=(80, 230, 120, 255), anchor="mm")
    d.rectangle(p(0.47, 0.60, 0.72, 0.66), fill=WHITE)


def glyph_pin(d, bg):  # OsmAnd: a map pin over a folded map
    d.polygon(
        p(0.18, 0.70, 0.38, 0.64, 0.62, 0.72, 0.82, 0.66, 0.82, 0.80, 0.62, 0.86, 0.38, 0.78, 0.18, 0.84),
        fill=(255, 255, 255, 150),
    )
    d.ellipse(p(0.33, 0.15, 0.67, 0.49), fill=WHITE)
    d.polygon(p(0.345, 0.39, 0.655, 0.39, 0.5, 0.74), fill=WHITE)
    d.ellipse(p(0.43, 0.25, 0.57, 0.39), fill=bg)


def glyph_bubble(d, bg):  # Signal: a speech bubble
    d.ellipse(p(0.2, 0.22, 0.8, 0.74), fill=WHITE)
    d.polygon(p(0.28, 0.60, 0.42, 0.70, 0.22, 0.82), fill=WHITE)
    for x in (0.37, 0.5, 0.63):
        d.ellipse(p(x - 0.04, 0.44, x + 0.04, 0.52), fill=bg)


def glyph_rings(d, bg):  # Nextcloud: three rings
    for cx, r, width in ((0.5, 0.14, 0.055), (0.22, 0.075, 0.04), (0.78, 0.075, 0.04)):
        d.ellipse(p(cx - r, 0.5 - r, cx + r, 0.5 + r), outline=WHITE, width=int(W * width))


def glyph_devices(d, bg):  # KDE Connect: a phone linked to a computer screen
    d.rounded_rectangle(p(0.16, 0.30, 0.62, 0.64), radius=W * 0.03, outline=WHITE, width=int(W * 0.04))
    d.rectangle(p(0.36, 0.64, 0.42, 0.72), fill=WHITE)
    d.rounded_rectangle(p(0.28, 0.71, 0.50, 0.75), radius=W * 0.015, fill=WHITE)
    d.rounded_rectangle(p(0.60, 0.40, 0.82, 0.78), radius=W * 0.035, fill=bg, outline=WHITE, width=int(W * 0.04))
    d.ellipse(p(0.685, 0.70, 0.735, 0.75), fill=WHITE)


def glyph_matrix(d, bg):  # Element: brackets around an E, a nod to Matrix
    f = font("sans", int(W * 0.40))
    d.text((W * 0.5, W * 0.5), "E", font=f, fill=WHITE, anchor="mm")
    for x0, x1 in ((0.2, 0.27), (0.73, 0.8)):
        d.rectangle(p(x0 if x0 < 0.5 else x1 - 0.035, 0.24, x0 + 0.035 if x0 < 0.5 else x1, 0.76), fill=WHITE)
        d.rectangle(p(x0, 0.24, x1, 0.28), fill=WHITE)
        d.rectangle(p(x0, 0.72, x1, 0.76), fill=WHITE)


def glyph_play(d, bg):  # NewPipe: a play button in a screen
    d.rounded_rectangle(p(0.2, 0.27, 0.8, 0.73), radius=W * 0.08, fill=WHITE)
    d.polygon(p(0.43, 0.37, 0.43, 0.63, 0.63, 0.5), fill=bg)


def glyph_key(d, bg):  # KeePassDX: a key
    d.ellipse(p(0.18, 0.24, 0.48, 0.54), fill=WHITE)
    d.ellipse(p(0.27, 0.33, 0.39, 0.45), fill=bg)
    # The shaft runs diagonally down-right from the ring; teeth hang off its end.
    shaft = p(0.40, 0.46, 0.76, 0.82)
    d.line(shaft, fill=WHITE, width=int(W * 0.075))
    for t in (0.62, 0.74):
        d.line(p(t, t - 0.02 + 0.06, t + 0.09, t - 0.11 + 0.06), fill=WHITE, width=int(W * 0.06))


def glyph_link(d, bg):  # PuTTY: two terminals joined by a spark
    d.rounded_rectangle(p(0.14, 0.20, 0.48, 0.46), radius=W * 0.03, outline=WHITE, width=int(W * 0.035))
    d.rounded_rectangle(p(0.52, 0.54, 0.86, 0.80), radius=W * 0.03, outline=WHITE, width=int(W * 0.035))
    d.polygon(p(0.56, 0.24, 0.42, 0.52, 0.53, 0.50, 0.44, 0.76, 0.60, 0.44, 0.49, 0.46), fill=(255, 226, 90, 255))


def glyph_appbeam(d, bg):  # Appbeam: an app beamed down into a phone
    # The beam: a translucent funnel from the sky narrowing into the phone's screen.
    d.polygon(p(0.16, 0.10, 0.84, 0.10, 0.58, 0.50, 0.42, 0.50), fill=(255, 255, 255, 70))
    d.rounded_rectangle(p(0.31, 0.40, 0.69, 0.89), radius=W * 0.06, fill=bg, outline=WHITE, width=int(W * 0.04))
    d.rounded_rectangle(p(0.45, 0.44, 0.55, 0.46), radius=W * 0.01, fill=WHITE)
    d.rounded_rectangle(p(0.41, 0.60, 0.59, 0.78), radius=W * 0.045, fill=WHITE)  # the app arriving
    d.line(p(0.5, 0.14, 0.5, 0.33), fill=WHITE, width=int(W * 0.05))
    d.polygon(p(0.41, 0.30, 0.59, 0.30, 0.5, 0.40), fill=WHITE)


def glyph_box(d, bg):  # placeholder: a parcel
    d.polygon(p(0.5, 0.20, 0.78, 0.34, 0.5, 0.48, 0.22, 0.34), fill=(255, 255, 255, 235))
    d.polygon(p(0.22, 0.38, 0.48, 0.52, 0.48, 0.82, 0.22, 0.68), fill=(255, 255, 255, 200))
    d.polygon(p(0.78, 0.38, 0.52, 0.52, 0.52, 0.82, 0.78, 0.68), fill=(255, 255, 255, 165))


#: Icon file stem -> (gradient top, gradient bottom, glyph).
DESIGNS = {
    "org.fdroid.fdroid": ("#4FA3F0", "#1565C0", glyph_store),
    "org.videolan.vlc": ("#FFA23A", "#E65100", glyph_cone),
    "de.danoeh.antennapod": ("#5C8DF6", "#2747B0", glyph_podcast),
    "com.termux": ("#3A3F44", "#0B0D0F", glyph_prompt),
    "org.wikipedia": ("#FFFFFF", "#D5D8DC", text_glyph("W", "serif", 0.56, colour=(25, 25, 25, 255), dy=0.01)),
    "net.osmand.plus": ("#7CCB5A", "#2E7D32", glyph_pin),
    "org.thoughtcrime.securesms": ("#5B8DF8", "#2D5FD8", glyph_bubble),
    "com.nextcloud.client": ("#2CA7E6", "#00679E", glyph_rings),
    "org.kde.kdeconnect_tp": ("#3DAEE9", "#1C6FA8", glyph_devices),
    "im.vector.app": ("#2ED3A2", "#07936A", glyph_matrix),
    "org.schabi.newpipe": ("#F0483E", "#B3140F", glyph_play),
    "com.kunzisoft.keepass.libre": ("#43B38A", "#1B6E50", glyph_key),
    "net.sourceforge.s2putty": ("#4C5A9E", "#232B5C", glyph_link),
    "appbeam": ("#8A6CF2", "#2F6FE0", glyph_appbeam),
    "placeholder": ("#B7BEC7", "#7B8591", glyph_box),
}


def draw_icon(stem: str) -> Image.Image:
    top, bottom, glyph = DESIGNS[stem]
    canvas = background(top, bottom)
    layer = Image.new("RGBA", (W, W), (0, 0, 0, 0))
    # Cut-outs use the colour at mid-height so they match the gradient behind them.
    mid = tuple((a + b) // 2 for a, b in zip(rgb(top), rgb(bottom))) + (255,)
    glyph(ImageDraw.Draw(layer), mid)
    return finish(canvas, layer)


def contact_sheet(paths: list[Path], columns: int = 5) -> Image.Image:
    """All icons on one light page with their names, to review them at a glance."""
    cell_w, cell_h = SIZE + 40, SIZE + 46
    rows = math.ceil(len(paths) / columns)
    sheet = Image.new("RGB", (columns * cell_w, rows * cell_h), (244, 245, 247))
    d = ImageDraw.Draw(sheet)
    label = font("sans", 12)
    for i, path in enumerate(paths):
        x, y = (i % columns) * cell_w, (i // columns) * cell_h
        with Image.open(path) as icon:
            sheet.paste(icon, (x + 20, y + 10), icon)
        d.text((x + cell_w / 2, y + SIZE + 26), path.stem[:30], font=label, fill=(60, 60, 60), anchor="mm")
    return sheet


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheet", type=Path, help="also write a contact sheet of every icon here")
    args = parser.parse_args(argv)

    catalog = _load_catalog()
    missing = [app.id for app in catalog.DEMO_APPS if Path(app.icon).stem not in DESIGNS]
    if missing:
        raise SystemExit(f"no icon design for: {', '.join(missing)}")
    stems = [Path(app.icon).stem for app in catalog.DEMO_APPS] + ["appbeam", "placeholder"]
    paths = []
    for stem in stems:
        path = _icon_path(catalog, stem)
        path.parent.mkdir(parents=True, exist_ok=True)
        draw_icon(stem).save(path, optimize=True)
        paths.append(path)
    print(f"wrote {len(paths)} icons: {_icon_path(catalog, 'appbeam')} and the rest in {catalog.ICONS_DIR}")
    if args.sheet:
        contact_sheet(paths).save(args.sheet)
        print(f"contact sheet: {args.sheet}")


if __name__ == "__main__":
    main()
