"""The phone's sentences written outside the screens, in Chinese after a switch (issue 17):
notifications, the lines kept on a push (shown in the language of the moment they are shown,
also after a restart), and the device hints of Settings. Kivy-free: a real package server on
loopback, the inbox with its fakes around it (``rig.py``)."""

from __future__ import annotations

import pytest

from mobile_receiver import i18n
from mobile_receiver.cardview import card_view
from mobile_receiver.devices import own_devices
from shared.api_messages import Device
from shared.messages import read
from tests.helpers.messages import device_json

from .fakes import push_message, wait_until
from .package_server import PackageServer
from .rig import BODY, Rig


@pytest.fixture(autouse=True)
def english_afterwards():
    i18n.set_language("en")
    yield
    i18n.set_language("en")


def _messages(rig) -> list[str]:
    return [message for _title, message in rig.platform.notifier.shown]


def test_a_notification_and_a_waiting_line_in_chinese_and_the_line_follows_a_switch(rigs):
    i18n.set_language("zh_CN")
    rig = rigs()
    with PackageServer(BODY) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY, mode="notify", name="Notes"))
        wait_until(lambda: any("Notes" in m for m in _messages(rig)), what="the notification")
        assert any(m.startswith("Anna's laptop 给你推送了 Notes。") and "点按“下载”" in m for m in _messages(rig)), (
            _messages(rig)
        )
        assert not any("sent you" in m for m in _messages(rig))

        rig.inbox.receive(push_message("p2", srv.url, BODY, app_id="org.example.unsigned", signed=False))
        rec = rig.inbox.get("p2")
        assert card_view(rec).notice.startswith("未自动安装："), card_view(rec).notice
        # the relay and the sender read the reason in the source language, whatever the phone speaks
        assert rec.notice.startswith("Not installed by itself: ")

        i18n.set_language("en")  # Settings' English: the line kept on the push follows
        assert card_view(rec).notice == rec.notice


def test_a_line_kept_on_a_push_is_said_in_the_language_spoken_after_a_restart(tmp_path):
    data_dir = tmp_path / "recv"
    with PackageServer(BODY) as srv:
        first = Rig(data_dir)
        try:
            first.inbox.receive(push_message("p1", srv.url, BODY))
            first.wait_state("p1", "installed")
            assert card_view(first.inbox.get("p1")).notice == "Version 1.0 installed"
            assert "Example installed" in _messages(first)
        finally:
            first.close()
    i18n.set_language("zh_CN")
    second = Rig(data_dir, client=first.client)
    try:
        assert card_view(second.inbox.get("p1")).notice == "已安装版本 1.0"
    finally:
        second.close()


def test_pausing_for_mobile_data_is_told_in_chinese_with_the_apps_named(rigs):
    i18n.set_language("zh_CN")
    rig = rigs()
    with PackageServer(BODY, delay=0.01) as srv:
        rig.inbox.receive(push_message("p1", srv.url, BODY))
        wait_until(lambda: rig.inbox.get("p1").bytes_done > 0, what="some progress")
        rig.platform.network.set_metered(True)
        wait_until(lambda: rig.state("p1") == "waiting_for_wifi", what="the download to wait for Wi-Fi")
        name = rig.inbox.get("p1").app_name
        assert f"已暂停 {name}：当前连接使用移动数据。连上 Wi-Fi 后会继续。" in _messages(rig), _messages(rig)
        assert card_view(rig.inbox.get("p1")).notice == "已暂停：当前连接按流量计费。连上 Wi-Fi 后继续。"
        rig.platform.network.set_metered(False)
        wait_until(lambda: "已连回 Wi-Fi：下载已继续" in _messages(rig), what="the resumed notice")


def test_device_hints_and_the_remove_question_in_chinese():
    this = {"id": "anna-pixel", "name": "Anna's Pixel", "model": "Pixel 8", "platform": "android"}
    listed = [
        read(device_json("anna-laptop", name="Anna's laptop", model="ThinkPad", platform="linux", online=True), Device),
        read(device_json("anna-ipad", name="anna's iPad", model="iPad", platform="ios"), Device),
    ]
    i18n.set_language("zh_CN")
    hints = [line.hint for line in own_devices(listed, this)]
    assert hints == ["这台手机 · Pixel 8 · Android", "离线 · iPad · iOS", "在线 · ThinkPad · Linux"]

    from mobile_receiver.devices import remove_question, removed_sentence

    assert remove_question("Anna's laptop", False, "anna").startswith("要移除 Anna's laptop 吗？")
    assert removed_sentence("anna", "https://relay.example:8765").startswith(
        "这台手机已退出 anna 在中继 relay.example:8765 上的账户"
    )


def test_a_mistyped_pairing_code_is_refused_in_chinese():
    from mobile_receiver import pairing

    i18n.set_language("zh_CN")
    with pytest.raises(pairing.PairingInputError) as typed:
        pairing.parse("ABC", "http://relay.example:8765")
    assert str(typed.value) == "配对码由 8 个字母和数字组成，例如 ABCD-EFGH。"
    with pytest.raises(pairing.PairingInputError) as pasted:
        pairing.parse("appbeam://pair?relay=http://relay.example:8765")
    assert str(pasted.value) == "这个配对码不完整。"
