"""The relay serves HTTPS when given a certificate; clients verify it by default and can be
pointed at a custom certificate authority."""

from __future__ import annotations

import datetime
import ipaddress

import pytest
import urllib3
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from shared.relay_client import RelayClient
from shared.relay_errors import RelayUnavailable
from tests.helpers.relay_process import RelayProcess


def _self_signed(directory):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "appbeam test relay")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.fixture
def https_relay(tmp_path):
    cert, key = _self_signed(tmp_path)
    with pytest.warns(urllib3.exceptions.InsecureRequestWarning):  # the readiness probe does not verify
        relay = RelayProcess(tmp_path / "relay", extra_args=["--certfile", str(cert), "--keyfile", str(key)]).start()
    yield relay, cert
    relay.stop()


def test_https_with_the_right_ca_works_and_unknown_certificates_are_refused(https_relay):
    relay, cert = https_relay
    assert relay.url.startswith("https://")

    trusting = RelayClient(relay.url, verify=str(cert))
    assert trusting.health().status == "ok"
    trusting.create_account("anna", "correct horse")

    with pytest.raises(RelayUnavailable) as refused:
        RelayClient(relay.url).health()  # verification is on by default
    assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)


def test_clients_honour_requests_ca_bundle(https_relay, monkeypatch):
    relay, cert = https_relay
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
    assert RelayClient(relay.url).health().status == "ok"
