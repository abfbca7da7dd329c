"""Client addresses: the haproxy listener and distinct loopback sources.

Dovecot counts a connection as "secured" (plaintext auth allowed) only when
the remote IP equals the local IP (or TLS, or login_trusted_networks).  So a
client bound to 127.0.0.x (x != 1) talking to 127.0.0.1 is NOT secured, just
like one arriving through the haproxy listener with a PROXY header from a
documentation address.  Failed logins are penalised per source IP: tests of
failures use source_ip so they do not slow each other down.
"""

import time

import pytest

import popclient

REFUSED = b"-ERR [AUTH] Plaintext authentication disallowed"


@pytest.mark.parametrize("header", ["v1", "v2"])
def test_haproxy_listener_not_secured(endpoint, instance, header):
    make = popclient.proxy_v1_header if header == "v1" else popclient.proxy_v2_header
    c = popclient.RawPop3(endpoint.haproxy_port, preamble=make("192.0.2.10"))
    assert c.greeting.startswith(b"+OK")
    status, caps = c.multi("CAPA")
    assert b"STLS\r\n" in caps
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
