"""The phone in Simplified Chinese and English: Settings switches every screen at once (and
remembers it), counts and sizes follow each language's rules, and the catalog check catches a
sentence left untranslated or never extracted."""

from __future__ import annotations

import json

import pytest
from receiver.fakes import RECEIVER_ID, FakeRelayClient, fake_platform, push_message, trusted_keyring
from receiver.package_server import PackageServer

from mobile_receiver import i18n
from mobile_receiver.i18n import catalogs
from mobile_receiver.profile import Profile, ProfileStore
from mobile_receiver.service import ReceiverService
from receiver_ui.gated_server import GatedPackageServer
from relay_server.demo_catalog import build_package
from shared.api_messages import Device
from shared.explain import explain, relay_place
from shared.messages import read
from tests.helpers.messages import device_json

BODY = build_package("apk", "org.example.app", "Example", "1.0", 10, size=700_000)
FAST = {"backoff_initial": 0.01, "backoff_max": 0.05, "chunk_size": 16384}


def plain(text: str) -> str:
    """What a person reads: no-break spaces are spaces."""
    return text.replace("\u00a0", " ")


@pytest.fixture(autouse=True)
def english_again():
    """The language is the process's: the next test starts in English, as a new phone here does."""
    yield
    i18n.set_language("en")


@pytest.fixture
def make_app(tmp_path):
    from mobile_receiver.ui.app import ReceiverApp

    def make(metered=False, installed=None, client=None):
        data_dir = tmp_path / "phone"
        data_dir.mkdir(exist_ok=True)
        trusted_keyring(data_dir)
        ProfileStore(data_dir).save(
            Profile(
                device_id=RECEIVER_ID,
                device_name="测试手机",  # a Chinese device name, in English too
                relay_url="http://127.0.0.1:1",
                username="anna",
                token="tok",
                language="en",
            )
        )
        if installed:
            (data_dir / "installed.json").write_text(json.dumps(installed))
        service = ReceiverService(
            data_dir,
            platform=fake_platform(data_dir, metered=metered),
            client=client or FakeRelayClient(),
            download_options=FAST,
        )
        return ReceiverApp(service), data_dir

    return make


def open_settings_and_choose(ui, app, button_id):
    from receiver_ui.test_account_screens import tap_in_settings

    if app.manager.current != "settings":
        ui.tap(app.inbox_screen.ids.settings)
        ui.show_screen("settings")
    tap_in_settings(ui, app.settings_screen.ids[button_id])


def test_choosing_chinese_in_settings_changes_every_screen_at_once_and_is_remembered(make_app, drive, tmp_path):
    app, data_dir = make_app()
    ui = drive(app)
    inbox = app.service.inbox
    with GatedPackageServer(BODY, hold_at=200_000) as srv:
        inbox.receive(push_message("p1", srv.url, BODY, name="VLC"))
        ui.wait_until(lambda: ui.card("p1") and ui.card("p1").button("pause"), what="the downloading card")
        ui.wait_until(lambda: " of 700 kB" in plain(ui.card("p1").progress_text), what="progress in English")
        assert app.inbox_screen.ids.settings.text == "Settings"

        open_settings_and_choose(ui, app, "lang_zh_CN")
        settings = app.settings_screen
        # the screen on show speaks Chinese at once: rules (.kv) and sentences (Python) alike
        ui.wait_until(lambda: settings.ids.back.text == "返回", what="Settings in Chinese")
        assert plain(settings.ids.no_apps.text) == "还没有通过 Appbeam 安装的应用。"
        assert settings.ids.lang_zh_CN.filled and not settings.ids.lang_en.filled
        assert ProfileStore(data_dir).load().language == "zh_CN"  # kept with the other settings
        # shared.explain's sentences (a relay that cannot be reached...) speak it too
        assert explain(ConnectionError("refused"), place=relay_place("http://relay.example")).text.startswith("无法")

        ui.tap(settings.ids.back)
        ui.show_screen("inbox")
        card = ui.card("p1")
        assert app.inbox_screen.ids.settings.text == "设置"
        assert app.inbox_screen.ids.refresh.text == "刷新"
        assert card.state_text.startswith("正在下载")
        assert card.button("pause").text == "暂停" and card.button("cancel").text == "取消"
        assert " / 700 kB" in plain(card.progress_text) and " of " not in card.progress_text
        assert plain(card.origin).startswith("来自 anna 的")

        srv.open()
        ui.wait_until(lambda: card.state_text == "已安装", what="已安装 on the card")

    open_settings_and_choose(ui, app, "lang_en")
    ui.wait_until(lambda: app.settings_screen.ids.back.text == "Back", what="Settings in English again")
    assert app.settings_screen.ids.no_apps.text == "1 app installed through Appbeam."
    assert ProfileStore(data_dir).load().language == "en"


def _installed(*names):
    return {
        f"org.example.{n.lower()}": {
            "app_id": f"org.example.{n.lower()}",
            "name": n,
            "version": "1.0",
            "version_code": 1,
            "installed_at": "2026-11-01T10:00:00Z",
            "format": "apk",
        }
        for n in names
    }


def test_counts_and_sizes_follow_each_languages_rules(make_app, drive):
    app, _ = make_app(metered=True, installed=_installed("Alpha", "Beta"))
    ui = drive(app)
    # A push on mobile data: the question says how much, in each language's words and units.
    app.service.inbox.receive(push_message("p1", "http://127.0.0.1:1/x.apk", BODY, name="VLC"))
    ui.wait_until(lambda: app.inbox_screen.dialog is not None, what="the mobile-data question")
    dialog = app.inbox_screen.dialog
    assert "will use 0.7 MB of mobile data" in plain(dialog.message)

    app.set_language("zh_CN")  # what Settings' 简体中文 does; the open question follows at once
    ui.frames(2)
    assert dialog.title == "使用移动数据？"
    assert "现在下载 VLC 将使用 0.7 MB 移动数据" in plain(dialog.message)
    assert dialog.ids.now.text == "立即下载"
    ui.tap(dialog.ids.wait)
    ui.wait_until(lambda: app.inbox_screen.dialog is None, what="the question answered")

    open_settings_and_choose(ui, app, "lang_zh_CN")
    ui.wait_until(lambda: "个应用" in app.settings_screen.ids.no_apps.text, what="the count in Chinese")
    assert plain(app.settings_screen.ids.no_apps.text) == "已通过 Appbeam 安装 2 个应用。"  # one form: no plural
    open_settings_and_choose(ui, app, "lang_en")
    ui.wait_until(lambda: app.settings_screen.ids.back.text == "Back", what="English again")
    assert app.settings_screen.ids.no_apps.text == "2 apps installed through Appbeam."


class ClientWithDevices(FakeRelayClient):
    """The relay's answer to Your devices: one more device of the account, online."""

    def devices(self):
        return [
            read(
                device_json("anna-laptop", name="Anna's laptop", model="ThinkPad", platform="linux", online=True),
                Device,
            )
        ]


def test_snackbars_device_hints_and_the_lines_kept_on_a_card_in_chinese(make_app, drive):
    app, _ = make_app(client=ClientWithDevices())
    ui = drive(app)
    inbox = app.service.inbox
    with PackageServer(BODY) as srv:
        inbox.receive(push_message("p1", srv.url, BODY, name="VLC"))
        ui.wait_until(lambda: ui.card("p1") and ui.card("p1").state_text == "Installed", what="VLC installed")
        ui.wait_until(lambda: app.inbox_screen.snackbar_text == "VLC installed", what="the English snackbar")
        assert ui.card("p1").notice == "Version 1.0 installed"

        open_settings_and_choose(ui, app, "lang_zh_CN")
        settings = app.settings_screen
        ui.wait_until(lambda: settings.device_row("anna-laptop") is not None, what="Your devices")
        ui.wait_until(lambda: settings.device_row(RECEIVER_ID).hint.startswith("这台手机"), what="the hints in Chinese")
        assert settings.device_row("anna-laptop").hint == "在线 · ThinkPad · Linux"

        ui.tap(settings.ids.back)
        ui.show_screen("inbox")
        # the line kept on the push since it was installed in English is said in Chinese now
        ui.wait_until(lambda: ui.card("p1").notice == "已安装版本 1.0", what="the card's line in Chinese")
        inbox.receive(push_message("p2", srv.url, BODY, app_id="org.example.other", name="Notes", mode="notify"))
        ui.wait_until(
            lambda: app.inbox_screen.snackbar_text == "Anna's laptop 给你推送了 Notes。点按“下载”即可安装。",
            what="the snackbar in Chinese",
        )


def test_the_phone_follows_the_system_until_settings_choose():
    assert i18n.choose_language("", "zh_CN.UTF-8") == "zh_CN"
    assert i18n.choose_language("", "zh-Hans-CN") == "zh_CN"  # Android's language tag
    assert i18n.choose_language("", "zh_TW.UTF-8") == "en"  # Traditional Chinese: not translated yet
    assert i18n.choose_language("", "fr_FR.UTF-8") == "en"
    assert i18n.choose_language("en", "zh_CN.UTF-8") == "en"  # Settings' choice wins
    assert i18n.choose_language("zh_CN", "C") == "zh_CN"


def test_the_catalogs_are_complete_and_the_check_catches_what_is_missing():
    assert catalogs.check() == []  # what `make check` runs: every sentence extracted and translated

    chinese = catalogs.read(i18n.po_file("zh_CN"), "zh_CN")
    chinese["Pause"].string = ""  # a translator skipped one
    chinese["Retry"].flags.add("fuzzy")  # and left a guess
    chinese["Version {version}"].string = "版本"  # and lost a placeholder
    found = catalogs.problems("zh_CN", chinese)
    assert any("'Pause' is untranslated" in line for line in found)
    assert any("'Retry' is fuzzy" in line for line in found)
    assert any("'Version {version}'" in line and "placeholders" in line for line in found)

    template = catalogs.template()
    template.add("A sentence nobody translated yet")  # new in the code
    assert any(
        "new in the code" in line and "A sentence nobody translated yet" in line
        for line in catalogs.stale("zh_CN", template)
    )
