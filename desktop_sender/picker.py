"""The device picker: a floating layer over the page that sends one app to chosen devices.

It is a child of the main window, outside any layout, positioned by hand over the browser
and moved when the window resizes (qutebrowser's overlay prompts), so it stays put while
the page scrolls [6, 0064]. It dims the page, shows the app (icon, name, version, size,
runtime) and one checkbox per device [7, 8, 0134], and offers the two send controls [2,
0135]. It never talks to the relay itself: it shows what it is given and emits what the
user chose.

Long because the card, its device rows and their states (incompatible, installed, update,
friend's, offline) are one widget tree laid out by hand; the rows could move to a module of
their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

import msgspec
from PySide6.QtCore import QCoreApplication, QEvent, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPixmap, QWheelEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QGraphicsDropShadowEffect,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from desktop_sender.i18n import QT_TRANSLATE_NOOP
from desktop_sender.i18n.formats import local_percent, local_size
from desktop_sender.install_info import PackageLink
from desktop_sender.signals import emit
from desktop_sender.style import DIM, letter_icon, rounded
from shared.api_messages import Device, InstalledVersion
from shared.messages import InstallInfo
from shared.protocol import PLATFORM_LABELS, Platform, PushMode, choose_format, formats_for
from shared.versions import compare_versions, is_same_or_newer

ICON_SIZE = 64
CARD_WIDTH = 600
# Room kept between the card and the edges of the browser.
EDGE = 16
# The device list never gets less than this (about a row and a half): below it the card's
# upper part scrolls as a whole instead.
MIN_LIST_HEIGHT = 96
FRIEND_INSTALL_NOW_TIP = QT_TRANSLATE_NOOP(
    "DevicePicker", "A friend's device only gets a notice: its owner decides whether to install."
)


def platform_label(platform: str) -> str:
    """``android`` -> ``Android``."""
    try:
        return PLATFORM_LABELS[Platform(platform)]
    except ValueError:
        return platform or QCoreApplication.translate("DeviceRow", "unknown")


def last_seen_text(iso: str | None, now: datetime | None = None) -> str:
    """``last seen 5 min ago`` from an ISO timestamp."""
    if not iso:
        return QCoreApplication.translate("DeviceRow", "never seen online")
    try:
        seen = datetime.fromisoformat(iso)
    except ValueError:
        return QCoreApplication.translate("DeviceRow", "last seen a while ago")
    if seen.tzinfo is None:
        seen = seen.replace(tzinfo=UTC)
    seconds = max(0, int(((now or datetime.now(UTC)) - seen).total_seconds()))
    if seconds < 60:
        return QCoreApplication.translate("DeviceRow", "last seen just now")
    if seconds < 3600:
        return QCoreApplication.translate("DeviceRow", "last seen %n min ago", "", seconds // 60)
    if seconds < 86400:
        return QCoreApplication.translate("DeviceRow", "last seen %n h ago", "", seconds // 3600)
    return QCoreApplication.translate("DeviceRow", "last seen %n day(s) ago", "", seconds // 86400)


def installed_note(
    installed: InstalledVersion | None | msgspec.UnsetType, offered: InstallInfo | None
) -> tuple[str, bool] | None:
    """What a device has of the offered app, as the picker says it: ``("Installed", True)``
    when it has this version (or a newer one), ``("Update from 3.5 to 3.6", False)`` when it
    has an older one, None when it has none (or the relay did not say)."""
    if not isinstance(installed, InstalledVersion) or offered is None:
        return None
    have, have_code = installed.version, installed.version_code
    if is_same_or_newer(have, have_code, offered.version, offered.version_code):
        same = (
            have_code == offered.version_code
            if have_code is not None and offered.version_code is not None
            else not (have and offered.version) or compare_versions(have, offered.version) == 0
        )
        if same:
            return QCoreApplication.translate("DeviceRow", "Installed"), True
        return QCoreApplication.translate("DeviceRow", "Has a newer version ({version})").format(version=have), True
    if have and offered.version:
        return QCoreApplication.translate("DeviceRow", "Update from {installed} to {offered}").format(
            installed=have, offered=offered.version
        ), False
    return QCoreApplication.translate("DeviceRow", "Update available"), False


def incompatibility_text(device: Device, offered: InstallInfo | None) -> str:
    """Why ``device`` cannot install the offered app, in the window's language: said again here
    from its platform and the app's formats (``shared.protocol.incompatibility_reason``'s
    sentence), because the relay's ``reason`` is English whatever the window speaks."""
    formats = sorted({f.lower() for f in offered.formats}) if offered is not None else []
    wanted = formats_for(device.platform)
    if formats and wanted and choose_format(device.platform, formats) is None:
        return QCoreApplication.translate(
            "DeviceRow", "{platform} installs {wanted}; this app comes as {formats}"
        ).format(platform=platform_label(device.platform), wanted=", ".join(wanted), formats=", ".join(formats))
    return device.reason or QCoreApplication.translate("DeviceRow", "no package for this device")


def _chip(text: str, name: str = "chip") -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return label


class DeviceRow(QFrame):
    """One device in the picker: its checkbox, model, platform, online state, or why not."""

    toggled = Signal()

    def __init__(self, device: Device, parent: QWidget | None = None, offered: InstallInfo | None = None):
        super().__init__(parent)
        self.setObjectName("deviceRow")
        self.device = device
        self.device_id = device.id
        self.is_friend = device.relation == "friend"
        self.compatible = device.compatible
        self.online = device.online
        self.setProperty("compatible", "true" if self.compatible else "false")
        self.setProperty("checked", "false")

        self.checkbox = QCheckBox(device.name or self.device_id)
        self.checkbox.setEnabled(self.compatible)
        self.checkbox.toggled.connect(self._on_checkbox_toggled)

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.checkbox)
        top.addStretch(1)
        if self.is_friend:
            top.addWidget(_chip(self.tr("{owner}'s device").format(owner=device.owner), "chipFriend"))
        #: ("Installed", True) / ("Update from 3.5 to 3.6", False) / None, from what the device reported.
        self.installed = installed_note(device.installed, offered)
        if self.installed is not None:
            text, current = self.installed
            top.addWidget(_chip(text, "chipInstalled" if current else "chipUpdate"))
        top.addWidget(
            _chip(self.tr("Online"), "chipOnline") if self.online else _chip(self.tr("Offline"), "chipOffline")
        )

        model = " · ".join(x for x in (device.model, platform_label(device.platform)) if x)
        if self.online:
            detail = model
        else:
            detail = f"{model} · {last_seen_text(device.last_seen)}"
        self.detail = QLabel(detail)
        self.detail.setObjectName("deviceDetail")
        self.detail.setIndent(30)  # lines up under the checkbox's text

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 9, 12, 9)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.detail)

        self.note = None
        if self.installed is not None and self.installed[1]:
            # Still selectable (a reinstall), but shown as done, as app stores do.
            self.setProperty("installed", "true")
        # Why it cannot install the app ("" when it can).
        self.reason = "" if self.compatible else incompatibility_text(device, offered)
        if not self.compatible:
            note = self.tr("Can't install it: {reason}").format(reason=self.reason)
        elif not self.online:
            note = self.tr("Offline: the relay keeps the app and delivers it when the device is back.")
        else:
            note = ""
        if note:
            self.note = QLabel(note)
            self.note.setObjectName("deviceReason")
            self.note.setWordWrap(True)
            self.note.setIndent(30)
            layout.addWidget(self.note)
        if not self.compatible:
            self.setToolTip(note)
            self.setCursor(Qt.CursorShape.ForbiddenCursor)
        else:
            self.setCursor(Qt.CursorShape.PointingHandCursor)

    @property
    def checked(self) -> bool:
        """True when this device is chosen."""
        return self.checkbox.isChecked()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # The whole row is the target, not only the small box.
        if self.compatible and event.button() == Qt.MouseButton.LeftButton:
            self.checkbox.toggle()
            event.accept()
            return
        super().mousePressEvent(event)

    def _on_checkbox_toggled(self, checked: bool) -> None:
        self.setProperty("checked", "true" if checked else "false")
        self.style().unpolish(self)
        self.style().polish(self)
        emit(self.toggled)


class DevicePicker(QWidget):
    """The floating picker layer. Signals:

    - ``push_requested(InstallInfo, str mode, list device_ids)``: a send button was pressed.
    - ``save_requested(str url)``: the user wants the package on this computer instead.
    - ``retry_requested()``: ask the relay for the devices again.
    - ``dismissed()``: closed with Esc, the close button or a click outside the card.
    """

    push_requested = Signal(object, str, list)
    save_requested = Signal(str)
    retry_requested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setObjectName("devicePicker")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.info: InstallInfo | None = None
        self.link: PackageLink | None = None
        self.rows: list[DeviceRow] = []
        self._sending = False
        self._uploading = False  # a file from this computer is going up to the relay
        self._icon_url: str | None = None
        self._build()
        self.hide()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.card = QFrame(self)
        self.card.setObjectName("pickerCard")
        shadow = QGraphicsDropShadowEffect(self.card)
        shadow.setBlurRadius(40)
        shadow.setOffset(0, 12)
        shadow.setColor(Qt.GlobalColor.black)
        self.card.setGraphicsEffect(shadow)

        self.icon = QLabel()
        self.icon.setFixedSize(ICON_SIZE, ICON_SIZE)
        self.name_label = QLabel()
        self.name_label.setObjectName("appName")
        self.name_label.setWordWrap(True)
        self.meta_label = QLabel()
        self.meta_label.setObjectName("appMeta")
        self.meta_label.setWordWrap(True)
        self.runtime_label = QLabel()
        self.runtime_label.setObjectName("appRuntime")
        self.runtime_label.setWordWrap(True)
        self.close_button = QPushButton("✕")
        self.close_button.setObjectName("close")
        self.close_button.setToolTip(self.tr("Close (Esc)"))
        self.close_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.close_button.clicked.connect(self.dismiss)

        text = QVBoxLayout()
        text.setSpacing(3)
        text.addWidget(self.name_label)
        text.addWidget(self.meta_label)
        text.addWidget(self.runtime_label)
        header = QHBoxLayout()
        header.setSpacing(16)
        header.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        header.addLayout(text, 1)
        header.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)

        rule = QFrame()
        rule.setFrameShape(QFrame.Shape.HLine)
        rule.setStyleSheet("color: #e2e8f0;")

        section = QHBoxLayout()
        title = QLabel(self.tr("SEND TO"))
        title.setObjectName("sectionTitle")
        self.hint_label = QLabel(self.tr("Choose one or more devices"))
        self.hint_label.setObjectName("pickerHint")
        section.addWidget(title)
        section.addStretch(1)
        section.addWidget(self.hint_label)

        self.status_label = QLabel()
        self.status_label.setObjectName("pickerStatus")
        self.status_label.setWordWrap(True)
        self.retry_button = QPushButton(self.tr("Try again"))
        self.retry_button.setObjectName("link")
        self.retry_button.clicked.connect(self.retry_requested)
        self.retry_button.hide()

        self.device_list = QWidget()
        self.device_layout = QVBoxLayout(self.device_list)
        self.device_layout.setContentsMargins(0, 0, 0, 0)
        self.device_layout.setSpacing(8)
        self.device_layout.addStretch(1)  # rows keep their natural height; spare room stays below
        self.device_scroll = QScrollArea()
        self.device_scroll.setWidgetResizable(True)
        self.device_scroll.setWidget(self.device_list)
        self.device_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.device_scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.error_label = QLabel()
        self.error_label.setObjectName("pickerError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()

        self.save_button = QPushButton(self.tr("Download to this computer"))
        self.save_button.setObjectName("link")
        self.save_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.notify_button = QPushButton(self.tr("Send, I'll install it myself"))
        self.notify_button.clicked.connect(lambda: self._on_send_clicked(PushMode.NOTIFY))
        self.install_button = QPushButton(self.tr("Install now on my device"))
        self.install_button.setObjectName("primary")
        self.install_button.clicked.connect(lambda: self._on_send_clicked(PushMode.INSTALL_NOW))
        for button in (self.notify_button, self.install_button):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        buttons.addStretch(1)
        buttons.addWidget(self.notify_button)
        buttons.addWidget(self.install_button)
        # Why "Install now" is off, in words on the card: a greyed button alone explains nothing.
        self.install_note = QLabel()
        self.install_note.setObjectName("pickerNote")
        self.install_note.setWordWrap(True)
        self.install_note.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.install_note.hide()
        self.save_hint = QLabel(self.tr("Not for a phone?"))
        self.save_hint.setObjectName("pickerHint")
        # Where the package comes from sits at the end of the last line, so the header keeps
        # to its three lines and the device list gets the room.
        self.source_label = QLabel()
        self.source_label.setObjectName("pickerHint")
        self.source_label.hide()
        footer = QHBoxLayout()
        footer.setSpacing(4)
        footer.addWidget(self.save_hint)
        footer.addWidget(self.save_button)
        footer.addStretch(1)
        footer.addWidget(self.source_label)

        # The app and the devices; this part scrolls as a whole only when even a short device
        # list cannot fit (a very small window). The buttons below it always stay in sight.
        self.body = QWidget()
        self.body_layout = body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(12)
        body.addLayout(header)
        body.addWidget(rule)
        body.addLayout(section)
        body.addWidget(self.status_label)
        body.addWidget(self.retry_button, 0, Qt.AlignmentFlag.AlignLeft)
        body.addWidget(self.device_scroll, 1)
        body.addWidget(self.error_label)
        self.body_scroll = QScrollArea()
        self.body_scroll.setWidgetResizable(True)
        self.body_scroll.setWidget(self.body)
        self.body_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body_scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.card_layout = layout = QVBoxLayout(self.card)
        layout.setContentsMargins(24, 22, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.body_scroll, 1)
        layout.addWidget(self.install_note)
        layout.addLayout(buttons)
        layout.addLayout(footer)

    def reposition(self, area: QRect) -> None:
        """Cover ``area`` (the browser, in parent coordinates) and centre the card in it."""
        self.setGeometry(area)
        self._place_card()

    def _place_card(self) -> None:
        """Size the card to what it shows: the device list gets all the height the rest leaves
        (every row when they fit), and only when not even a short list fits does the upper
        part scroll as a whole."""
        width = min(CARD_WIDTH, max(320, self.width() - 2 * EDGE - 16))
        self.card.setFixedWidth(width)
        available = max(200, self.height() - 2 * EDGE)
        margins = self.card_layout.contentsMargins()
        inner = width - margins.left() - margins.right()
        # What the buttons, the footer and the card's margins take, with no body at all.
        self.body_scroll.setFixedHeight(0)
        pinned = _height_for(self.card_layout, width)
        # What the app's header and the section line take, with no device list.
        self.device_scroll.setFixedHeight(0)
        self.device_scroll.setVisible(bool(self.rows))
        body = _height_for(self.body_layout, inner)
        rows_height = _height_for(self.device_layout, inner) if self.rows else 0
        room = available - pinned - body
        list_height = min(rows_height, max(MIN_LIST_HEIGHT, room)) if self.rows else 0
        self.device_scroll.setFixedHeight(list_height)
        self.body_scroll.setFixedHeight(min(body + list_height, available - pinned))
        self.card.setFixedHeight(min(pinned + body + list_height, available))
        top = max(EDGE, min(int(self.height() * 0.10), self.height() - self.card.height() - EDGE))
        self.card.move((self.width() - width) // 2, top)

    # ------------------------------------------------------------------ showing

    def open_for(self, info: InstallInfo, link: PackageLink | None = None) -> None:
        """Show the picker at once with what is known; devices follow via ``set_devices``."""
        self.link = link
        self._sending = False
        self._uploading = False
        self.set_info(info)
        self.set_loading()
        self.error_label.hide()
        self.show()
        self.raise_()
        self.setFocus(Qt.FocusReason.PopupFocusReason)

    def set_info(self, info: InstallInfo) -> None:
        """Show (or refresh, once the page's JSON-LD is read) the app's install information."""
        self.info = info
        self.name_label.setText(info.name or info.id)
        meta = []
        if info.version:
            meta.append(self.tr("Version {version}").format(version=info.version))
        size = self._clicked_size(info)
        if size:
            meta.append(local_size(size))
        if info.formats:
            meta.append(", ".join(f.upper() for f in info.formats))
        self.meta_label.setText(" · ".join(meta) or info.id)
        source = urlsplit(self.link.page_url or self.link.url).netloc if self.link else ""
        self.source_label.setText(self.tr("from {site}").format(site=source) if source else "")
        self.source_label.setToolTip(self.link.page_url or self.link.url if self.link else "")
        self.source_label.setVisible(bool(source))
        self.runtime_label.setText(
            self.tr("Runs on {runtime}").format(runtime=info.runtime) if info.runtime else info.id
        )
        if info.icon_url != self._icon_url or self.icon.pixmap().isNull():
            self._icon_url = info.icon_url
            self.icon.setPixmap(letter_icon(info.name or info.id, ICON_SIZE))
        self._place_card()

    def _clicked_size(self, info: InstallInfo) -> int | None:
        """The size of the package the user clicked (an app's formats differ in size); the
        app's own size only when there is no better answer."""
        clicked = self.link.format if self.link else None
        for ref in info.packages:
            if ref.format == clicked and ref.size:
                return ref.size
        if clicked and self.link is not None and self.link.total_bytes:
            return self.link.total_bytes
        if len(info.packages) <= 1 and info.size:
            return info.size
        return next((p.size for p in info.packages if p.size), None) if not clicked else None

    def set_icon(self, pixmap: QPixmap, url: str | None = None) -> None:
        """Show the app's real icon (fetched in the background)."""
        if url is not None and url != self._icon_url:
            return  # a late icon for an app the picker no longer shows
        if not pixmap.isNull():
            self.icon.setPixmap(rounded(pixmap, ICON_SIZE))

    def set_loading(self) -> None:
        """Say the device list is on its way."""
        self._clear_rows()
        self._show_status(self.tr("Asking the relay for your devices…"))
        self._update_buttons()

    def set_relay_error(self, message: str, detail: str = "") -> None:
        """The relay could not answer: say so, keep the page usable, offer to retry or save."""
        self._clear_rows()
        # ``message`` is already a whole sentence ("Can't reach the relay at ...: nothing answers
        # there. Is it running?"); a prefix of our own would only say "Can't" twice.
        self._show_status(message, retry=True)
        self.status_label.setToolTip(detail)
        self._update_buttons()

    def set_problem(self, message: str) -> None:
        """Nothing can be sent (not a package): say why; only closing or saving remain."""
        self._clear_rows()
        self._show_status(message)
        self._update_buttons()

    def set_devices(self, devices: Sequence[Device]) -> None:
        """Fill the device list: the devices that can take the app first (own, then friends'),
        then those that cannot."""
        self._clear_rows()
        # Greyed rows go last, after friends' devices: what can be chosen comes first, so a
        # short list shows it without scrolling.
        ordered = sorted(devices, key=lambda d: (not d.compatible, d.relation == "friend", not d.online, d.name))
        for device in ordered:
            row = DeviceRow(device, self.device_list, offered=self.info)
            row.toggled.connect(self._update_buttons)
            row.toggled.connect(lambda row=row: self._reveal(row) if row.checked else None)
            self.device_layout.insertWidget(self.device_layout.count() - 1, row)
            self.rows.append(row)
        compatible = [r for r in self.rows if r.compatible]
        if not self.rows:
            self._show_status(
                self.tr(
                    "You have no other devices yet. Install the Appbeam receiver on your phone and log in "
                    "with the same account, or download the app to this computer instead."
                )
            )
        elif not compatible:
            reasons = sorted({r.reason for r in self.rows} - {""})
            if reasons:
                text = self.tr(
                    "None of your devices can install this app ({reasons}). "
                    "You can download it to this computer instead."
                ).format(reasons="; ".join(reasons))
            else:
                text = self.tr(
                    "None of your devices can install this app. You can download it to this computer instead."
                )
            self._show_status(text)
        else:
            self._show_status("")
            if len(compatible) == 1:
                compatible[0].checkbox.setChecked(True)  # the obvious choice, still visible and changeable
        self._update_buttons()
        self._place_card()
        chosen = next((r for r in self.rows if r.checked), None)
        if chosen is not None:
            self._reveal(chosen)

    def set_sending(self, sending: bool) -> None:
        """Disable the controls while a push is on its way to the relay."""
        self._sending = sending
        self.install_button.setText(self.tr("Sending…") if sending else self.tr("Install now on my device"))
        self._update_buttons()

    def set_upload_progress(self, done: int, total: int | None) -> None:
        """A file from this computer is going up to the relay before it is pushed."""
        self._uploading = True
        if total and 0 < done < total:
            percent = local_percent(done * 100 // total)
            self._show_status(
                self.tr("Uploading {size} to your relay… {percent}").format(size=local_size(total), percent=percent)
            )
            self.install_button.setText(self.tr("Uploading… {percent}").format(percent=percent))
        elif total and done >= total:
            self._show_status(self.tr("Uploaded {size}. Sending…").format(size=local_size(total)))
            self.install_button.setText(self.tr("Sending…"))
        else:
            self._show_status(
                self.tr("Uploading {size} to your relay…").format(size=local_size(total))
                if total
                else self.tr("Uploading to your relay…")
            )
            self.install_button.setText(self.tr("Uploading…"))

    def set_send_error(self, message: str) -> None:
        """The relay refused the push: say why and let the user try again."""
        if self._uploading:
            self._uploading = False
            self._show_status("")
        self.set_sending(False)
        self.error_label.setText(self.tr("Not sent: {reason}").format(reason=message))
        self.error_label.show()
        self._place_card()

    def dismiss(self) -> None:
        """Close the picker without sending."""
        if self.isVisible():
            self.hide()
            emit(self.dismissed)

    # ------------------------------------------------------------------ state

    def selected_device_ids(self) -> list[str]:
        """Ids of the chosen devices that can take the app."""
        return [r.device_id for r in self.rows if r.checked and r.compatible]

    def row_for(self, device_id: str) -> DeviceRow | None:
        """The row of one device, or None."""
        return next((r for r in self.rows if r.device_id == device_id), None)

    def _clear_rows(self) -> None:
        for row in self.rows:
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        self.device_scroll.hide()

    def _show_status(self, text: str, retry: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip("")
        self.status_label.setVisible(bool(text))
        self.retry_button.setVisible(retry)
        self._place_card()

    def _reveal(self, row: DeviceRow) -> None:
        """Scroll the device list (and the card, when it scrolls) so ``row`` is in sight: a chosen
        device must never be one the user cannot see. Again once the rows are laid out."""

        def scroll() -> None:
            if row in self.rows:
                self.device_scroll.ensureWidgetVisible(row, 0, 0)
                self.body_scroll.ensureWidgetVisible(self.device_scroll, 0, 0)

        self.device_layout.activate()
        scroll()
        QTimer.singleShot(0, self.device_scroll, scroll)  # dropped if the picker is gone by then

    def _update_buttons(self) -> None:
        selected = [r for r in self.rows if r.checked and r.compatible]
        friend_selected = any(r.is_friend for r in selected)
        can_send = bool(selected) and not self._sending and self.info is not None
        self.notify_button.setEnabled(can_send)
        self.install_button.setEnabled(can_send and not friend_selected)
        note = self.tr(FRIEND_INSTALL_NOW_TIP) if can_send and friend_selected else ""
        if note != self.install_note.text() or bool(note) != self.install_note.isVisibleTo(self.card):
            self.install_note.setText(note)
            self.install_note.setVisible(bool(note))
            self._place_card()
        self.install_button.setToolTip(
            self.tr(FRIEND_INSTALL_NOW_TIP)
            if friend_selected
            else self.tr("The device downloads and installs it right away.")
        )
        self.notify_button.setToolTip(self.tr("The device shows a notice; you install it when you choose."))
        has_compatible = any(r.compatible for r in self.rows)
        # No device can take it: downloading here becomes the main way forward.
        self.save_button.setObjectName("primary" if self.rows and not has_compatible else "link")
        self.save_button.style().unpolish(self.save_button)
        self.save_button.style().polish(self.save_button)
        self.save_button.setEnabled(self._save_url() is not None and not self._sending)
        if selected:
            self.hint_label.setText(self.tr("%n selected", "", len(selected)))
        else:
            self.hint_label.setText(self.tr("Choose one or more devices"))

    def _save_url(self) -> str | None:
        if self.link and self.link.url:
            return self.link.url
        if self.info and self.info.packages:
            return self.info.packages[0].url
        return None

    # ------------------------------------------------------------------ events

    def _on_send_clicked(self, mode: PushMode) -> None:
        ids = self.selected_device_ids()
        if not ids or self.info is None or self._sending:
            return
        if mode is PushMode.INSTALL_NOW and any(r.is_friend for r in self.rows if r.device_id in ids):
            return  # the button is disabled; this guards programmatic clicks too
        self.error_label.hide()
        self.set_sending(True)
        emit(self.push_requested, self.info, str(mode), ids)

    def _on_save_clicked(self) -> None:
        url = self._save_url()
        if url:
            self.hide()
            emit(self.save_requested, url)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), DIM)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if not self.card.geometry().contains(event.position().toPoint()):
            self.dismiss()
        event.accept()

    def wheelEvent(self, event: QWheelEvent) -> None:
        event.accept()  # the page under the layer does not scroll

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.dismiss()
            event.accept()
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        # Esc must close the layer even when a checkbox or button inside has the focus.
        if (
            event.type() == QEvent.Type.ShortcutOverride
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            event.accept()
            return True
        return super().event(event)


def _height_for(layout: QLayout, width: int) -> int:
    """The height ``layout`` needs at ``width``, counting labels that wrap (a plain size hint
    guesses their width and gets the height wrong)."""
    layout.activate()
    if layout.hasHeightForWidth():
        return layout.totalHeightForWidth(width)
    return layout.totalSizeHint().height()
