"""The sender's window: navigation toolbar, the browser, the floating picker, the Pushes dock."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence, QResizeEvent
from PySide6.QtWebEngineCore import QWebEngineLoadingInfo, QWebEnginePage, QWebEngineProfile
from PySide6.QtWidgets import QLabel, QLineEdit, QMainWindow, QSizePolicy, QStatusBar, QToolBar, QWidget

from desktop_sender.browser import BrowserView
from desktop_sender.downloads_bar import DownloadsIndicator
from desktop_sender.notice import SentNotice
from desktop_sender.picker import DevicePicker
from desktop_sender.pushes_panel import PushesPanel
from desktop_sender.signals import emit

# The address bar's least width, in pixels: room for "http://192.168.1.20:8765/".
ADDRESS_MIN_WIDTH = 184
# Below this window width the toolbar's buttons take less padding, so the address keeps its
# room and no button falls into the toolbar's overflow menu.
COMPACT_TOOLBAR_BELOW = 1100
#: Chromium's net::ERR_ABORTED: a navigation that was stopped (it became a download, or the user
#: stopped it), which is no failure to report.
_ABORTED = -3


class MainWindow(QMainWindow):
    """The browser window. Owns the widgets; the controller (``app``) owns the behaviour.

    ``account_clicked()``: the account chip was clicked (to sign in again or switch relay).
    """

    account_clicked = Signal()
    add_phone_clicked = Signal()
    people_clicked = Signal()
    files_chosen = Signal(list)  # paths of packages dropped on the window or picked with Send a file

    def __init__(self, profile: QWebEngineProfile, home_url: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Appbeam"))
        self.resize(1280, 820)
        self.home_url = home_url
        self.setAcceptDrops(True)  # drop a package file on the window to send it

        self.browser = BrowserView(profile, self)
        self.setCentralWidget(self.browser)
        self._build_toolbar()

        self.pushes_panel = PushesPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.pushes_panel)
        self.resizeDocks([self.pushes_panel], [340], Qt.Orientation.Horizontal)
        toggle = self.pushes_panel.toggleViewAction()
        toggle.setText(self.tr("Pushes"))
        toggle.setToolTip(self.tr("Show or hide the Pushes panel (Ctrl+P)"))
        toggle.setShortcut(QKeySequence("Ctrl+P"))
        self.toolbar.addAction(toggle)
        self.toolbar.widgetForAction(toggle).setObjectName("pushesToggle")
        self.pushes_action = toggle

        self.downloads_indicator = DownloadsIndicator(self)
        status = QStatusBar(self)
        status.addPermanentWidget(self.downloads_indicator)
        self.setStatusBar(status)

        # Overlays: children of the window, outside any layout, placed by hand over the browser.
        self.picker = DevicePicker(self)
        self.notice = SentNotice(self)
        self.notice.show_pushes_clicked.connect(self.show_pushes)
        self.picker.dismissed.connect(self._on_picker_dismissed)
        self.browser.installEventFilter(self)

        self.browser.urlChanged.connect(self._on_url_changed)
        self.browser.page().loadingChanged.connect(self._on_loading_changed)
        self.browser.page().titleChanged.connect(self._on_title_changed)

    def _build_toolbar(self) -> None:
        bar = QToolBar(self.tr("Navigation"), self)
        bar.setObjectName("navigation")
        bar.setMovable(False)
        bar.setFloatable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar
        page = self.browser.page()

        def nav(text: str, tip: str, web_action: QWebEnginePage.WebAction) -> QAction:
            action = page.action(web_action)
            action.setText(text)
            action.setToolTip(tip)
            action.setIcon(QAction().icon())  # text glyphs read better than the platform icons here
            bar.addAction(action)
            return action

        self.back_action = nav("←", self.tr("Back (Alt+Left)"), QWebEnginePage.WebAction.Back)
        self.back_action.setShortcut(QKeySequence.StandardKey.Back)
        self.forward_action = nav("→", self.tr("Forward (Alt+Right)"), QWebEnginePage.WebAction.Forward)
        self.forward_action.setShortcut(QKeySequence.StandardKey.Forward)
        self.reload_action = nav("⟳", self.tr("Reload (F5)"), QWebEnginePage.WebAction.Reload)
        self.reload_action.setShortcut(QKeySequence.StandardKey.Refresh)
        self.home_action = QAction("⌂", self)
        self.home_action.setToolTip(self.tr("The relay's store"))
        self.home_action.triggered.connect(self.go_home)
        bar.addAction(self.home_action)

        self.address = QLineEdit()
        self.address.setObjectName("address")
        self.address.setPlaceholderText(self.tr("Search the store or type an address"))
        self.address.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # Wide enough for a relay's address ("http://192.168.1.20:8765/"): where a download
        # comes from must stay readable in a small window.
        self.address.setMinimumWidth(ADDRESS_MIN_WIDTH)
        self.address.returnPressed.connect(self._on_address_entered)
        self.address.installEventFilter(self)
        bar.addWidget(self.address)

        self.account_label = QLabel(self.tr("Not signed in"))
        self.account_label.setObjectName("account")
        self.account_label.setToolTip(self.tr("The account and the name of this computer on the relay"))
        self.account_label.installEventFilter(self)
        bar.addWidget(self.account_label)

        self.send_file_action = QAction(self.tr("Send a file"), self)
        self.send_file_action.setToolTip(self.tr("Send an app package on this computer (or drop it on the window)"))
        self.send_file_action.triggered.connect(self._choose_file)
        bar.addAction(self.send_file_action)
        bar.widgetForAction(self.send_file_action).setObjectName("addPhone")  # same look

        self.add_phone_action = QAction(self.tr("Add a phone"), self)
        self.add_phone_action.setToolTip(
            self.tr("Sign a phone or tablet in to this account with a QR code, no password")
        )
        self.add_phone_action.triggered.connect(lambda: emit(self.add_phone_clicked))
        bar.addAction(self.add_phone_action)
        bar.widgetForAction(self.add_phone_action).setObjectName("addPhone")

        self.people_action = QAction(self.tr("People"), self)
        self.people_action.setToolTip(self.tr("Friends, invitations and your devices (rename, remove)"))
        self.people_action.triggered.connect(lambda: emit(self.people_clicked))
        bar.addAction(self.people_action)
        bar.widgetForAction(self.people_action).setObjectName("addPhone")  # same look

    # ------------------------------------------------------------------ navigation

    def navigate(self, text: str) -> None:
        """Open an address (``http://`` added when missing) or search the store for words."""
        text = text.strip()
        if not text:
            return
        words = " " in text or ("." not in text and ":" not in text and "/" not in text)
        if words and self.home_url:
            url = QUrl(self.home_url)
            url.setPath("/")
            url.setQuery(f"q={bytes(QUrl.toPercentEncoding(text).data()).decode()}")
            self.browser.load(url)
            return
        url = QUrl.fromUserInput(text)
        if url.isValid():
            self.browser.load(url)

    def go_home(self) -> None:
        """Open the relay's store."""
        if self.home_url:
            self.browser.load(QUrl(self.home_url))

    def set_account(self, username: str, device_name: str, problem: str = "") -> None:
        """Show who is signed in and as which device (or why nobody is: in the tooltip)."""
        self.account_label.setText(f"{username} · {device_name}" if username else self.tr("Not signed in"))
        self.account_label.setToolTip(problem or self.tr("The account and the name of this computer on the relay"))

    def show_pushes(self) -> None:
        """Show the Pushes panel."""
        self.pushes_panel.show()
        self.pushes_panel.raise_()

    # ------------------------------------------------------------------ overlays

    def browser_area(self) -> QRect:
        """The browser's rectangle in window coordinates: where the overlays float."""
        top_left = self.browser.mapTo(self, QPoint(0, 0))
        return QRect(top_left, self.browser.size())

    def reposition_overlays(self) -> None:
        """Keep the picker and the notice over the browser after a resize."""
        area = self.browser_area()
        if self.picker.isVisible():
            self.picker.reposition(area)
        if self.notice.isVisible():
            self.notice.reposition(area)

    def show_picker(self) -> None:
        """Place the picker over the browser (it shows itself via ``open_for``)."""
        self.picker.reposition(self.browser_area())

    def show_notice(self, text: str) -> None:
        """Show the after-sending notice at the bottom of the browser."""
        self.notice.show_message(text, self.browser_area())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._set_compact_toolbar(event.size().width() < COMPACT_TOOLBAR_BELOW)
        super().resizeEvent(event)
        self.reposition_overlays()

    def _set_compact_toolbar(self, compact: bool) -> None:
        """Tighter toolbar buttons in a small window (style.py's ``[compact="true"]`` rules)."""
        value = "true" if compact else "false"
        if self.toolbar.property("compact") == value:
            return
        self.toolbar.setProperty("compact", value)
        for widget in (self.toolbar, *self.toolbar.findChildren(QWidget)):
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The browser also changes size when the dock is shown or hidden: follow it.
        if watched is self.browser and event.type() in (QEvent.Type.Resize, QEvent.Type.Move):
            self.reposition_overlays()
        elif watched is self.address:
            if event.type() == QEvent.Type.FocusOut:
                self.address.setCursorPosition(0)  # back to the scheme and the host once the user is done
        elif watched is self.account_label and event.type() == QEvent.Type.MouseButtonRelease:
            emit(self.account_clicked)
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ files from this computer

    def _choose_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        paths, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Send an app to your phone"),
            "",
            self.tr("App packages ({patterns});;All files (*)").format(
                patterns="*.apk *.ipa *.deb *.xap *.sis *.sisx *.pxl *.AppImage *.msi *.exe"
            ),
        )
        if paths:
            emit(self.files_chosen, paths)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            emit(self.files_chosen, paths)
        else:
            super().dropEvent(event)

    # ------------------------------------------------------------------ slots

    def _on_picker_dismissed(self) -> None:
        self.return_focus_to_page()

    def close_picker(self) -> None:
        """Hide the picker after a send, giving the page its keys back."""
        self.picker.hide()
        self.return_focus_to_page()

    def return_focus_to_page(self) -> None:
        """Keys go back to the page, as before the picker opened, without leaving a focus ring
        on whatever element the page had focused when the picker took over."""
        self.browser.setFocus()
        self.browser.page().runJavaScript(
            "document.activeElement && document.activeElement.blur && document.activeElement.blur();"
        )

    def _on_address_entered(self) -> None:
        self.navigate(self.address.text())

    def _on_url_changed(self, url: QUrl) -> None:
        self.show_address(url.toString())

    def show_address(self, text: str) -> None:
        """Put the page's address in the bar, showing its start (the scheme and the host: where a
        download comes from), not its end, unless the user is typing in it."""
        self.address.setText(text)
        if not self.address.hasFocus():
            self.address.setCursorPosition(0)

    def _on_loading_changed(self, info: QWebEngineLoadingInfo) -> None:
        if info.status() != QWebEngineLoadingInfo.LoadStatus.LoadFailedStatus:
            return
        # The address bar shows the page that is really there (a link that turned out to be a
        # download, or a failed load, must not leave its own address behind).
        self.show_address(self.browser.url().toString())
        if info.isDownload() or info.errorCode() == _ABORTED:
            return  # a package link became a push (or a download): nothing failed
        self.statusBar().showMessage(
            self.tr("The page could not be loaded. Check the address and your connection."), 8000
        )

    def _on_title_changed(self, title: str) -> None:
        self.setWindowTitle(self.tr("{page} – Appbeam").format(page=title) if title else self.tr("Appbeam"))
