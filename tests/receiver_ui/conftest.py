"""A real Kivy window (SDL2 + Mesa, no screen needed) shared by the receiver UI tests.

Kivy is configured here, before anything imports it. The app is not started with
``App.run()`` (a Kivy window cannot be reopened in one process); instead each test puts
the app's root widget in the one window and pumps frames with ``EventLoop.idle()``,
as Kivy's own ``GraphicUnitTest`` does.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time

import pytest

_KIVY_HOME = tempfile.mkdtemp(prefix="appbeam-kivy-home-")
os.environ.setdefault("KIVY_HOME", _KIVY_HOME)
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")

from mobile_receiver.ui import prepare_kivy  # noqa: E402

prepare_kivy((420, 860))

pytestmark = pytest.mark.kivy


class Driver:
    """Runs one ReceiverApp inside the shared window; taps widgets; waits for conditions."""

    def __init__(self, app):
        from kivy.base import EventLoop
        from kivy.core.window import Window

        self.app = app
        self.window = Window
        self.loop = EventLoop
        self.root = None
        # App.run() would do this: the window must listen to input for taps to reach widgets.
        EventLoop.ensure_window()
        if Window not in EventLoop.event_listeners:
            EventLoop.add_event_listener(Window)

    def start(self):
        self.root = self.app.build()
        self.app.root = self.root
        self.window.add_widget(self.root)
        self.app.on_start()
        self.frames(3)
        return self

    def stop(self):
        from kivy.uix.modalview import ModalView

        for child in list(self.window.children):
            if isinstance(child, ModalView):
                child.dismiss(animation=False)
        self.app.on_stop()
        self.window.remove_widget(self.root)
        self.frames(2)

    def frames(self, count=1):
        for _ in range(count):
            self.loop.idle()

    def wait_until(self, condition, timeout=15.0, what="condition"):
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self.frames()
            time.sleep(0.01)
        self.frames(2)

    def tap(self, widget):
        """A real touch at the widget's centre, through the window's dispatch."""
        from kivy.tests.common import UnitTestTouch

        assert widget.get_root_window() is not None, f"{widget} is not on screen"
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.run_for(0.08)  # a finger stays down a moment; ScrollView decides tap vs. scroll on time
        touch.touch_up()
        self.run_for(0.3)  # ScrollView hands a tap on to its children a little later

    def run_for(self, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.frames()
            time.sleep(0.01)

    def card(self, push_id):
        return self.app.inbox_screen.cards.get(push_id)

    def screenshot(self, path):
        self.frames(3)
        return self.app.take_screenshot(str(path))


@pytest.fixture
def drive():
    """``drive(app)`` -> a started Driver; stopped after the test."""
    drivers = []

    def make(app):
        driver = Driver(app).start()
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.stop()


@pytest.fixture(autouse=True)
def no_leftover_threads():
    """Threads the test started (downloads, outbox, stream, servers) must end with it."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        extra = [
            t for t in threading.enumerate()
            if t not in before and t.is_alive()
        ]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
