"""The Android QR scanner stub (pairing) against fake ``jnius`` and ``android`` modules: the calls
it makes, not that Android accepts them (untested on a device)."""

from __future__ import annotations

import sys
import types

import pytest

from mobile_receiver.platform import android as droid
from mobile_receiver.platform import choose


class JavaException(Exception):
    pass


class FakePhone:
    def __init__(self, has_scanner_app: bool = True):
        self.has_scanner_app = has_scanner_app
        self.started = []
        self.bound = []
        phone = self

        class Intent:
            def __init__(self, action):
                self.action, self.extras = action, {}

            def putExtra(self, key, value):
                self.extras[key] = value

            def getStringExtra(self, key):
                return self.extras.get(key)

        class Activity:
            def startActivityForResult(self, intent, code):
                if not phone.has_scanner_app:
                    raise JavaException("android.content.ActivityNotFoundException")
                phone.started.append((intent, code))

        class PythonActivity:
            mActivity = Activity()

        self.Intent = Intent
        self.classes = {"android.content.Intent": Intent, "org.kivy.android.PythonActivity": PythonActivity}

    def modules(self):
        jnius = types.ModuleType("jnius")
        jnius.JavaException = JavaException
        jnius.autoclass = lambda name: self.classes[name]
        android = types.ModuleType("android")
        android.activity = types.SimpleNamespace(bind=lambda **handlers: self.bound.append(handlers))
        return jnius, android

    def answer(self, result_code, text=None, request_code=droid.SCAN_REQUEST):
        intent = self.Intent("result")
        if text is not None:
            intent.putExtra("SCAN_RESULT", text)
        for handlers in self.bound:
            handlers["on_activity_result"](request_code, result_code, intent)


@pytest.fixture
def phone(monkeypatch, tmp_path):
    fake = FakePhone()
    jnius, android = fake.modules()
    monkeypatch.setitem(sys.modules, "jnius", jnius)
    monkeypatch.setitem(sys.modules, "android", android)
    monkeypatch.setenv("ANDROID_ARGUMENT", str(tmp_path))
    return fake


def test_android_has_a_camera_scanner_and_the_desktop_has_none(phone, tmp_path, monkeypatch):
    assert isinstance(choose(tmp_path, "android").scanner, droid.AndroidQrScanner)
    monkeypatch.delenv("ANDROID_ARGUMENT")
    assert choose(tmp_path, "android").scanner is None  # a desktop receiver opens a picture instead


def test_a_scan_asks_for_a_qr_code_and_hands_its_text_on(phone):
    results = []
    scanner = droid.AndroidQrScanner()
    scanner.scan(results.append)
    ((intent, code),) = phone.started
    assert intent.action == "com.google.zxing.client.android.SCAN" and intent.extras == {"SCAN_MODE": "QR_CODE_MODE"}
    assert code == droid.SCAN_REQUEST
    phone.answer(
        droid.RESULT_OK, "not ours", request_code=droid.SCAN_REQUEST + 1
    )  # another activity's result is not ours
    assert results == []
    phone.answer(droid.RESULT_OK, "appbeam://pair?relay=http%3A%2F%2Fr&code=ABCD-EFGH")
    assert results == ["appbeam://pair?relay=http%3A%2F%2Fr&code=ABCD-EFGH"]
    scanner.scan(results.append)
    assert len(phone.bound) == 1  # bound once, however often it scans


def test_a_cancelled_scan_or_no_scanner_app_gives_none(phone):
    results = []
    scanner = droid.AndroidQrScanner()
    scanner.scan(results.append)
    phone.answer(0)  # RESULT_CANCELED
    phone.has_scanner_app = False
    scanner.scan(results.append)
    assert results == [None, None]
