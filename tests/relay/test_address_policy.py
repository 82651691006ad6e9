"""The mirror's address policy sees through IPv6 forms that embed an IPv4 address (issue 11, item 8)."""

from __future__ import annotations

import ipaddress

import pytest

from relay_server.address_policy import is_public


@pytest.mark.parametrize(
    "text",
    [
        "64:ff9b::7f00:1",  # NAT64 for 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 for 10.0.0.1
        "64:ff9b:1::a9fe:a9fe",  # local-use NAT64 for 169.254.169.254 (cloud metadata)
        "2002:7f00:1::",  # 6to4 for 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 for 192.168.1.1
        "::127.0.0.1",  # IPv4-compatible
        "::10.1.2.3",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "2001:0:4136:e378:8000:63bf:f5ff:fffe",  # Teredo whose client is 10.0.0.1
        "::1",
        "fe80::1",
        "fc00::1",
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "100.64.0.1",
    ],
)
def test_inward_addresses_are_refused(text):
    assert not is_public(ipaddress.ip_address(text))


@pytest.mark.parametrize(
    "text",
    [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
        "64:ff9b::5db8:d70e",  # NAT64 for the public 93.184.215.14: fine
        "2002:5db8:d70e::1",  # 6to4 for the same
    ],
)
def test_public_addresses_pass(text):
    assert is_public(ipaddress.ip_address(text))


def test_the_mirror_refuses_a_name_that_resolves_to_6to4_for_loopback(monkeypatch):
    import socket

    from relay_server import mirror

    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2002:7f00:1::", 0, 0, 0))],
    )

    with pytest.raises(mirror.MirrorRefused, match="non-public"):
        mirror.public_address("pkg.example.test")
