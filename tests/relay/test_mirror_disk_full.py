"""A full disk never strands an accepted push in the mirror (issue #11).

The relay's package store sits on a tiny tmpfs here, filled to the last byte, so a copy
really gets ENOSPC from the kernel (the test is skipped where a tmpfs cannot be mounted).
The database lives elsewhere; where a test needs it to refuse writes as well, the mirror's
final write raises the error SQLite gives on a full disk.
"""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
from pathlib import Path

import peewee
import pytest

from relay_server import push_delivery
from relay_server.app import close_app, create_app
from relay_server.db import database
from relay_server.models import Event
from tests.helpers.polling import wait_for
from tests.helpers.relay_api import Api, mirror_statuses
from tests.helpers.servers import FileServer

BODY = hashlib.sha256(b"disk full").digest() * 2048  # 64 KiB
SHA = hashlib.sha256(BODY).hexdigest()
DISK_FULL_DETAIL = "the relay could not keep a copy (its disk is full); the device will fetch the original"


def delivered(device_id: str) -> set[str]:
    """The pushes waiting in a device's event log (what its stream sends when it connects)."""
    with database.connection_context():
        return {e.push_id for e in Event.select().where((Event.device == device_id) & (Event.kind == "push"))}


class TinyDisk:
    """A 512 KiB tmpfs at ``path``; ``fill`` takes every free byte, ``free`` gives them back."""

    def __init__(self, path: Path):
        self.path = path
        self.filler = path / "filler"

    def mount(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(self.path)],
                check=True,
                capture_output=True,
                text=True,
                timeout=30,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or exc
            pytest.skip(f"a full disk needs a tmpfs mount (root with CAP_SYS_ADMIN), and mount failed: {detail}")

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False, capture_output=True, timeout=30)

    def fill(self) -> None:
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
        finally:
            os.close(fd)

    def free(self) -> None:
        self.filler.unlink()


@pytest.fixture
def disk(relay_config):
    """The relay's package store on a tiny disk of its own."""
    tiny = TinyDisk(relay_config.packages_dir)
    tiny.mount()
    yield tiny
    tiny.unmount()


@pytest.fixture
def relay(relay_config, disk):
    """A relay that may mirror loopback servers, its packages on ``disk``; and a package server.
    (No demo catalog: its packages would not fit on the tiny disk.)"""
    config = relay_config.with_(mirror_allow_private=True, demo_catalog=False)
    application = create_app(config)
    application.config["TESTING"] = True
    root = relay_config.data_dir.parent / "served"
    root.mkdir()
    (root / "app.apk").write_bytes(BODY)
    try:
        with FileServer(root) as server:
            yield application, f"{server.url}/app.apk"
    finally:
        close_app(application)


def _anna(api: Api) -> dict:
    api.account("anna")
    laptop = api.login("anna", "anna-laptop", platform="linux")
    api.login("anna", "anna-phone")  # registered, but no stream: offline
    return laptop


def _push(api: Api, laptop: dict, url: str) -> str:
    resp = api.push(
        laptop,
        ["anna-phone"],
        app={"id": "com.example.app", "packages": [{"format": "apk", "url": url, "sha256": SHA}]},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["pushes"][0]["id"]


def test_copy_that_finds_the_disk_full_goes_out_with_the_original_url_and_says_why(relay, disk):
    application, url = relay
    client = application.test_client()
    api = Api(client)
    laptop = _anna(api)
    disk.fill()

    first = _push(api, laptop, url)
    meanwhile = _push(api, laptop, url)

    wait_for(lambda: "pending" not in mirror_statuses([first, meanwhile]).values(), 10, "both copies to end")
    for push_id in (first, meanwhile):
        shown = client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()
        assert shown["mirrored"] is False
        assert shown["package"]["url"] == url
        assert shown["detail"] == DISK_FULL_DETAIL
    assert delivered("anna-phone") == {first, meanwhile}

    disk.free()
    later = _push(api, laptop, url)
    wait_for(lambda: mirror_statuses([later])[later] != "pending", 10, "the copy once there is room")
    assert client.get(f"/api/v1/pushes/{later}", headers=laptop).get_json()["mirrored"] is True


def test_copy_whose_outcome_the_database_refuses_is_made_again_once_there_is_room(relay, disk, monkeypatch):
    """The disk is full for the store and the database alike: the copy fails, and so does
    recording that. The push (and one accepted meanwhile) stays pending, not stranded: the
    janitor's next pass hands both back, and once there is room they are delivered."""
    application, url = relay
    relay_ = application.extensions["appbeam_relay"]
    client = application.test_client()
    api = Api(client)
    laptop = _anna(api)
    refused: list[str] = []
    real_mirror_finished = push_delivery.mirror_finished

    def database_full(relay, push_id, *args, **kwargs):
        refused.append(push_id)
        raise peewee.OperationalError("database or disk is full")

    disk.fill()
    monkeypatch.setattr(push_delivery, "mirror_finished", database_full)
    first = _push(api, laptop, url)
    wait_for(lambda: first in refused, 10, "the first copy to fail")
    meanwhile = _push(api, laptop, url)
    wait_for(lambda: meanwhile in refused, 10, "the copy of the push accepted meanwhile to fail")
    assert relay_.mirror.wait_idle(), "the mirror is not stuck on them"
    assert mirror_statuses([first, meanwhile]) == {first: "pending", meanwhile: "pending"}
    assert delivered("anna-phone") == set()

    disk.free()
    monkeypatch.setattr(push_delivery, "mirror_finished", real_mirror_finished)
    passed = relay_.janitor.run_once()

    wait_for(lambda: set(mirror_statuses([first, meanwhile]).values()) == {"done"}, 10, "both copies to be made again")
    assert passed["mirror_requeued"] == 2
    assert delivered("anna-phone") == {first, meanwhile}
    for push_id in (first, meanwhile):
        shown = client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()
        assert shown["mirrored"] is True
        assert shown["package"]["url"] == f"/api/v1/packages/{SHA}"
