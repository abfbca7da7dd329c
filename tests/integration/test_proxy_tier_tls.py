# SPDX-License-Identifier: LGPL-2.1-only
"""TLS through the front tier: a client's pop3s or STLS session to an
altpop front that proxies it to a backend (stock pop3 or altpop, plain
TCP inside the topology's own network). What the client gets through the
front is what the backend has, byte for byte, however big; QUIT ends the
TLS session with close_notify; a client that leaves ends the backend
session; the front's admin still sees and kicks the session with
`doveadm proxy list` / `doveadm proxy kick`; no login process logs an
error."""

import os
import re
import signal
import time

import pytest

import dropin
import harness
import mailgen
import popclient
import test_tls_relay
import topology
from servercheck import assert_log_clean

# core: TLS through the front is checked on every Dovecot CI covers
pytestmark = [pytest.mark.altpop_only, pytest.mark.core]

# several TLS records and more than the socket buffers hold
BIG = 3 * 1024 * 1024
# user -> (backend index, password, extra front passdb fields)
USERS = {
    "t0": (0, "t0pw", ""),
    "t1": (1, "t1pw", ""),
    "g0": (0, "g0pw", ""),
    "g1": (1, "g1pw", ""),
    "k0": (0, "k0pw", ""),
    "k1": (1, "k1pw", ""),
}
TLS_KINDS = ("pop3s", "stls")


@pytest.fixture(scope="module")
def topo(stage):
    front = harness.setting("auth_mechanisms", "plain login")
    with topology.Topology(stage, backends=("pop3", "altpop"), users=USERS,
                           front_extra=front) as t:
        for user in ("t0", "t1"):
            b = t.backend_of(user)
            b.deliver(user, mailgen.large(BIG))
            b.deliver(user, mailgen.large(BIG // 3))
            for _, raw in mailgen.standard_set():
                b.deliver(user, raw)
        for user in ("g0", "g1", "k0", "k1"):
            t.backend_of(user).deliver(user, mailgen.numbered(1, subject=user.encode()))
        yield t


class _RecordWire(test_tls_relay.TlsWire):
    """The TLS client, noting the length of every TLS record the server
    sent (from the 5-byte record headers of the raw stream)."""

    def __init__(self, sock, context=None):
        self.record_lengths = []
        self._raw_in = bytearray()
        super().__init__(sock, context)

    def _receive(self):
        chunk = self.raw.recv(65536)
        self._raw_in += chunk
        while len(self._raw_in) >= 5:
            length = int.from_bytes(self._raw_in[3:5], "big")
            if len(self._raw_in) < 5 + length:
                break
            self.record_lengths.append(length)
            del self._raw_in[:5 + length]
        if chunk:
            self.incoming.write(chunk)
        else:
            self.incoming.write_eof()


class _FrontEndpoint:
    """What test_tls_relay's client wants: .port (STLS) and .ssl_port
    (pop3s) of the front's altpop listeners."""

    def __init__(self, topo):
        self.port = topo.front.port("altpop", "pop3")
        self.ssl_port = topo.front.port("altpop", "pop3s")


def _front_tls(topo, tls, timeout=60):
    with topo.front_ns.inside():
        return test_tls_relay._connect(_FrontEndpoint(topo), tls,
                                       timeout=timeout, wire=_RecordWire)


def _direct(topo, user):
    with topo.front_ns.inside():
        d = popclient.RawPop3(*reversed(topo.direct_port(user)), timeout=60)
    d.login(user, USERS[user][1])
    return d


def _fetch_all(c):
    n = int(c.ok("STAT").split()[1])
    return [c.retr(i) for i in range(1, n + 1)], c.multi("UIDL")


def _assert_front_clean(topo):
    test_tls_relay.assert_log_clean(topo.front)
    for b in topo.backends:
        assert_log_clean(b)


@pytest.mark.parametrize("tls", TLS_KINDS)
@pytest.mark.parametrize("user", ["t0", "t1"])
def test_maildrop_through_the_front_is_byte_identical(topo, user, tls):
    c = _front_tls(topo, tls)
    c.login(user, USERS[user][1])
    via_front = _fetch_all(c)
    assert c.ok("QUIT").startswith(b"+OK")
    test_tls_relay._assert_ends_with_close_notify(c)
    d = _direct(topo, user)
    direct = _fetch_all(d)
    d.quit()
    assert via_front == direct
    assert sum(len(m) for m in via_front[0]) > BIG
    # altpop's TLS relay carried the session: full-size records (2^14
    # bytes of plaintext and the cipher's overhead; login-common's proxy
    # writes at most 8 KB of plaintext per record)
    assert max(c.sock.record_lengths) > 16384, sorted(set(c.sock.record_lengths))[-5:]
    _assert_front_clean(topo)


@pytest.mark.parametrize("tls", TLS_KINDS)
@pytest.mark.parametrize("user", ["g0", "g1"])
def test_pipelined_flood_through_the_front(topo, user, tls):
    """2,000 commands in one write: every reply comes back, in order."""
    count = 2000
    c = _front_tls(topo, tls)
    c.login(user, USERS[user][1])
    c.sock.settimeout(120)
    c.send(b"NOOP\r\nLIST 1\r\n" * (count // 2))
    replies = [c.readline() for _ in range(count)]
    assert all(r == b"+OK" for r in replies[0::2]), replies[:4]
    assert all(r.startswith(b"+OK 1 ") for r in replies[1::2]), replies[:4]
    assert c.ok("QUIT").startswith(b"+OK")
    test_tls_relay._assert_ends_with_close_notify(c)
    _assert_front_clean(topo)


def _backend_service(topo, user):
    b = topo.backend_of(user)
    return b, ("altpop" if "altpop" in b.protocols else "pop3")


def _count(inst, rx):
    return len(re.findall(rx, inst.log_text()))


def _wait_count(inst, rx, above, timeout=20):
    """Waits until rx matches more than above lines of inst's log."""
    deadline = time.monotonic() + timeout
    while _count(inst, rx) <= above:
        assert time.monotonic() < deadline, (rx, inst.log_text()[-3000:])
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["close_notify", "tcp close"])
@pytest.mark.parametrize("user", ["g0", "g1"])
def test_client_leaving_ends_the_backend_session(topo, user, how):
    b, service = _backend_service(topo, user)
    back_rx = r"%s\(%s\)[^\n]*Disconnected" % (service, user)
    front_rx = r"proxy\(%s,[^\n]*Disconnected by client" % user
    back_before = _count(b, back_rx)
    front_before = _count(topo.front, front_rx)
    c = _front_tls(topo, "pop3s")
    c.login(user, USERS[user][1])
    assert c.ok("STAT").startswith(b"+OK 1 ")
    if how == "close_notify":
        c.sock.close_notify()
    c.close()
    _wait_count(b, back_rx, back_before)
    _wait_count(topo.front, front_rx, front_before)
    _assert_front_clean(topo)


@pytest.mark.parametrize("user", ["k0", "k1"])
def test_admin_lists_and_kicks_a_tls_session(topo, user):
    # 2.4 kicks through anvil, which ends a login process that serves
    # only this session as at shutdown
    kick_rx = (r"proxy\(%s,[^\n]*Disconnected by proxy: "
               r"(?:Kicked by admin|Process shutting down)" % user)
    before = _count(topo.front, kick_rx)
    c = _front_tls(topo, "pop3s")
    c.login(user, USERS[user][1])
    assert c.ok("STAT").startswith(b"+OK 1 ")
    deadline = time.monotonic() + 10
    while user not in dropin.doveadm(topo.front, "proxy", "list"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    dropin.doveadm(topo.front, "proxy", "kick", user)
    c.sock.settimeout(20)
    assert c.sock.recv(1) == b""
    c.close()
    _wait_count(topo.front, kick_rx, before)
    assert user not in dropin.doveadm(topo.front, "proxy", "list")
    _assert_front_clean(topo)


def test_login_process_shutdown_ends_relayed_tls_sessions(stage):
    """The front's login process that proxies TLS sessions is told to
    stop (SIGTERM, as the master does at shutdown): each client's TLS
    session ends with close_notify, the backend sessions end, nothing
    crashes (and a sanitizer build reports no leak at its exit)."""
    users = {"s%d" % i: (0, "s%dpw" % i, "") for i in range(3)}
    front = topology.performance_mode(["altpop-login"])
    with topology.Topology(stage, backends=("altpop",), users=users,
                           front_extra=front) as t:
        back = t.backends[0]
        sessions = []
        for user in users:
            back.deliver(user, mailgen.numbered(1))
            c = _front_tls(t, "pop3s")
            c.login(user, users[user][1])
            assert c.ok("STAT").startswith(b"+OK 1 ")
            sessions.append(c)
        pids = harness._pids_in_mnt_ns(t.front.ns)
        logins = [pid for pid in pids
                  if open("/proc/%d/comm" % pid).read().strip() == "altpop-login"]
        assert logins
        for pid in logins:
            os.kill(pid, signal.SIGTERM)
        for c in sessions:
            test_tls_relay._assert_ends_with_close_notify(c)
        _wait_count(back, r"altpop\(s\d\)[^\n]*Disconnected", 2)
        _wait_count(t.front, r"proxy\(s\d,[^\n]*Disconnected by proxy: "
                    r"Process shutting down", 2)
        _assert_front_clean(t)
