"""An inbox over a temporary data dir with fakes around it (relay client, network, notifier),
and a real package: what the Kivy-free inbox tests drive."""

from __future__ import annotations

from mobile_receiver.inbox import Inbox
from mobile_receiver.reporter import Reporter
from mobile_receiver.storage import ReceiverDB
from relay_server.demo_catalog import build_package

from .fakes import RECEIVER_ID, FakeRelayClient, fake_platform, trusted_keyring, wait_until

#: A real (if tiny) Android package: the receiver checks what it installs.
BODY = build_package("apk", "org.example.app", "Example", "1.0", 10, size=600_000)
FAST = {"backoff_initial": 0.01, "backoff_max": 0.05, "chunk_size": 16384}


class Rig:
    """One receiver's inbox over a data dir, with fakes around it."""

    def __init__(
        self,
        data_dir,
        client=None,
        metered=False,
        wifi_only=False,
        can_ask=True,
        platform=None,
        relay_connected=lambda: True,
        **options,
    ):
        self.data_dir = data_dir
        self.client = client or FakeRelayClient()
        self.platform = platform or fake_platform(data_dir, metered=metered)
        self.db = ReceiverDB(data_dir / "receiver.sqlite3")
        self.reporter = Reporter(self.db, lambda: self.client, backoff_initial=0.01, backoff_max=0.05)
        self.wifi_only = wifi_only
        self.keyring = trusted_keyring(data_dir)
        self.inbox = Inbox(
            self.db,
            data_dir,
            self.platform,
            "android",
            self.reporter,
            lambda: self.client,
            silent_install_refusal=lambda push: self.keyring.refusal(push, RECEIVER_ID),
            wifi_only=lambda: self.wifi_only,
            can_ask=can_ask,
            download_options={**FAST, **options},
            relay_connected=relay_connected,
        )
        self.inbox.start()

    def state(self, push_id):
        return self.inbox.get(push_id).state

    def wait_state(self, push_id, state, timeout=15):
        wait_until(lambda: self.state(push_id) == state, timeout, f"{push_id} to be {state} (is {self.state(push_id)})")

    def reported(self, push_id=None):
        self.reporter.flush()
        return self.client.states(push_id)

    def close(self):
        self.inbox.stop()
        self.reporter.stop()
        self.db.close()


def rig_factory(tmp_path):
    """``make(**options)`` -> a started Rig over ``tmp_path / "recv"``; ``close_all()`` stops them."""
    made = []

    def make(**kwargs):
        rig = Rig(tmp_path / "recv", **kwargs)
        made.append(rig)
        return rig

    def close_all():
        for rig in made:
            rig.close()

    return make, close_all
