"""How the sender looks: one palette, one style sheet, letter icons for apps without one."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QLabel, QSizePolicy

ACCENT = "#2563eb"
ACCENT_DARK = "#1d4ed8"
TEXT = "#0f172a"
MUTED = "#64748b"
BORDER = "#e2e8f0"
SURFACE = "#ffffff"
BACKGROUND = "#f8fafc"
OK = "#16a34a"
WARN = "#d97706"
ERROR = "#dc2626"
#: Behind the picker card: dims the page so the card reads as a layer above it.
DIM = QColor(15, 23, 42, 115)

STATE_COLORS = {
    "queued": WARN,
    "sent": MUTED,
    "delivered": ACCENT,
    "waiting_for_wifi": WARN,
    "downloading": ACCENT,
    "paused": WARN,
    "verifying": ACCENT,
    "installing": ACCENT,
    "installed": OK,
    "already_installed": OK,
    "declined": MUTED,
    "failed": ERROR,
    "cancelled": MUTED,
    "expired": MUTED,
}

STYLE_SHEET = f"""
QMainWindow, QDialog {{ background: {BACKGROUND}; }}
QWidget {{ color: {TEXT}; font-size: 13px; }}
QToolBar#navigation {{ background: {SURFACE}; border: none; border-bottom: 1px solid {BORDER}; padding: 6px 8px; spacing: 4px; }}
QToolBar#navigation QToolButton {{ border: none; border-radius: 8px; padding: 5px 9px; font-size: 16px; color: #334155; }}
QToolBar#navigation QToolButton:hover {{ background: #f1f5f9; }}
QToolBar#navigation QToolButton:disabled {{ color: #cbd5e1; }}
QToolBar#navigation QToolButton:checked {{ background: #dbeafe; color: {ACCENT_DARK}; }}
QToolBar#navigation QToolButton#pushesToggle {{ font-size: 13px; font-weight: 600; padding: 7px 14px; border-radius: 15px; }}
QToolBar#navigation QToolButton#addPhone {{ font-size: 13px; padding: 7px 12px; border-radius: 15px; color: {ACCENT_DARK}; }}
QLineEdit#address {{ background: #f1f5f9; border: 1px solid transparent; border-radius: 17px; padding: 6px 14px; font-size: 13px; min-height: 20px; }}
QLineEdit#address:focus {{ background: {SURFACE}; border: 1px solid {ACCENT}; }}
QLabel#account {{ background: #f1f5f9; border-radius: 15px; padding: 6px 12px; color: #334155; }}
QToolBar#navigation[compact="true"] QToolButton {{ padding: 5px 5px; }}
QToolBar#navigation[compact="true"] QToolButton#pushesToggle {{ padding: 7px 10px; }}
QToolBar#navigation[compact="true"] QToolButton#addPhone {{ padding: 7px 8px; }}

QDialog QLineEdit {{ background: {SURFACE}; border: 1px solid #cbd5e1; border-radius: 8px; padding: 6px 10px; }}
QDialog QLineEdit:focus {{ border: 1px solid {ACCENT}; }}
QFrame#pickerCard {{ background: {SURFACE}; border-radius: 16px; border: 1px solid {BORDER}; }}
QLabel#appName {{ font-size: 20px; font-weight: 600; }}
QLabel#appMeta {{ color: {MUTED}; }}
QLabel#appRuntime {{ color: #334155; }}
QLabel#sectionTitle {{ font-size: 12px; font-weight: 600; color: {MUTED}; letter-spacing: 1px; }}
QLabel#pickerStatus {{ color: {MUTED}; padding: 10px 2px; }}
QLabel#pickerError {{ color: {ERROR}; padding: 6px 2px; }}
QLabel#pickerHint {{ color: {MUTED}; font-size: 12px; }}
QLabel#pickerNote {{ color: #92400e; font-size: 12px; }}
QFrame#deviceRow {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 10px; }}
QFrame#deviceRow[checked="true"] {{ background: #eff6ff; border: 1px solid #93c5fd; }}
QFrame#deviceRow[compatible="false"] {{ background: #f8fafc; }}
QFrame#deviceRow QCheckBox {{ font-size: 14px; font-weight: 600; spacing: 10px; }}
QFrame#deviceRow QCheckBox:disabled {{ color: #94a3b8; }}
QLabel#deviceDetail {{ color: {MUTED}; font-size: 12px; }}
QLabel#deviceReason {{ color: #94a3b8; font-size: 12px; }}
QLabel#chip {{ background: #f1f5f9; color: #475569; border-radius: 9px; padding: 2px 8px; font-size: 11px; }}
QLabel#chipFriend {{ background: #fef3c7; color: #92400e; border-radius: 9px; padding: 2px 8px; font-size: 11px; }}
QLabel#chipOnline {{ background: #dcfce7; color: #166534; border-radius: 9px; padding: 2px 8px; font-size: 11px; }}
QLabel#chipInstalled {{ background: #e0e7ff; color: #3730a3; border-radius: 9px; padding: 2px 8px; font-size: 11px; }}
QLabel#chipUpdate {{ background: #dbeafe; color: #1d4ed8; border-radius: 9px; padding: 2px 8px; font-size: 11px; font-weight: 600; }}
QFrame#deviceRow[installed="true"] QCheckBox {{ color: #64748b; }}
QLabel#chipOffline {{ background: #f1f5f9; color: #64748b; border-radius: 9px; padding: 2px 8px; font-size: 11px; }}

QPushButton {{ border-radius: 10px; padding: 9px 16px; font-weight: 600; border: 1px solid {BORDER}; background: {SURFACE}; }}
QPushButton:hover {{ background: #f1f5f9; }}
QPushButton:disabled {{ color: #94a3b8; background: #f8fafc; border-color: #e2e8f0; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border: 1px solid {ACCENT}; }}
QPushButton#primary:hover {{ background: {ACCENT_DARK}; }}
QPushButton#primary:disabled {{ background: #bfdbfe; border-color: #bfdbfe; color: white; }}
QPushButton#link {{ border: none; background: transparent; color: {ACCENT}; padding: 9px 4px; font-weight: 500; }}
QPushButton#link:hover {{ text-decoration: underline; }}
QPushButton#close {{ border: none; background: transparent; color: {MUTED}; font-size: 16px; padding: 2px 8px; }}
QPushButton#close:hover {{ background: #f1f5f9; }}

QDockWidget#pushesDock {{ font-weight: 600; }}
QDockWidget#pushesDock::title {{ background: {SURFACE}; padding: 10px 12px; border-bottom: 1px solid {BORDER}; }}
QWidget#pushesBody {{ background: {BACKGROUND}; }}
QLabel#connection {{ color: {MUTED}; font-size: 12px; padding: 8px 12px 2px 12px; }}
QLabel#staleNote {{ color: {MUTED}; font-size: 12px; padding: 0px 12px 2px 24px; }}
QLabel#emptyPushes {{ color: {MUTED}; padding: 24px 16px; }}
QFrame#pushRow {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 12px; }}
QLabel#pushTitle {{ font-weight: 600; font-size: 13px; }}
QLabel#pushTarget {{ color: {MUTED}; font-size: 12px; }}
QLabel#pushState {{ font-weight: 600; font-size: 12px; }}
QPushButton#cancelPush {{ border: none; background: transparent; color: {ERROR}; padding: 2px 6px; font-weight: 500; font-size: 12px; }}
QPushButton#cancelPush:hover {{ background: #fef2f2; }}
QPushButton#resendPush {{ border: none; background: transparent; color: {ACCENT}; padding: 2px 6px; font-weight: 600; font-size: 12px; }}
QPushButton#resendPush:hover {{ background: #eff6ff; }}
QPushButton#clearPushes {{ border: none; background: transparent; color: {ACCENT}; padding: 2px 6px; font-size: 12px; }}
QPushButton#clearPushes:hover {{ background: #eff6ff; }}
QProgressBar {{ background: #e2e8f0; border: none; border-radius: 3px; max-height: 6px; min-height: 6px; }}
QProgressBar::chunk {{ background: {ACCENT}; border-radius: 3px; }}

QFrame#notice {{ background: #0f172a; border-radius: 12px; }}
QFrame#notice QLabel {{ color: white; }}
QFrame#notice QPushButton {{ background: transparent; color: #93c5fd; border: none; padding: 4px 8px; }}
QStatusBar {{ background: {SURFACE}; border-top: 1px solid {BORDER}; color: {MUTED}; }}
QScrollArea {{ border: none; background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
"""


def letter_icon(name: str, size: int = 64) -> QPixmap:
    """A rounded square with the app's first letter, for apps whose page gives no icon."""
    palette = ["#2563eb", "#7c3aed", "#db2777", "#ea580c", "#059669", "#0891b2", "#4f46e5"]
    color = palette[int(hashlib.sha1((name or "?").encode()).hexdigest(), 16) % len(palette)]
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
    painter.fillPath(path, QColor(color))
    font = QFont()
    font.setPixelSize(int(size * 0.46))
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("white"))
    letter = next((c for c in (name or "") if c.isalnum()), "?").upper()
    painter.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return pixmap


def rounded(pixmap: QPixmap, size: int) -> QPixmap:
    """``pixmap`` scaled to ``size`` with rounded corners, like an app icon."""
    scaled = pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    out = QPixmap(size, size)
    out.fill(Qt.GlobalColor.transparent)
    painter = QPainter(out)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    path = QPainterPath()
    path.addRoundedRect(QRectF(0, 0, size, size), size * 0.22, size * 0.22)
    painter.setClipPath(path)
    painter.drawPixmap((size - scaled.width()) // 2, (size - scaled.height()) // 2, scaled)
    painter.end()
    return out


def wrapping_label(label: QLabel) -> QLabel:
    """Make ``label`` wrap within whatever width its row has, never widen the row: long text
    wraps, and even a long word (an address, a file name) breaks instead of pushing buttons
    out of view. Set its text with :func:`breakable`."""
    label.setWordWrap(True)
    label.setMinimumWidth(0)
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    return label


def breakable(text: str, longest: int = 24) -> str:
    """``text`` with invisible break points inside words longer than ``longest`` characters."""

    def split(word: str) -> str:
        if len(word) <= longest:
            return word
        return "\u200b".join(word[i : i + 12] for i in range(0, len(word), 12))

    return " ".join(split(word) for word in text.split(" "))
