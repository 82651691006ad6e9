"""The status-bar indicator for normal (saved) downloads: name, progress, where it went."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from desktop_sender.downloads import SavedDownload
from desktop_sender.i18n.formats import local_size


class DownloadsIndicator(QWidget):
    """Shows the latest saved download's progress, then where the file was saved."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(140)
        self.bar.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 8, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        self.current: SavedDownload | None = None
        self.hide()

    def track(self, download: SavedDownload) -> None:
        """Follow ``download`` until it is saved or fails."""
        self.current = download
        download.progress_changed.connect(lambda done, total, d=download: self._on_progress(d, done, total))
        download.finished.connect(lambda path, d=download: self._on_finished(d, path))
        download.failed.connect(lambda reason, d=download: self._on_failed(d, reason))
        self.label.setText(self.tr("Saving {file}…").format(file=download.file_name))
        self.bar.setRange(0, 0)
        self.bar.show()
        self.show()

    def _on_progress(self, download: SavedDownload, done: int, total: int) -> None:
        if download is not self.current:
            return
        if total > 0:
            self.bar.setRange(0, 100)
            self.bar.setValue(int(done * 100 / total))
            self.label.setText(
                self.tr("Saving {file}: {done} of {total}").format(
                    file=download.file_name, done=local_size(done), total=local_size(total)
                )
            )

    def _on_finished(self, download: SavedDownload, path: str) -> None:
        if download is self.current:
            self.bar.hide()
            self.label.setText(self.tr("Saved {file} to {folder}").format(file=download.file_name, folder=path))

    def _on_failed(self, download: SavedDownload, reason: str) -> None:
        if download is self.current:
            self.bar.hide()
            self.label.setText(
                self.tr("Download of {file} failed: {reason}").format(file=download.file_name, reason=reason)
            )
