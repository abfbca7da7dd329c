# SPDX-License-Identifier: LGPL-2.1-only
"""Client addresses: the haproxy listener and distinct loopback sources.

Dovecot counts a connection as "secured" (plaintext auth allowed) only when
the remote IP equals the local IP (or TLS, or login_trusted_networks).  So a
client bound to 127.0.0.x (x != 1) talking to 127.0.0.1 is NOT secured.  One
arriving through the haproxy listener with a PROXY header from a
documentation address is not secured on Dovecot 2.3 either; 2.4 counts every
haproxied connection as secured unless ssl = required.  Failed logins are
penalised per source IP: tests of failures use source_ip so they do not slow
each other down.
"""

import time

import pytest

import harness
import popclient

# Dovecot 2.4 reworded login-common's refusal (altpop-login sends the same)
REFUSED = (b"-ERR [AUTH] Cleartext authentication disallowed" if harness.IS_24
           else b"-ERR [AUTH] Plaintext authentication disallowed")


@pytest.mark.parametrize("header", ["v1", "v2"])
def test_haproxy_listener(endpoint, instance, header):
    """The PROXY header gives the client's address.  Whether the connection
    is secured differs by version: 2.3 compares the header's address with
    the local one (not secured); 2.4 trusts haproxy_trusted_networks and
    counts the connection as secured (login-common's client_alloc(): "haproxy
    connections are always coming from haproxy_trusted_networks, so we
    consider them secured"), so plaintext login works there without TLS."""
    make = popclient.proxy_v1_header if header == "v1" else popclient.proxy_v2_header
    c = popclient.RawPop3(endpoint.haproxy_port, preamble=make("192.0.2.10"))
    assert c.greeting.startswith(b"+OK")
    status, caps = c.multi("CAPA")
    assert b"STLS\r\n" in caps
    if harness.IS_24:
        assert b"\r\nUSER\r\n" in b"\r\n" + caps
    else:
        assert b"\r\nUSER\r\n" not in b"\r\n" + caps
        assert c.cmd("USER alice").startswith(REFUSED)
        c.starttls()
    c.login("alice", "alicepw")
    assert c.stat() == (0, 0)
    c.quit()
    instance.wait_log(r"rip=192\.0\.2\.10")


def test_other_loopback_source_not_secured(endpoint, source_ip):
    c = popclient.RawPop3(endpoint.port, source=source_ip)
    assert c.cmd("USER alice").startswith(REFUSED)
    c.starttls()
    c.login("alice", "alicepw")
    c.quit()
    c = popclient.RawPop3(endpoint.ssl_port, tls=True, source=source_ip)
    c.login("alice", "alicepw")
    c.quit()


def test_penalty_is_per_source(endpoint, instance, source_ip):
    bad_ip, good_ip = source_ip, "127.0.0.1"
    for _ in range(2):
        c = popclient.RawPop3(endpoint.ssl_port, tls=True, source=bad_ip)
        c.ok("USER alice")
        assert c.cmd("PASS wrong").startswith(b"-ERR")
        c.close()
    started = time.monotonic()
    c = popclient.RawPop3(endpoint.port, source=good_ip)
    c.login("alice", "alicepw")
    c.quit()
    assert time.monotonic() - started < 1.5
