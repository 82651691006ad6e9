"""Packages are checked for what they claim to be before the sender pushes them; a package on
this computer (file://) shows the app's own name and version, not the page that was open.

Every package here is made by the test (relay_server.demo_catalog.build_package)."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import Qt

from relay_server.demo_catalog import build_package
from tests.sender.sender_helpers import WAIT_MS

NOTES_APK = build_package("apk", "org.example.notes", "Notes", "3.0", 30, size=40_000)
LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Sign in</title></head><body><form action='/login'>"
    "<input name='user'><input type='password'><button>Sign in</button></form></body></html>"
)


def page(body: str) -> str:
    return f"<!doctype html><html><head><meta charset='utf-8'><title>Downloads</title></head><body>{body}</body></html>"


def _wait_for_picker(sender, ready) -> None:
    sender.qtbot.waitUntil(
        lambda: sender.picker.isVisible() and sender.picker.info is not None and ready(), timeout=WAIT_MS
    )


def test_a_local_apk_shows_its_own_name_and_version_and_is_pushed_as_that_file(sender, accounts, tmp_path):
    """A file with a name that says nothing: its manifest says what it is. A phone cannot fetch a
    file from this computer, so the file goes up to the relay and the push names the relay's copy
    (the very file, even though the relay's store has another F-Droid)."""
    path = tmp_path / "download (1).apk"
    path.write_bytes(build_package("apk", "org.fdroid.fdroid", "F-Droid", "1.20.0", 1020050, size=40_000))
    store_page = sender.window.browser.url().toString()

    sender.window.navigate(path.as_uri())
    picker = sender.picker
    _wait_for_picker(sender, lambda: bool(picker.rows))

    assert picker.info.id == "org.fdroid.fdroid"
    assert picker.name_label.text() == "F-Droid"
    meta = picker.meta_label.text()
    assert "Version 1.20.0" in meta and "?" not in meta
    assert "from" not in meta, "a file on this computer comes from no web site"
    assert "not an app package" not in picker.status_label.text()
    # The address bar shows the page that is really there, not the file's address.
    sender.qtbot.waitUntil(lambda: sender.window.address.text() == store_page, timeout=WAIT_MS)
    assert "could not be loaded" not in sender.window.statusBar().currentMessage()

    picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)
    (push,) = sender.send(picker.install_button)
    assert (push.app.id, push.app.name, push.app.version) == (
        "org.fdroid.fdroid",
        "F-Droid",
        "1.20.0",
    )
    assert push.package.format == "apk"
    assert push.package.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert push.package.url == f"/api/v1/packages/{push.package.sha256}"


def test_a_local_web_page_named_apk_is_refused_with_the_reason(sender, tmp_path):
    path = tmp_path / "fake.apk"
    path.write_text(LOGIN_PAGE)
    refused = []
    sender.app.interceptor.package_refused.connect(lambda link, why: refused.append((link.url, why)))

    sender.window.navigate(path.as_uri())
    sender.qtbot.waitUntil(lambda: bool(refused), timeout=WAIT_MS)

    assert refused == [
        (path.as_uri(), "This file is a web page, not an Android app (apk). The site may need you to sign in first.")
    ]
    assert sender.sent == []


def test_a_link_to_a_real_apk_without_install_information_is_pushed_as_that_app(sender, site, accounts):
    site.write("notesapp-3.0.apk", NOTES_APK)
    sender.load(site.write("plain.html", page("<a id='apk' href='notesapp-3.0.apk'>Get Notes</a>")))
    sender.open_picker_by_click("#apk")
    sender.picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)

    (push,) = sender.send(sender.picker.install_button)

    app = push.app
    assert (app.id, app.name, app.version, app.version_code) == ("org.example.notes", "Notes", "3.0", 30)
    (received,) = [p for p in accounts.phone.pushes("received") if p.id == push.id]
    assert received.app.name == "Notes" and received.package.sha256
    assert "could not be loaded" not in sender.window.statusBar().currentMessage()


def test_a_web_page_served_as_apk_is_not_pushed_and_the_picker_says_why(sender, site, accounts):
    site.write("fake.apk", LOGIN_PAGE)
    sender.load(site.write("plain.html", page("<a id='apk' href='fake.apk'>Get the app</a>")))
    sender.open_picker_by_click("#apk")
    picker = sender.picker
    picker.row_for(accounts.ids["phone"]).checkbox.setChecked(True)

    sender.qtbot.mouseClick(picker.install_button, Qt.MouseButton.LeftButton)
    sender.qtbot.waitUntil(picker.error_label.isVisible, timeout=WAIT_MS)

    assert picker.error_label.text() == (
        "Not sent: This file is a web page, not an Android app (apk). The site may need you to sign in first."
    )
    assert sender.sent == []
    assert [p for p in accounts.phone.pushes("received") if p.app.id == "fake"] == []


# --------------------------------------------------------------------------- without a window


def test_a_file_url_names_a_file_on_this_computer(tmp_path):
    from desktop_sender.install_info import is_local, local_path

    path = tmp_path / "my notes 3.0.apk"
    assert local_path(path.as_uri()) == path
    assert is_local(path.as_uri())
    assert local_path("http://127.0.0.1:8765/files/a/notes.apk") is None
    assert local_path("file://otherhost/share/notes.apk") is None  # a network share is not this computer


def test_a_local_package_gives_install_information_from_its_own_manifest(tmp_path):
    from desktop_sender.install_info import PackageLink, info_from_link, local_package_problem

    path = tmp_path / "notesapp-3.0.apk"
    path.write_bytes(NOTES_APK)
    link = PackageLink(url=path.as_uri(), file_name=path.name)
    info = info_from_link(link)
    assert (info.id, info.name, info.version, info.version_code) == ("org.example.notes", "Notes", "3.0", 30)
    assert info.size == len(NOTES_APK)
    assert info.packages == ()  # a phone cannot fetch a file:// URL: the sender uploads it when it pushes
    assert local_package_problem(link) is None


def test_a_local_file_that_is_no_package_keeps_the_guess_and_says_why(tmp_path):
    from desktop_sender.install_info import PackageLink, info_from_link, local_package_problem

    path = tmp_path / "fake.apk"
    path.write_text(LOGIN_PAGE)
    link = PackageLink(url=path.as_uri(), file_name=path.name)
    assert info_from_link(link).id == "fake"
    assert local_package_problem(link) == (
        "This file is a web page, not an Android app (apk). The site may need you to sign in first."
    )
    path.unlink()
    assert local_package_problem(link) == "fake.apk is no longer on this computer."
