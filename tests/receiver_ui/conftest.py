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
# The phone speaks the system's language: these tests read its English sentences whatever the
# machine speaks (test_languages.py switches to Chinese itself).
for _variable in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_variable, None)
os.environ["LANG"] = "C.UTF-8"

from mobile_receiver.ui import prepare_kivy  # noqa: E402

prepare_kivy((420, 860))

pytestmark = pytest.mark.kivy

#: Seconds a test waits for something it needs before it gives up: generous, because the
#: machine may be busy; waiting ends as soon as the thing happens.
WAIT = 60.0


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

    def wait_until(self, condition, timeout=WAIT, what="condition"):
        """Pump frames until ``condition()`` holds; the deadline is generous (a busy machine)."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            self.frames()
            time.sleep(0.01)
        self.frames(2)

    def tap(self, widget, what=None):
        """A real touch at the widget's centre, through the window's dispatch; returns once the
        widget has handled it: a button's ``on_release``, any other widget's ``on_touch_up``.

        A ScrollView holds a short tap back and hands it on to its children 0.2 s later by its
        clock; waiting for the widget to get it, not for a time, holds on a busy machine too.
        """
        from kivy.tests.common import UnitTestTouch

        assert widget is not None, "no widget to tap"
        what = what or getattr(widget, "text", "") or type(widget).__name__
        assert widget.get_root_window() is not None, f"{what} is not on screen"
        # A ScreenManager lets no touch through while a screen slides in (and the screen moves).
        self.wait_until(lambda: not self.app.manager.transition.is_active, what="the screen to stop sliding")
        landed = []
        if widget.is_event_type("on_release"):
            event, handler = "on_release", lambda *_: landed.append(True)
        else:
            event, handler = "on_touch_up", lambda _, t: t is touch and landed.append(True)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        uid = widget.fbind(event, handler)
        try:
            touch.touch_down()
            self.frames(2)
            touch.touch_up()
            self.wait_until(lambda: landed, what=f"the tap on {what} to reach it")
        finally:
            widget.unbind_uid(event, uid)

    def show_screen(self, name):
        """Wait until the screen ``name`` is shown and its slide transition has ended."""
        manager = self.app.manager
        self.wait_until(lambda: manager.current == name and not manager.transition.is_active, what=f"the {name} screen")

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
    deadline = time.monotonic() + 30  # they end soon after being told; a busy machine is slower
    while True:
        extra = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not extra or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert not extra, f"threads left running: {[t.name for t in extra]}"
