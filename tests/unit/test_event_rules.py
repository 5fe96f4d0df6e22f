"""The feed's pure rules: webhook signatures and the target addresses a webhook may not reach."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.rules.events import address_refusal, sign, signature_valid


@given(secret=st.text(min_size=1, max_size=40), body=st.binary(max_size=200), stamp=st.integers(0, 2**40))
def test_a_signature_verifies_with_its_secret_and_body_only(secret, body, stamp):
    header = sign(secret, body, stamp)
    assert signature_valid(secret, body, header)
    assert not signature_valid(secret + "x", body, header)
    assert not signature_valid(secret, body + b"x", header)
    assert not signature_valid(secret, body, header.replace(f"t={stamp}", f"t={stamp + 1}"))


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=x,v1=abc", "t=1", "garbage"])
def test_a_malformed_signature_header_does_not_verify(header):
    assert not signature_valid("s", b"{}", header)


@pytest.mark.parametrize("address,why", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("10.0.0.5", "private"), ("172.16.1.1", "private"),
    ("192.168.1.1", "private"), ("169.254.169.254", "private"), ("fe80::1", "private"), ("224.0.0.1", "multicast"),
    ("0.0.0.0", "private"), ("::ffff:127.0.0.1", "loopback"), ("100.64.0.1", "not public"), ("240.0.0.1", "private"),
])
def test_loopback_private_link_local_multicast_and_reserved_addresses_are_refused(address, why):
    assert address_refusal(address) is not None
    assert address_refusal(address) == why or why == "private"


@pytest.mark.parametrize("address", ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"])
def test_public_addresses_are_allowed(address):
    assert address_refusal(address) is None


def test_a_name_is_not_an_address():
    assert address_refusal("example.org") == "not an IP address"
