"""The picker knows what each of your devices has: "Installed" or "Update from 3.5 to 3.6",
from what the devices reported to the relay (issue 14, item 4)."""

from __future__ import annotations

import pytest

from desktop_sender.install_info import PackageLink
from desktop_sender.picker import installed_note
from shared.api_messages import InstalledApp, InstalledVersion
from shared.messages import InstallInfo, PackageRef
from tests.sender.sender_helpers import WAIT_MS

pytestmark = pytest.mark.qt

VLC = InstallInfo(
    id="org.example.player",
    name="Player",
    version="3.6",
    packages=(
        PackageRef(format="apk", url="http://store.test/player.apk", size=40_000_000),
        PackageRef(format="ipa", url="http://store.test/player.ipa", size=45_000_000),
    ),
)


def test_the_picker_says_installed_and_update_per_device(sender, accounts):
    accounts.phone.report_installed([InstalledApp(VLC.id, "3.5")])
    accounts.tablet.report_installed([InstalledApp(VLC.id, "3.6")])
    accounts.friend_phone.report_installed([InstalledApp(VLC.id, "3.6")])

    sender.app.open_picker(VLC, PackageLink(url="http://store.test/player.apk", file_name="player.apk"))
    picker = sender.picker
    sender.qtbot.waitUntil(lambda: len(picker.rows) == 3, timeout=WAIT_MS)

    notes = {row.device_id: row.installed for row in picker.rows}
    assert notes[accounts.ids["phone"]] == ("Update from 3.5 to 3.6", False)
    assert notes[accounts.ids["tablet"]] == ("Installed", True)
    assert notes[accounts.ids["friend_phone"]] is None  # a friend's device keeps that to itself
    tablet = picker.row_for(accounts.ids["tablet"])
    assert tablet.checkbox.isEnabled()  # installed, yet still selectable for a reinstall


@pytest.mark.parametrize(
    "installed, offered, expected",
    [
        (InstalledVersion("3.6", None), InstallInfo(id="a.b", version="3.6"), ("Installed", True)),
        (InstalledVersion("3.7", None), InstallInfo(id="a.b", version="3.6"), ("Has a newer version (3.7)", True)),
        (
            InstalledVersion("3.5", 35),
            InstallInfo(id="a.b", version="3.6", version_code=36),
            ("Update from 3.5 to 3.6", False),
        ),
        (
            InstalledVersion("x", 36),
            InstallInfo(id="a.b", version="3.6", version_code=36),
            ("Installed", True),
        ),
        (None, InstallInfo(id="a.b", version="3.6"), None),
    ],
)
def test_installed_notes(installed, offered, expected):
    assert installed_note(installed, offered) == expected
