"""A relay that cannot start says why in one sentence, exits, and leaves its data dir alone.

A new user's walkthrough found ``appbeam relay`` printing Python tracebacks for a port out of
range, a port in use, an address not on the machine, a data dir that cannot be made, a database
that does not answer and a certificate that does not exist (the last one even claimed to listen,
then failed every connection). Each case here runs the real command and checks what the user
sees: the exit status, the sentence, no traceback, and (where the relay refused before it
started) no data dir written.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import urllib3

from shared.paths import DataDirUnusable, data_dir
from shared.relay_client import RelayClient
from tests.helpers.relay_process import RelayProcess
from tests.relay.test_https import _self_signed

REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    """This environment without the ``APPBEAM_*`` settings a test run may carry (a PostgreSQL
    URL from tests/with_postgres.sh, APPBEAM_HOME): each test says what it means."""
    return {k: v for k, v in os.environ.items() if not k.startswith("APPBEAM_")}


def _appbeam(
    *args: str, env: dict[str, str] | None = None, user: str | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "appbeam_devtools", *args]
    if user is not None:
        uid, gid = user.split(":")
        command = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=REPO, env=env or _env())


def _relay(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return _appbeam("relay", "--no-demo-catalog", *args, **kwargs)  # type: ignore[arg-type]


def _refused(result: subprocess.CompletedProcess[str], sentence: str, status: int = 2) -> None:
    """Exit ``status`` with ``sentence`` as the last line on stderr, and no traceback anywhere."""
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert result.returncode == status, result.stderr
    assert result.stderr.strip().splitlines()[-1] == sentence


@pytest.fixture
def busy_port():
    """A port another program listens on (127.0.0.1)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


# ---------------------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("flag", "value", "sentence"),
    [
        ("--port", "99999", "argument --port: must be 0 to 65535, not 99999"),
        ("--port", "-1", "argument --port: must be 0 to 65535, not -1"),
        ("--port", "http", "argument --port: must be a whole number from 0 to 65535, not 'http'"),
        ("--demo-scale", "-3", "argument --demo-scale: must be more than 0, not -3"),
        ("--demo-scale", "0", "argument --demo-scale: must be more than 0, not 0"),
        ("--processes", "0", "argument --processes: must be at least 1, not 0"),
    ],
)
def test_flags_out_of_range_are_refused_before_anything_starts(tmp_path, flag, value, sentence):
    result = _relay("--data-dir", str(tmp_path / "relay"), f"{flag}={value}")

    _refused(result, f"appbeam relay: error: {sentence}")
    assert not (tmp_path / "relay").exists()


# -------------------------------------------------------------------------------- the address


def test_a_port_in_use_is_named_and_the_data_dir_is_not_made(tmp_path, busy_port):
    result = _relay("--port", str(busy_port), "--data-dir", str(tmp_path / "relay"))

    _refused(
        result,
        f"appbeam relay: Cannot listen on 127.0.0.1:{busy_port}: the port is in use by another program. "
        "Stop it or choose another --port.",
    )
    assert not (tmp_path / "relay").exists()


def test_a_port_in_use_stops_several_processes_too(tmp_path, busy_port):
    """The supervisor of ``--processes 2`` checks the address before it makes the data dir."""
    result = _relay("--port", str(busy_port), "--processes", "2", "--data-dir", str(tmp_path / "relay"))

    _refused(
        result,
        f"appbeam relay: Cannot listen on 127.0.0.1:{busy_port}: the port is in use by another program. "
        "Stop it or choose another --port.",
    )
    assert not (tmp_path / "relay").exists()


def test_an_address_not_on_this_machine_is_named(tmp_path):
    # 192.0.2.1: TEST-NET-1 (RFC 5737), never an address of a real machine.
    result = _relay("--host", "192.0.2.1", "--port", "8765", "--data-dir", str(tmp_path / "relay"))

    _refused(
        result,
        "appbeam relay: Cannot listen on 192.0.2.1:8765: 192.0.2.1 is not an address of this machine. "
        "Choose one of its addresses with --host (or 0.0.0.0 for all).",
    )
    assert not (tmp_path / "relay").exists()


def _unprivileged_user() -> str | None:
    """``uid:gid`` of a user who cannot bind port 80 or write root's folders ("" when the tests
    do not run as root; as root: nobody, through setpriv); None when there is none."""
    if os.geteuid() != 0:
        return ""
    if shutil.which("setpriv") is None:
        return None
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None
    return f"{nobody.pw_uid}:{nobody.pw_gid}"


def test_a_privileged_port_says_to_choose_another(tmp_path):
    user = _unprivileged_user()
    if user is None:
        pytest.skip("running as root without setpriv or a 'nobody' user: every port can be bound")
    if Path("/proc/sys/net/ipv4/ip_unprivileged_port_start").read_text().strip() not in ("1024",):
        pytest.skip("this machine lets every user bind the low ports")
    data = tmp_path / "relay"  # nobody could not write it anyway: the point is that it is not tried
    result = _relay("--port", "80", "--data-dir", str(data), user=user or None)

    _refused(
        result,
        "appbeam relay: Cannot listen on 127.0.0.1:80: ports below 1024 need administrator rights. "
        "Choose --port 1024 or above (and put a proxy on 80/443 in front, see docs/deploy.md).",
    )
    assert not data.exists()


# ------------------------------------------------------------------------------- the data dir


def test_data_dirs_that_cannot_be_made_are_named(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    then = "then start the relay again."
    cases = [
        (
            "/proc/nope",
            f"/proc/nope cannot be made (No such file or directory). Give --data-dir a folder this user can write, {then}",
        ),
        (
            str(a_file / "relay"),
            f"{a_file / 'relay'} cannot be made: part of that path is a file, not a folder. "
            f"Give --data-dir a folder this user can write, {then}",
        ),
        (str(a_file), f"{a_file} is a file, not a folder. Give --data-dir a folder, {then}"),
    ]
    for folder, sentence in cases:
        _refused(_relay("--port", "0", "--data-dir", folder), f"appbeam relay: {sentence}")
    assert a_file.read_text() == "not a folder"


def test_a_default_data_dir_that_cannot_be_made_is_named_by_the_relay(tmp_path):
    result = _relay("--port", "0", env={**_env(), "APPBEAM_HOME": "/proc/nope"})

    _refused(
        result,
        "appbeam relay: The data folder /proc/nope/relay/default cannot be used (No such file or directory). "
        "Choose another folder with --data-dir (or APPBEAM_HOME) that this user can write.",
    )


@pytest.mark.parametrize(
    "command", [("push", "app.apk", "--to", "Alex's Pixel"), ("demo", "--headless")], ids=["push", "demo"]
)
def test_the_other_commands_name_a_data_dir_that_cannot_be_made(command):
    """``shared.paths.data_dir`` is where the other commands make theirs: a sentence, status 1."""
    result = _appbeam(*command, "--data-dir", "/proc/nope")

    _refused(
        result,
        "The data folder /proc/nope cannot be used (No such file or directory). "
        "Choose another folder with --data-dir (or APPBEAM_HOME) that this user can write.",
        status=1,
    )


def test_data_dir_says_which_folder_and_why(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    with pytest.raises(DataDirUnusable) as under_a_file:
        data_dir("sender", override=a_file / "sender")
    with pytest.raises(DataDirUnusable) as is_a_file:
        data_dir("sender", override=a_file)

    assert "part of that path is a file, not a folder" in under_a_file.value.sentence
    assert f"The data folder {a_file} cannot be used (it is a file, not a folder)." in is_a_file.value.sentence


def test_a_data_dir_that_cannot_be_written_says_to_choose_another_folder(tmp_path):
    """A permission problem asks for another folder; it does not talk about free space."""
    user = _unprivileged_user()
    if user is None:
        pytest.skip("running as root without setpriv or a 'nobody' user: every folder can be written")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    result = _relay("--port", "0", "--data-dir", str(locked / "relay"), user=user or None)

    _refused(
        result,
        f"appbeam relay: {locked / 'relay'} cannot be written (Permission denied). "
        "Give --data-dir a folder this user can write, then start the relay again.",
    )


# ------------------------------------------------------------------------------- the database


def test_a_database_that_does_not_answer_is_named_without_its_password(tmp_path):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = _relay(
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "relay"),
        "--database-url",
        f"postgresql://u:s3cret@127.0.0.1:{port}/db",
    )

    _refused(
        result,
        f"appbeam relay: Cannot connect to the database at 127.0.0.1:{port}: connection refused. "
        "Is PostgreSQL running? Check --database-url.",
    )
    assert "s3cret" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("url", "shown"), [("mysql://u:s3cret@db.example/relay", "mysql://u:***@db.example/relay"), ("garbage", "garbage")]
)
def test_a_database_url_of_another_kind_is_refused_before_connecting(tmp_path, url, shown):
    result = _relay("--port", "0", "--data-dir", str(tmp_path / "relay"), "--database-url", url)

    _refused(
        result,
        f"appbeam relay: The database URL {shown!r} is neither SQLite nor PostgreSQL: give --database-url "
        "(or APPBEAM_DATABASE_URL) as sqlite:///path/to/relay.db or postgresql://user@host/db.",
    )
    assert "s3cret" not in result.stderr + result.stdout


# ---------------------------------------------------------------------------------------- TLS


def test_a_certificate_that_does_not_exist_stops_the_start(tmp_path):
    result = _relay(
        "--port",
        "0",
        "--data-dir",
        str(tmp_path / "relay"),
        "--certfile",
        "/nonexistent.pem",
        "--keyfile",
        "/nonexistent.key",
    )

    _refused(
        result, "appbeam relay: --certfile /nonexistent.pem cannot be read (No such file or directory). Check the path."
    )
    assert "listening" not in result.stderr
    assert not (tmp_path / "relay").exists()


def test_a_file_that_is_not_a_certificate_stops_the_start(tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("this is not a certificate\n")
    result = _relay(
        "--port", "0", "--data-dir", str(tmp_path / "relay"), "--certfile", str(junk), "--keyfile", str(junk)
    )

    _refused(result, f"appbeam relay: --certfile {junk} holds no certificate in PEM form.")
    assert not (tmp_path / "relay").exists()


def test_a_key_without_its_certificate_is_refused(tmp_path):
    pem = tmp_path / "some.pem"
    pem.write_text("")
    result = _relay("--port", "0", "--data-dir", str(tmp_path / "relay"), "--keyfile", str(pem))

    _refused(
        result,
        "appbeam relay: --keyfile needs --certfile too: give the certificate and its private key to serve HTTPS, "
        "or neither to serve plain HTTP.",
    )
    assert not (tmp_path / "relay").exists()


def test_a_certificate_without_its_key_is_refused(tmp_path):
    cert, _ = _self_signed(tmp_path)
    result = _relay("--port", "0", "--data-dir", str(tmp_path / "relay"), "--certfile", str(cert))

    _refused(
        result,
        f"appbeam relay: --certfile {cert} holds no private key: give it with --keyfile, "
        "or use one PEM file holding both.",
    )
    assert not (tmp_path / "relay").exists()


def test_one_file_holding_the_certificate_and_its_key_serves_https(tmp_path):
    cert, key = _self_signed(tmp_path)
    both = tmp_path / "both.pem"
    both.write_bytes(Path(key).read_bytes() + Path(cert).read_bytes())

    with pytest.warns(urllib3.exceptions.InsecureRequestWarning):  # the readiness probe does not verify
        relay = RelayProcess(tmp_path / "relay", extra_args=["--no-demo-catalog", "--certfile", str(both)]).start()
    try:
        assert relay.url.startswith("https://")
        assert RelayClient(relay.url, verify=str(cert)).health().status == "ok"
    finally:
        relay.stop()


# ------------------------------------------------------------------------------- plain HTTP


WARNING = (
    "anyone on the network can read passwords and tokens; use --certfile/--keyfile or a TLS proxy (docs/deploy.md)"
)


def test_plain_http_on_the_network_is_warned_about_and_on_loopback_not(tmp_path):
    with RelayProcess(tmp_path / "network", extra_args=["--no-demo-catalog", "--host", "0.0.0.0"]) as network:
        network_log = network.log_path.read_text()
    with RelayProcess(tmp_path / "loopback", extra_args=["--no-demo-catalog"]) as loopback:
        loopback_log = loopback.log_path.read_text()

    assert f"the relay listens on 0.0.0.0 without TLS: {WARNING}" in network_log
    assert WARNING not in loopback_log


def test_a_key_of_another_certificate_stops_the_start(tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    cert, _ = _self_signed(tmp_path / "one")
    _, other_key = _self_signed(tmp_path / "two")
    result = _relay(
        "--port", "0", "--data-dir", str(tmp_path / "relay"), "--certfile", str(cert), "--keyfile", str(other_key)
    )

    _refused(result, f"appbeam relay: The key {other_key} does not belong to the certificate {cert}.")
    assert not (tmp_path / "relay").exists()
