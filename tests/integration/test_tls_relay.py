# SPDX-License-Identifier: LGPL-2.1-only
"""A session over TLS after login (pop3s and STLS), as altpop-login's TLS
relay carries it: big messages arrive complete and in order, QUIT ends
the TLS session with close_notify, and a client that goes away mid-
transfer ends the post-login session (its maildrop lock is released)."""

import socket
import time

import pytest

import mailgen
import popclient
from servercheck import assert_log_clean

pytestmark = pytest.mark.core

# several TLS records per message, more than the socket buffers hold
BIG = 3 * 1024 * 1024


def _connect(endpoint, tls):
    if tls == "stls":
        c = popclient.RawPop3(endpoint.port, timeout=60)
        assert c.starttls().startswith(b"+OK")
    else:
        c = popclient.RawPop3(endpoint.ssl_port, tls=True, timeout=60)
    return c


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_big_messages_then_close_notify(endpoint, instance, tls):
    msgs = [mailgen.large(BIG), mailgen.numbered(2), mailgen.large(BIG // 3)]
    for raw in msgs:
        instance.deliver("alice", raw)
    c = _connect(endpoint, tls)
    c.login("alice", "alicepw")
    # pipelined: the relay moves several messages without waiting
    c.send(b"RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 1\r\n")
    for raw in msgs + msgs[:1]:
        assert c.readline() == b"+OK %d octets" % mailgen.expected_pop3_size(raw)
        data, _ = c.read_multiline()
        assert data == mailgen.expected_pop3_bytes(raw)
    assert c.cmd("QUIT").startswith(b"+OK")
    # the server ends TLS cleanly: close_notify, then EOF (an EOF without
    # it would raise SSLEOFError)
    c.sock.settimeout(10)
    assert c.sock.recv(1) == b""
    c.close()
    assert_log_clean(instance)


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_client_gone_mid_transfer_ends_session(endpoint, instance, tls):
    big = mailgen.large(BIG)
    instance.deliver("alice", big)
    c = _connect(endpoint, tls)
    c.login("alice", "alicepw")
    c.send(b"RETR 1\r\n" * 10)
    c.readline()
    # gone without QUIT or close_notify, with the server still sending
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
    c.sock.close()
    # the post-login session ended: its maildrop lock is free again
    deadline = time.monotonic() + 20
    while True:
        d = _connect(endpoint, tls)
        d.send(b"USER alice\r\n")
        d.readline()
        d.send(b"PASS alicepw\r\n")
        reply = d.readline()
        if reply.startswith(b"+OK") or time.monotonic() > deadline:
            break
        d.sock.close()
        time.sleep(0.5)
    assert reply.startswith(b"+OK"), reply
    assert d.retr(1) == mailgen.expected_pop3_bytes(big)
    d.quit()
    assert_log_clean(instance)
