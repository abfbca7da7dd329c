# SPDX-License-Identifier: LGPL-2.1-only
"""Python's poplib against stock pop3 and altpop: basic POP3 semantics."""

import hashlib
import poplib
import re
import socket
import ssl
import time

import pytest

import mailgen
import popclient

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = pytest.mark.core


def _connect(port, **kw):
    return poplib.POP3("127.0.0.1", port, timeout=20, **kw)


def _login(port, user="alice", password="alicepw"):
    p = _connect(port)
    p.user(user)
    p.pass_(password)
    return p


def _joined(lines):
    """poplib strips CRLF and un-stuffs dots: rebuild the message bytes."""
    return b"".join(l + b"\r\n" for l in lines)


def _tls_ctx():
    return popclient.client_tls_context()


def test_stat_list_retr(endpoint, loaded):
    p = _login(endpoint.port)
    try:
        count, size = p.stat()
        assert count == len(loaded)
        assert size == sum(mailgen.expected_pop3_size(raw) for _, raw in loaded)
        resp, lines, _ = p.list()
        assert resp.startswith(b"+OK")
        listing = [tuple(map(int, l.split())) for l in lines]
        assert listing == [(i, mailgen.expected_pop3_size(raw))
                           for i, (_, raw) in enumerate(loaded, 1)]
        for i, (name, raw) in enumerate(loaded, 1):
            assert p.list(i) == b"+OK %d %d" % (i, mailgen.expected_pop3_size(raw))
            resp, lines, _ = p.retr(i)
            assert resp.startswith(b"+OK"), name
            assert _joined(lines) == mailgen.expected_pop3_bytes(raw), name
    finally:
        p.quit()


def test_top(endpoint, loaded):
    p = _login(endpoint.port)
    try:
        for i, (name, raw) in enumerate(loaded, 1):
            for n in (0, 1, 3, 100000):
                resp, lines, _ = p.top(i, n)
                assert resp.startswith(b"+OK")
                assert _joined(lines) == mailgen.expected_top_bytes(raw, n), (name, n)
    finally:
        p.quit()


def test_uidl(endpoint, loaded, instance):
    p = _login(endpoint.port)
    resp, lines, _ = p.uidl()
    uidls = dict(l.split(b" ", 1) for l in lines)
    assert list(uidls) == [b"%d" % i for i in range(1, len(loaded) + 1)]
    assert len(set(uidls.values())) == len(loaded)
    for i, u in uidls.items():
        assert re.fullmatch(rb"[\x21-\x7e]{1,70}", u)
        assert p.uidl(int(i)) == b"+OK " + i + b" " + u
    p.quit()
    # Stable across sessions, and after another message is expunged.
    p = _login(endpoint.port)
    assert dict(l.split(b" ", 1) for l in p.uidl()[1]) == uidls
    p.dele(1)
    p.quit()
    p = _login(endpoint.port)
    after = [l.split(b" ", 1)[1] for l in p.uidl()[1]]
    assert after == [uidls[b"%d" % i] for i in range(2, len(loaded) + 1)]
    p.quit()


def test_dele_rset_quit(endpoint, instance):
    msgs = [mailgen.numbered(i) for i in range(1, 6)]
    for raw in msgs:
        instance.deliver("alice", raw)
    p = _login(endpoint.port)
    uidls = [l.split(b" ", 1)[1] for l in p.uidl()[1]]
    assert p.dele(2).startswith(b"+OK")
    assert p.dele(4).startswith(b"+OK")
    # Deleted messages vanish from STAT/LIST and cannot be read or deleted again.
    assert p.stat() == (3, sum(mailgen.expected_pop3_size(msgs[i]) for i in (0, 2, 4)))
    assert [int(l.split()[0]) for l in p.list()[1]] == [1, 3, 5]
    for call in (lambda: p.retr(2), lambda: p.dele(4), lambda: p.list(2),
                 lambda: p.top(2, 0), lambda: p.uidl(4)):
        with pytest.raises(poplib.error_proto):
            call()
    # RSET undeletes everything.
    assert p.rset().startswith(b"+OK")
    assert p.stat()[0] == 5
    assert _joined(p.retr(2)[1]) == mailgen.expected_pop3_bytes(msgs[1])
    p.dele(3)
    assert p.quit().startswith(b"+OK")
    # Only what was marked after RSET is gone, and only after QUIT.
    p = _login(endpoint.port)
    left = [l.split(b" ", 1)[1] for l in p.uidl()[1]]
    assert left == [uidls[i] for i in (0, 1, 3, 4)]
    for n, orig in enumerate((0, 1, 3, 4), 1):
        assert _joined(p.retr(n)[1]) == mailgen.expected_pop3_bytes(msgs[orig])
    p.quit()
    assert instance.message_count("alice") == 4


def test_no_quit_no_delete(endpoint, instance):
    msgs = [mailgen.numbered(i) for i in range(1, 4)]
    for raw in msgs:
        instance.deliver("alice", raw)
    p = _login(endpoint.port)
    for i in (1, 2, 3):
        p.dele(i)
    assert p.stat()[0] == 0
    # Drop the connection without QUIT: nothing may be deleted.
    p.sock.shutdown(socket.SHUT_RDWR)
    p.close()
    time.sleep(0.5)
    p = _login(endpoint.port)
    assert p.stat()[0] == 3
    for i, raw in enumerate(msgs, 1):
        assert _joined(p.retr(i)[1]) == mailgen.expected_pop3_bytes(raw)
    p.quit()
    assert instance.message_count("alice") == 3


def test_delete_all_then_empty(endpoint, instance):
    for i in range(1, 4):
        instance.deliver("alice", mailgen.numbered(i))
    p = _login(endpoint.port)
    for i in (1, 2, 3):
        p.dele(i)
    p.quit()
    p = _login(endpoint.port)
    assert p.stat() == (0, 0)
    assert p.list()[1] == []
    assert p.uidl()[1] == []
    p.quit()
    assert instance.message_count("alice") == 0


def test_users_are_separate(endpoint, instance):
    instance.deliver("alice", mailgen.numbered(1, b"for alice"))
    instance.deliver("bob", mailgen.numbered(1, b"for bob"))
    instance.deliver("bob", mailgen.numbered(2, b"for bob"))
    a, b = _login(endpoint.port), _login(endpoint.port, "bob", "bobpw")
    assert a.stat()[0] == 1 and b.stat()[0] == 2
    assert _joined(b.retr(2)[1]) == mailgen.expected_pop3_bytes(mailgen.numbered(2, b"for bob"))
    a.quit()
    b.quit()


def test_wrong_password(endpoint, instance):
    p = _connect(endpoint.port)
    p.user("alice")
    with pytest.raises(poplib.error_proto):
        p.pass_("wrong")
    p.close()


def test_capa(endpoint):
    p = _connect(endpoint.port)
    caps = p.capa()
    for cap in ("TOP", "UIDL", "USER", "SASL", "STLS"):
        assert cap in caps, caps
    p.quit()


def test_apop(endpoint, instance):
    instance.deliver("alice", mailgen.dots())
    p = _connect(endpoint.port)
    assert re.search(rb"<[^<>]+@[^<>]+>", p.getwelcome()), p.getwelcome()
    assert p.apop("alice", "alicepw").startswith(b"+OK")
    assert _joined(p.retr(1)[1]) == mailgen.expected_pop3_bytes(mailgen.dots())
    p.quit()


def test_pop3s(endpoint, loaded):
    p = poplib.POP3_SSL("127.0.0.1", endpoint.ssl_port, timeout=20, context=_tls_ctx())
    assert isinstance(p.sock, ssl.SSLSocket)
    p.user("alice")
    p.pass_("alicepw")
    assert p.stat()[0] == len(loaded)
    for i, (name, raw) in enumerate(loaded, 1):
        assert _joined(p.retr(i)[1]) == mailgen.expected_pop3_bytes(raw), name
    p.quit()


def test_stls(endpoint, loaded):
    p = _connect(endpoint.port)
    p.stls(context=_tls_ctx())
    assert isinstance(p.sock, ssl.SSLSocket)
    assert "STLS" not in p.capa()
    p.user("alice")
    p.pass_("alicepw")
    raw = dict(loaded)["large"]
    idx = [n for n, _ in loaded].index("large") + 1
    got = _joined(p.retr(idx)[1])
    assert hashlib.sha256(got).hexdigest() == \
        hashlib.sha256(mailgen.expected_pop3_bytes(raw)).hexdigest()
    p.quit()
