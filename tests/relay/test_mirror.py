"""The mirror connects to the address it checked: DNS rebinding cannot turn it inward [0087].

A made-up name (``pkg.example.test``) is answered by a fake resolver, so each test decides
what the first and the later look-ups of the name return. The packages come from real
HTTP(S) servers on 127.0.0.1 that record what reached them.
"""

from __future__ import annotations

import datetime
import hashlib
import http.server
import socket
import ssl
import threading

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from tenacity import wait_none

from relay_server import mirror
from relay_server.db import database
from relay_server.models import Push
from tests.helpers.relay_api import Api

NAME = "pkg.example.test"
PUBLIC = "93.184.215.14"  # a global address; nothing is ever sent to it (see `connections`)
BODY = hashlib.sha256(b"pinned").digest() * 1000
SHA = hashlib.sha256(BODY).hexdigest()


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def _no_retry_wait(monkeypatch):
    """Retries of a failed copy follow at once (the backoff has nothing to prove here)."""
    monkeypatch.setattr(mirror, "wait_exponential_jitter", lambda **kwargs: wait_none())


class FakeDns:
    """Answers successive look-ups of made-up names: ``answers[name] = [first, second, ...]``
    (the last one repeats; an exception is raised). Other names resolve as usual. ``asked``
    logs every look-up of a made-up name."""

    def __init__(self):
        self.answers: dict[str, list] = {}
        self.asked: list[str] = []
        self._real = socket.getaddrinfo

    def getaddrinfo(self, host, port, family=0, type=0, proto=0, flags=0):
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self._real(host, port, family, type, proto, flags)
        self.asked.append(name)
        queue = self.answers[name]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, BaseException):
            raise answer
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (answer, int(port or 0)))]


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDns:
    dns = FakeDns()
    monkeypatch.setattr(socket, "getaddrinfo", dns.getaddrinfo)
    return dns


@pytest.fixture
def connections(monkeypatch):
    """The host of every connection urllib3 opens, in order. Connections to ``PUBLIC`` are
    refused here (as an unreachable server would be), so no test sends anything outside."""
    real = urllib3.util.connection.create_connection
    opened: list[str] = []

    def create_connection(address, *args, **kwargs):
        opened.append(address[0])
        if address[0] == PUBLIC:
            raise ConnectionRefusedError(f"test: {PUBLIC} is not reachable")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", create_connection)
    return opened


@pytest.fixture
def loopback_counts_as_public(monkeypatch):
    """Lets the SSRF check accept 127.0.0.1, so a pinned connection can reach a test server
    while ``mirror_allow_private`` stays off (the pinning path is the one under test)."""
    real = mirror.is_public
    monkeypatch.setattr(mirror, "is_public", lambda address: address.is_loopback or real(address))


class _Recording(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        self.server.hosts.append(self.headers.get("Host"))
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args):
        pass


class PackageServer:
    """A server on 127.0.0.1 that serves ``BODY`` at any path and records each request's
    Host header (``hosts``) and, over TLS, the SNI name of each handshake (``sni``)."""

    def __init__(self, tls: ssl.SSLContext | None = None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recording)
        self.httpd.daemon_threads = True
        self.httpd.hosts = self.hosts = []
        self.sni: list[str | None] = []
        self.scheme = "http"
        if tls is not None:
            tls.sni_callback = lambda sock, name, context: self.sni.append(name)
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, host: str = NAME) -> str:
        return f"{self.scheme}://{host}:{self.port}/app.apk"

    def __enter__(self) -> "PackageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


def _local_ca(directory):
    """A certificate authority in ``directory/ca.pem``, and ``issue(name)`` -> a server
    context with a certificate for ``name`` signed by it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "appbeam test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))

    def issue(name: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_path, key_path)
        return context

    return directory / "ca.pem", issue


@pytest.fixture
def local_ca(tmp_path, monkeypatch):
    """The mirror trusts a local CA (through ``REQUESTS_CA_BUNDLE``); returns ``issue``."""
    ca_path, issue = _local_ca(tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(ca_path))
    return issue


def _mirror_push(app, url: str) -> dict:
    """Push ``url`` to an offline phone, wait for the relay's copy; the push as the sender sees it."""
    client = app.test_client()
    api = Api(client)
    api.account("anna")
    laptop = api.login("anna", "anna-laptop", platform="linux")
    api.login("anna", "anna-phone")
    resp = api.push(
        laptop,
        ["anna-phone"],
        app={"id": "com.example.app", "packages": [{"format": "apk", "url": url, "sha256": SHA}]},
    )
    assert resp.status_code == 201, resp.get_json()
    push_id = resp.get_json()["pushes"][0]["id"]
    assert app.extensions["appbeam_relay"].mirror.wait_idle()
    return client.get(f"/api/v1/pushes/{push_id}", headers=laptop).get_json()


def _mirror_status(push_id: str) -> str:
    with database.connection_context():
        return Push.get_by_id(push_id).mirror_status


# ----------------------------------------------------------------------------- tests


def test_dns_rebinding_to_loopback_never_reaches_the_loopback_server(app, fake_dns, connections):
    """The check gets a public address, every later look-up 127.0.0.1, where a server listens.

    The copy goes only to the checked public address (which refuses); the retry resolves
    again, is checked again, and is refused: nothing ever connects to 127.0.0.1."""
    with PackageServer() as internal:
        fake_dns.answers[NAME] = [PUBLIC, "127.0.0.1"]

        shown = _mirror_push(app, internal.url())

    assert internal.hosts == [], "the mirror reached a loopback server through DNS rebinding"
    assert connections and set(connections) == {PUBLIC}, connections
    assert shown["mirrored"] is False
    assert shown["package"]["url"] == internal.url(), "delivered with the original URL"
    assert "could not keep a copy" in shown["detail"]
    assert f"{NAME} resolves to a non-public address (127.0.0.1)" in shown["detail"]
    assert _mirror_status(shown["id"]) == "failed"


def test_pinned_http_connection_reaches_the_checked_address_with_the_hostname(
    app, fake_dns, connections, loopback_counts_as_public
):
    """One look-up per connection: later answers (here: the name no longer exists) are never used."""
    with PackageServer() as server:
        fake_dns.answers[NAME] = ["127.0.0.1", socket.gaierror(socket.EAI_NONAME, "rebound away")]

        shown = _mirror_push(app, server.url())

    assert shown["mirrored"] is True, shown.get("detail")
    assert shown["package"]["url"] == f"/api/v1/packages/{SHA}"
    assert server.hosts == [f"{NAME}:{server.port}"]
    assert connections == ["127.0.0.1"]
    assert fake_dns.asked == [NAME]


def test_pinned_https_connection_sends_sni_and_verifies_the_certificate_for_the_hostname(
    app, fake_dns, connections, loopback_counts_as_public, local_ca
):
    with PackageServer(tls=local_ca(NAME)) as server:
        fake_dns.answers[NAME] = ["127.0.0.1", socket.gaierror(socket.EAI_NONAME, "rebound away")]

        shown = _mirror_push(app, server.url())

    assert shown["mirrored"] is True, shown.get("detail")
    assert server.sni == [NAME]
    assert server.hosts == [f"{NAME}:{server.port}"]
    assert connections == ["127.0.0.1"]


def test_pinned_https_refuses_a_certificate_for_another_name(
    app, fake_dns, connections, loopback_counts_as_public, local_ca
):
    """The address is pinned, but the certificate must still be the hostname's."""
    with PackageServer(tls=local_ca("other.example.test")) as server:
        fake_dns.answers[NAME] = ["127.0.0.1"]

        shown = _mirror_push(app, server.url())

    assert shown["mirrored"] is False
    assert "certificate verify failed" in shown["detail"].lower() or "hostname mismatch" in shown["detail"].lower(), (
        shown["detail"]
    )
    assert set(server.sni) == {NAME}
    assert server.hosts == [], "no request may be sent over an unverified connection"
    assert _mirror_status(shown["id"]) == "failed"


def test_allowed_private_addresses_are_fetched_as_before(relay_config, fake_dns):
    """With ``mirror_allow_private`` (an operator's choice; tests use it for loopback servers)
    the name is resolved by the connection as usual and no address is refused."""
    from relay_server.app import close_app, create_app

    config = relay_config.with_(mirror_allow_private=True)
    config.data_dir.mkdir(parents=True, exist_ok=True)
    application = create_app(config)
    try:
        with PackageServer() as server:
            fake_dns.answers[NAME] = ["127.0.0.1"]
            shown = _mirror_push(application, server.url())
    finally:
        close_app(application)

    assert shown["mirrored"] is True, shown.get("detail")
    assert server.hosts == [f"{NAME}:{server.port}"]
