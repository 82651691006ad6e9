"""The wire protocol: state machine, platform/format table, and parsing of every shape."""

from __future__ import annotations

import copy
from collections import deque

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.messages import InstallInfo, PackageRef, PushMessage, PushUpdate, read
from shared.protocol import (
    CANCELLABLE_STATES,
    DEVICE_REPORTED_STATES,
    FINAL_STATES,
    FORMAT_MIME_TYPES,
    MAX_INT,
    PLATFORM_FORMATS,
    REOPENABLE_STATES,
    TRANSITIONS,
    UNACKNOWLEDGED_STATES,
    Platform,
    ProtocolError,
    PushMode,
    PushState,
    can_transition,
    choose_format,
    format_from_filename,
    format_from_mime,
    formats_for,
    incompatibility_reason,
    parse_app_id,
    parse_device_id,
    parse_sha256,
    state_label,
)

S = PushState
SHA = "ab" * 32


def reachable(start: PushState, without: frozenset[PushState] = frozenset()) -> set[PushState]:
    """States reachable from ``start`` through TRANSITIONS, never entering ``without``."""
    seen = {start}
    todo = deque([start])
    while todo:
        for nxt in TRANSITIONS[todo.popleft()]:
            if nxt not in seen and nxt not in without:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# --------------------------------------------------------------------------- state machine


def test_transitions_are_total_over_push_state():
    assert set(TRANSITIONS) == set(PushState)
    for state, nexts in TRANSITIONS.items():
        assert isinstance(nexts, frozenset), state
        assert nexts <= set(PushState), state


def test_every_state_is_reachable_from_queued():
    assert reachable(S.QUEUED) == set(PushState)


@pytest.mark.parametrize("state", sorted(FINAL_STATES - REOPENABLE_STATES))
def test_final_states_have_no_exits_unless_the_device_may_reopen_them(state):
    assert TRANSITIONS[state] == frozenset()
    assert not any(can_transition(state, other) for other in PushState)


def test_states_without_exits_are_the_final_states_the_device_cannot_reopen():
    assert {s for s, nexts in TRANSITIONS.items() if not nexts} == FINAL_STATES - REOPENABLE_STATES


def test_only_the_device_reopens_its_own_declined_push_and_only_into_a_new_download():
    assert {S.DECLINED} == REOPENABLE_STATES
    assert REOPENABLE_STATES <= FINAL_STATES  # the sender stops waiting on it all the same
    # Download again starts as a Download tap does; it cannot skip to verifying or installed.
    assert TRANSITIONS[S.DECLINED] == {S.DOWNLOADING, S.WAITING_FOR_WIFI, S.PAUSED}
    assert TRANSITIONS[S.DECLINED] <= DEVICE_REPORTED_STATES  # nobody but the device leaves it
    # The sender's cancel and an expiry stay final for good.
    assert TRANSITIONS[S.CANCELLED] == TRANSITIONS[S.EXPIRED] == frozenset()
    assert S.INSTALLED not in reachable(S.DECLINED, without=frozenset({S.VERIFYING}))


def test_installed_is_entered_only_from_installing_once_acknowledged():
    # queued/sent accept any device report as the acknowledging first report (documented in
    # protocol.py and docs/api.md); from every other state, installed needs installing...
    entries = {s for s, nexts in TRANSITIONS.items() if S.INSTALLED in nexts}
    assert entries - UNACKNOWLEDGED_STATES == {S.INSTALLING}
    # ... and installing needs verifying.
    entries = {s for s, nexts in TRANSITIONS.items() if S.INSTALLING in nexts}
    assert entries - UNACKNOWLEDGED_STATES == {S.VERIFYING}


def test_after_delivery_installed_is_reachable_only_through_verifying_then_installing():
    assert S.INSTALLED in reachable(S.DELIVERED)
    assert S.INSTALLED not in reachable(S.DELIVERED, without=frozenset({S.INSTALLING}))
    assert S.INSTALLED not in reachable(S.DELIVERED, without=frozenset({S.VERIFYING}))
    assert S.INSTALLING not in reachable(S.DELIVERED, without=frozenset({S.VERIFYING}))
    # ...and verifying cannot be skipped by going round through failed, paused or wifi.
    for start in (S.DOWNLOADING, S.PAUSED, S.FAILED, S.WAITING_FOR_WIFI):
        assert S.INSTALLED not in reachable(start, without=frozenset({S.VERIFYING})), start


def test_verifying_and_installing_can_only_finish_or_fail():
    assert TRANSITIONS[S.VERIFYING] == {S.INSTALLING, S.FAILED}
    assert TRANSITIONS[S.INSTALLING] == {S.INSTALLED, S.FAILED}


def test_state_sets_are_consistent():
    assert {S.QUEUED, S.SENT} == UNACKNOWLEDGED_STATES
    assert not (CANCELLABLE_STATES & FINAL_STATES)
    assert S.QUEUED not in DEVICE_REPORTED_STATES and S.SENT not in DEVICE_REPORTED_STATES
    for state in CANCELLABLE_STATES:
        assert can_transition(state, S.CANCELLED), state
    for state in set(PushState) - CANCELLABLE_STATES:
        assert not can_transition(state, S.CANCELLED), state


def test_can_transition_accepts_strings_and_enums():
    assert can_transition("queued", "sent")
    assert can_transition(S.SENT, "delivered")
    assert can_transition("downloading", S.DOWNLOADING)  # progress repeats
    assert can_transition("failed", "downloading")  # retry
    assert not can_transition("installed", "downloading")
    assert not can_transition("delivered", "installed")
    assert not can_transition("verifying", "downloading")
    assert not can_transition("sent", "queued")
    with pytest.raises(ValueError):
        can_transition("bogus", "sent")
    with pytest.raises(ValueError):
        can_transition("sent", "bogus")


@pytest.mark.parametrize("current", list(PushState))
@pytest.mark.parametrize("new", list(PushState))
def test_can_transition_matches_the_table(current, new):
    assert can_transition(current, new) is (new in TRANSITIONS[current])
    assert can_transition(str(current), str(new)) is (new in TRANSITIONS[current])


# --------------------------------------------------------------------------- platforms and formats


def test_every_platform_format_has_a_mime_type():
    for platform in Platform:
        assert PLATFORM_FORMATS[platform] or platform is Platform.BROWSER, platform  # a browser only sends
        for fmt in PLATFORM_FORMATS[platform]:
            assert fmt in FORMAT_MIME_TYPES


@pytest.mark.parametrize(
    "platform, offered, expected",
    [
        ("android", ["apk"], "apk"),
        ("android", ["ipa", "apk"], "apk"),
        ("ios", ["deb", "ipa"], "ipa"),  # ipa beats deb however it is offered
        ("ios", ["deb", "pxl"], "pxl"),
        ("ios", ["deb"], "deb"),
        ("ios", ["apk"], None),
        ("symbian", ["sis", "sisx"], "sisx"),
        ("windows_phone", ["xap"], "xap"),
        ("linux", ["deb", "flatpak", "appimage"], "appimage"),
        ("windows", ["msi", "exe"], "exe"),
        ("macos", ["pkg", "dmg"], "dmg"),
        ("android", [], None),
        ("toaster", ["apk"], None),
        (Platform.IOS, ("DEB", "IPA"), "ipa"),
        ("android", ["APK"], "apk"),
        ("ios", ["Ipa", "deb"], "ipa"),
    ],
)
def test_choose_format(platform, offered, expected):
    assert choose_format(platform, offered) == expected


def test_choose_format_accepts_any_iterable_once():
    assert choose_format("ios", iter(["deb", "ipa"])) == "ipa"


def test_formats_for():
    assert formats_for("ios") == ("ipa", "pxl", "deb")
    assert formats_for(Platform.ANDROID) == ("apk",)
    assert formats_for("toaster") == ()
    assert formats_for("") == ()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("app.apk", "apk"),
        ("APP.APK", "apk"),
        ("org.videolan.vlc-3.6.0.ipa", "ipa"),
        ("dir/sub/app.deb", "deb"),
        ("https://x/y/app.APK?x=1", "apk"),
        ("https://x/y/app.apk?name=other.ipa", "apk"),
        ("https://x/y/app.ipa#frag", "ipa"),
        ("http://127.0.0.1:8765/files/" + SHA + "/vlc.AppImage", "appimage"),
        ("https://x/download.php?file=app.apk", None),  # the path decides, not the query
        ("https://x.apk/", None),  # the host is not a file name
        ("app.tar.gz", None),
        ("https://x/y/app.tar.gz?x=1", None),
        ("app", None),
        ("", None),
        ("apk", None),
        ("app.", None),
        ("app.zip", None),
    ],
)
def test_format_from_filename(name, expected):
    assert format_from_filename(name) == expected


@pytest.mark.parametrize(
    "mime, expected",
    [
        ("application/vnd.android.package-archive", "apk"),
        ("Application/Vnd.Android.Package-Archive", "apk"),
        ("application/vnd.android.package-archive; charset=binary", "apk"),
        ("  application/vnd.android.package-archive ;q=1", "apk"),
        ("application/vnd.debian.binary-package", "deb"),
        ("x-epoc/x-sisx-app", "sisx"),
        ("application/x-apple-diskimage", "dmg"),
        ("application/octet-stream", None),  # generic: ipa, pxl and pkg all use it
        ("application/octet-stream; name=app.ipa", None),
        ("text/html", None),
        ("", None),
        (None, None),
    ],
)
def test_format_from_mime(mime, expected):
    assert format_from_mime(mime) == expected


def test_incompatibility_reason_wording():
    assert incompatibility_reason("ios", ["apk"]) == "iOS installs ipa, pxl, deb; this app comes as apk"
    assert incompatibility_reason("android", ["IPA", "deb", "ipa"]) == (
        "Android installs apk; this app comes as deb, ipa"
    )
    assert incompatibility_reason(Platform.WINDOWS_PHONE, ["apk"]) == (
        "Windows Phone installs xap; this app comes as apk"
    )
    assert incompatibility_reason("toaster", ["apk"]) == "unknown platform 'toaster'"


def test_incompatibility_reason_is_none_when_compatible_or_nothing_offered():
    assert incompatibility_reason("ios", ["apk", "IPA"]) is None
    assert incompatibility_reason("android", []) is None
    assert incompatibility_reason("toaster", []) is None


# --------------------------------------------------------------------------- install information


def full_app() -> dict:
    return {
        "id": "org.videolan.vlc",
        "name": "VLC",
        "version": "3.6.0",
        "version_code": 13060000,
        "size": 41234567,
        "icon_url": "https://example.org/vlc.png",
        "runtime": "Android 5.0+",
        "description": "A media player.",
        "packages": [
            {"format": "apk", "url": "https://example.org/vlc.apk", "sha256": SHA, "size": 41234567},
            {"format": "ipa", "url": "/api/v1/packages/" + SHA, "sha256": None, "size": None},
        ],
    }


def test_install_info_round_trip():
    info = InstallInfo.from_dict(full_app())
    assert info.to_dict() == full_app()
    assert InstallInfo.from_dict(info.to_dict()) == info
    assert info.formats == ("apk", "ipa")
    assert info.package_for("ipa").url == "/api/v1/packages/" + SHA
    assert info.package_for("deb") is None


def test_install_info_minimal_and_normalised():
    info = InstallInfo.from_dict({"id": "a"})
    assert info == InstallInfo(id="a")
    assert info.packages == ()
    assert info.to_dict()["packages"] == []
    app = {
        "id": "a",
        "name": "  VLC  ",
        "packages": [{"format": " APK ", "url": "http://h/a.apk", "sha256": SHA.upper()}],
    }
    info = InstallInfo.from_dict(app)
    assert info.name == "VLC"
    assert info.packages[0].format == "apk"
    assert info.packages[0].sha256 == SHA
    assert InstallInfo.from_dict(info.to_dict()) == info


def test_install_info_does_not_modify_its_input():
    app = full_app()
    before = copy.deepcopy(app)
    InstallInfo.from_dict(app)
    assert app == before


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/packages/" + SHA,
        "/files/" + SHA + "/app.apk",
        "http://h/a.apk",
        "https://h:8443/a?x=1",
        "http://127.0.0.1:65535/a",
        "http://[::1]:8765/a",
    ],
)
def test_accepted_package_urls(url):
    info = InstallInfo.from_dict({"id": "a", "icon_url": url, "packages": [{"format": "apk", "url": url}]})
    assert info.packages[0].url == url
    assert info.icon_url == url


def _with(path: str, value) -> dict:
    """full_app() with one field (``packages.0.url`` style path) set to value, or removed for ...."""
    app = full_app()
    target = app
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        target = target[key]
    if value is ...:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return app


BAD_APPS = [
    # (field path, value, the field the error must name)
    ("id", ..., "app.id"),
    ("id", "", "app.id"),
    ("id", None, "app.id"),
    ("id", 42, "app.id"),
    ("id", ".starts-with-dot", "app.id"),
    ("id", "has space", "app.id"),
    ("id", "slash/in/id", "app.id"),
    ("id", "x" * 201, "app.id"),
    ("id", "naïve", "app.id"),
    ("packages", "apk", "app.packages"),
    ("packages", {"format": "apk"}, "app.packages"),
    ("packages", [{"format": "apk", "url": f"http://h/{i}.apk"} for i in range(17)], "app.packages"),
    (
        "packages",
        [{"format": "apk", "url": "http://h/a.apk"}, {"format": "APK", "url": "http://h/b.apk"}],
        "app.packages",
    ),
    ("packages.0", "not an object", "app.packages[0]"),
    ("packages.0", None, "app.packages[0]"),
    ("packages.0.format", ..., "app.packages[0].format"),
    ("packages.0.format", "zip", "app.packages[0].format"),
    ("packages.0.format", 7, "app.packages[0].format"),
    ("packages.0.format", "x" * 17, "app.packages[0].format"),
    ("packages.1.url", ..., "app.packages[1].url"),
    ("packages.0.url", "", "app.packages[0].url"),
    ("packages.0.url", "ftp://h/a.apk", "app.packages[0].url"),
    ("packages.0.url", "file:///etc/passwd", "app.packages[0].url"),
    ("packages.0.url", "javascript:alert(1)", "app.packages[0].url"),
    ("packages.0.url", "vlc.apk", "app.packages[0].url"),
    ("packages.0.url", "http:///a.apk", "app.packages[0].url"),
    ("packages.0.url", "http://x:99999/a", "app.packages[0].url"),
    ("packages.0.url", "http://x:-1/a", "app.packages[0].url"),
    ("packages.0.url", "http://x:port/a", "app.packages[0].url"),
    ("packages.0.url", "http://[::1/a", "app.packages[0].url"),
    ("packages.0.url", "http://h/" + "a" * 2048, "app.packages[0].url"),
    ("packages.0.url", ["http://h/a.apk"], "app.packages[0].url"),
    ("packages.0.sha256", "xyz", "app.packages[0].sha256"),
    ("packages.0.sha256", "g" * 64, "app.packages[0].sha256"),
    ("packages.0.sha256", SHA[:-1], "app.packages[0].sha256"),
    ("packages.0.sha256", SHA + "0", "app.packages[0].sha256"),
    ("packages.0.sha256", 12, "app.packages[0].sha256"),
    ("packages.0.size", -1, "app.packages[0].size"),
    ("packages.0.size", MAX_INT + 1, "app.packages[0].size"),
    ("packages.0.size", True, "app.packages[0].size"),
    ("packages.0.size", 1.5, "app.packages[0].size"),
    ("packages.0.size", "100", "app.packages[0].size"),
    ("size", -1, "app.size"),
    ("size", 2**64, "app.size"),
    ("size", False, "app.size"),
    ("size", 10.0, "app.size"),
    ("version_code", -5, "app.version_code"),
    ("version_code", MAX_INT + 1, "app.version_code"),
    ("version_code", True, "app.version_code"),
    ("version_code", "13060000", "app.version_code"),
    ("icon_url", "ftp://h/i.png", "app.icon_url"),
    ("icon_url", "http://x:99999/i.png", "app.icon_url"),
    ("icon_url", 5, "app.icon_url"),
    ("name", "n" * 201, "app.name"),
    ("name", 5, "app.name"),
    ("name", ["VLC"], "app.name"),
    ("version", "v" * 65, "app.version"),
    ("runtime", "r" * 201, "app.runtime"),
    ("description", "d" * 2001, "app.description"),
    ("description", {"text": "x"}, "app.description"),
]


@pytest.mark.parametrize("path, value, field", BAD_APPS, ids=[f"{p}={v!r:.30}" for p, v, _ in BAD_APPS])
def test_invalid_install_info_names_the_field(path, value, field):
    with pytest.raises(ProtocolError) as info:
        InstallInfo.from_dict(_with(path, value))
    assert info.value.field == field
    assert str(info.value).startswith(f"{field}: ")
    assert info.value.message


@pytest.mark.parametrize("data", [None, [], "app", 5, True])
def test_install_info_must_be_an_object(data):
    with pytest.raises(ProtocolError) as info:
        InstallInfo.from_dict(data)
    assert info.value.field == "app"


def test_limits_are_inclusive():
    app = {
        "id": "x" * 200,
        "name": "n" * 200,
        "version": "v" * 64,
        "size": MAX_INT,
        "version_code": 0,
        "description": "d" * 2000,
        "packages": [{"format": f, "url": f"http://h/a.{f}"} for f in list(FORMAT_MIME_TYPES)[:14]],
    }
    info = InstallInfo.from_dict(app)
    assert info.size == MAX_INT and len(info.packages) == len(FORMAT_MIME_TYPES)


def test_where_prefix_is_used_in_errors():
    with pytest.raises(ProtocolError) as info:
        InstallInfo.from_dict({"id": "a", "size": -1}, where="push.app.")
    assert info.value.field == "push.app.size"


def test_parse_helpers():
    assert parse_app_id("org.videolan.vlc") == "org.videolan.vlc"
    assert parse_device_id("phone-1:a") == "phone-1:a"
    assert parse_sha256(SHA.upper(), "h") == SHA
    assert parse_sha256(None, "h") is None and parse_sha256("", "h") is None
    for bad in ("", ":x", "a b", "x" * 129, None, 7):
        with pytest.raises(ProtocolError) as info:
            parse_device_id(bad, "sender.device_id")
        assert info.value.field == "sender.device_id"


# A regex ending in ``$`` also matches before a final newline: ``re.match(r"^[a-z]+$", "abc\n")``
# succeeds. The parsers must use fullmatch (or ``\Z``) so that the value they return is valid.
@pytest.mark.parametrize(
    "parse, value, field",
    [
        (lambda v: InstallInfo.from_dict({"id": v}), "org.videolan.vlc\n", "app.id"),
        (lambda v: parse_app_id(v), "org.videolan.vlc\n", "app.id"),
        (lambda v: parse_device_id(v, "sender.device_id"), "phone-1\n", "sender.device_id"),
        (lambda v: parse_sha256(v, "package.sha256"), SHA + "\n", "package.sha256"),
        (
            lambda v: PackageRef.from_dict({"format": "apk", "url": "http://h/a", "sha256": v}),
            SHA + "\n",
            "package.sha256",
        ),
    ],
    ids=["install_info.id", "parse_app_id", "parse_device_id", "parse_sha256", "package.sha256"],
)
def test_values_with_a_trailing_newline_are_rejected(parse, value, field):
    with pytest.raises(ProtocolError) as info:
        parse(value)
    assert info.value.field == field


def test_scheme_relative_url_is_not_taken_as_relay_relative():
    # "/..." means "on the relay" (protocol.py _url), but "//host/path" is a network-path
    # reference: every URL resolver (urljoin, browsers, RelayClient.absolute_url) sends it to
    # another host, skipping the http(s)/host checks absolute URLs get.
    for url in ("//evil.example/a.apk", "//127.0.0.1:9/a.apk"):
        with pytest.raises(ProtocolError) as info:
            InstallInfo.from_dict({"id": "a", "packages": [{"format": "apk", "url": url}]})
        assert info.value.field == "app.packages[0].url"


# --------------------------------------------------------------------------- push messages


def push_message() -> dict:
    return {
        "push_id": "p_0123456789abcdef01234567",
        "mode": "install_now",
        "sender": {"username": "anna", "device_id": "laptop-1", "device_name": "Anna's laptop"},
        "app": full_app(),
        "package": {"format": "apk", "url": "https://example.org/vlc.apk", "sha256": SHA, "size": 41234567},
        "created_at": "2026-11-26T17:02:11.123456+00:00",
        "signature": None,
    }


def test_push_message_round_trip():
    msg = PushMessage.from_dict(push_message())
    assert msg.mode is PushMode.INSTALL_NOW
    assert msg.sender.device_name == "Anna's laptop"
    assert msg.package == PackageRef("apk", "https://example.org/vlc.apk", SHA, 41234567)
    assert msg.to_dict() == push_message()
    assert PushMessage.from_dict(msg.to_dict()) == msg


def test_push_sender_device_name_defaults_to_device_id():
    data = push_message()
    del data["sender"]["device_name"]
    assert PushMessage.from_dict(data).sender.device_name == "laptop-1"


def _msg_with(path: str, value) -> dict:
    data = push_message()
    target = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    if value is ...:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return data


BAD_MESSAGES = [
    ("push_id", ..., "push_id"),
    ("push_id", 5, "push_id"),
    ("push_id", "p" * 65, "push_id"),
    ("mode", ..., "mode"),
    ("mode", "install", "mode"),
    ("mode", 1, "mode"),
    ("mode", ["notify"], "mode"),
    ("mode", {"a": 1}, "mode"),
    ("sender", ..., "sender"),
    ("sender", None, "sender"),
    ("sender", "anna", "sender"),
    ("sender", ["anna", "laptop"], "sender"),
    ("sender.username", ..., "sender.username"),
    ("sender.username", "", "sender.username"),
    ("sender.username", "   ", "sender.username"),
    ("sender.username", 42, "sender.username"),
    ("sender.device_id", ..., "sender.device_id"),
    ("sender.device_id", "has space", "sender.device_id"),
    ("sender.device_id", 42, "sender.device_id"),
    ("sender.device_name", 42, "sender.device_name"),
    ("app", ..., "app"),
    ("app", "org.videolan.vlc", "app"),
    ("app.id", ..., "app.id"),
    # no package at all is allowed: the device resolves the app id (test_push_message_without_package)
    ("package", "https://example.org/vlc.apk", "package"),
    ("package", [], "package"),
    ("package.format", ..., "package.format"),
    ("package.format", "zip", "package.format"),
    ("package.url", ..., "package.url"),
    ("package.url", "gopher://h/a", "package.url"),
    ("package.sha256", "nothex", "package.sha256"),
    ("package.size", -3, "package.size"),
    ("created_at", ..., "created_at"),
    ("created_at", 1700000000, "created_at"),
]


@pytest.mark.parametrize("path, value, field", BAD_MESSAGES, ids=[f"{p}={v!r:.30}" for p, v, _ in BAD_MESSAGES])
def test_invalid_push_message_raises_protocol_error_naming_the_field(path, value, field):
    with pytest.raises(ProtocolError) as info:
        PushMessage.from_dict(_msg_with(path, value))
    assert info.value.field == field


@pytest.mark.parametrize("data", [None, [], "push", 3])
def test_push_message_must_be_an_object(data):
    with pytest.raises(ProtocolError) as info:
        PushMessage.from_dict(data)
    assert info.value.field == "push"


def test_push_message_without_package_is_resolved_by_app_id():
    for data in ({k: v for k, v in push_message().items() if k != "package"}, {**push_message(), "package": None}):
        assert PushMessage.from_dict(data).package is None


def test_push_message_from_empty_object_is_a_protocol_error():
    with pytest.raises(ProtocolError):
        PushMessage.from_dict({})


# --------------------------------------------------------------------------- push updates and labels


def update(**kw) -> PushUpdate:
    return read({"push_id": "p_1", "device_id": "phone-1", "state": "downloading", **kw}, PushUpdate)


@pytest.mark.parametrize(
    "done, total, expected",
    [
        (0, 100, 0),
        (42, 100, 42),
        (1, 3, 33),
        (999, 1000, 99),  # never rounds up to a 100% that is not there
        (100, 100, 100),
        (150, 100, 100),
        (-5, 100, 0),
        (5, -100, 0),
        (5, None, None),
        (5, 0, None),
        (None, 100, None),
    ],
)
def test_push_update_percent_clamps(done, total, expected):
    assert update(bytes_done=done, bytes_total=total).percent == expected


def test_push_update_from_dict():
    u = update(bytes_done=1, bytes_total=2, detail="x", updated_at="t")
    assert u.state is PushState.DOWNLOADING and u.detail == "x" and u.updated_at == "t"


LABELS = {
    S.QUEUED: "Queued (device offline)",
    S.SENT: "Sent",
    S.DELIVERED: "Delivered",
    S.WAITING_FOR_WIFI: "Waiting for Wi-Fi",
    S.DOWNLOADING: "Downloading",
    S.PAUSED: "Paused",
    S.VERIFYING: "Verifying",
    S.INSTALLING: "Installing",
    S.INSTALLED: "Installed",
    S.ALREADY_INSTALLED: "Already installed",
    S.DECLINED: "Declined",
    S.FAILED: "Failed",
    S.CANCELLED: "Cancelled",
    S.EXPIRED: "Expired",
}


def test_labels_cover_every_state():
    assert set(LABELS) == set(PushState)


@pytest.mark.parametrize("state", list(PushState))
def test_state_label(state):
    assert state_label(state) == LABELS[state]
    assert state_label(str(state)) == LABELS[state]


def test_state_label_with_progress_and_detail():
    assert state_label("downloading", 42) == "Downloading 42%"
    assert state_label(S.DOWNLOADING, 0) == "Downloading 0%"
    assert state_label("failed", detail="no space") == "Failed: no space"
    assert state_label("failed", detail="") == "Failed"
    assert state_label("queued") == "Queued (device offline)"
    # percent and detail only matter where they mean something
    assert state_label("paused", 42, "x") == "Paused"
    assert state_label("installed", 100, "done") == "Installed"
    # a phone that could not install by itself says why when it acknowledges
    assert (
        state_label("delivered", detail="waiting for the user: the push is not signed")
        == "Delivered, waiting for the user: the push is not signed"
    )
    with pytest.raises(ValueError):
        state_label("bogus")


# --------------------------------------------------------------------------- property: only ProtocolError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
_formats = st.sampled_from(sorted(FORMAT_MIME_TYPES)) | st.text(max_size=20)
_urls = st.sampled_from(
    [
        "http://h/a.apk",
        "https://h:8443/x",
        "/files/a/b.apk",
        "//h/x",
        "http://h:99999/",
        "http://[::1",
        "ftp://h/",
        "http://",
        "http://h:-1/",
    ]
) | st.text(max_size=40)
_sizes = st.integers(min_value=-2, max_value=2**64) | st.booleans() | st.floats(allow_nan=False)
_packages = st.fixed_dictionaries(
    {},
    optional={
        "format": _formats | json_values,
        "url": _urls | json_values,
        "sha256": st.text(alphabet="0123456789abcdefABCDEF\n ", max_size=66) | json_values,
        "size": _sizes | json_values,
    },
)
_apps = st.fixed_dictionaries(
    {},
    optional={
        "id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,5}") | st.text(max_size=10) | json_values,
        "name": st.text(max_size=210) | json_values,
        "version": st.text(max_size=70) | json_values,
        "version_code": _sizes | json_values,
        "size": _sizes | json_values,
        "icon_url": _urls | json_values,
        "runtime": st.text() | json_values,
        "description": st.text() | json_values,
        "packages": st.lists(_packages | json_values, max_size=18) | json_values,
    },
)


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=json_values | _apps)
def test_install_info_from_arbitrary_json_raises_only_protocol_error(data):
    try:
        info = InstallInfo.from_dict(data)
    except ProtocolError as exc:
        assert exc.field.startswith("app")
        return
    # whatever it accepts survives a round trip unchanged
    assert InstallInfo.from_dict(info.to_dict()) == info


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=json_values
    | st.fixed_dictionaries(
        {},
        optional={
            "push_id": st.text(max_size=70) | json_values,
            "mode": st.sampled_from(["install_now", "notify"]) | json_values,
            "sender": st.fixed_dictionaries(
                {},
                optional={
                    "username": st.text(max_size=70) | json_values,
                    "device_id": st.text(max_size=10) | json_values,
                    "device_name": json_values,
                },
            )
            | json_values,
            "app": _apps | json_values,
            "package": _packages | json_values,
            "created_at": st.text() | json_values,
        },
    )
)
def test_push_message_from_arbitrary_json_raises_only_protocol_error(data):
    try:
        PushMessage.from_dict(data)
    except ProtocolError:
        pass
