# SPDX-License-Identifier: LGPL-2.1-only
"""A session over TLS after login (pop3s and STLS), as altpop-login's TLS
relay carries it, for stock pop3-login and altpop alike: big messages
arrive byte-exact and in order; commands whose TLS record is cut in two
by the login (the first part read by the login process before the
session was handed on, the rest after) arrive whole; a flood of
pipelined commands is answered in full; QUIT and the idle timeout end
the TLS session with close_notify; a client that goes away mid-transfer
(with or without close_notify) ends the post-login session; a client
certificate checked by the server is used through the session.

The TLS client here speaks through ssl.MemoryBIO, so a test decides
which TLS bytes go out in which write() and sees whether the server
ended TLS with close_notify or just closed the socket."""

import os
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

import harness
import mailgen
import popclient
from servercheck import assert_log_clean as _assert_no_crash

pytestmark = pytest.mark.core

# several TLS records per message, more than the socket buffers hold
BIG = 3 * 1024 * 1024
TLS_RECORD_HEADER = 5


class TlsWire:
    """A socket-like TLS client (recv, sendall) over ssl.MemoryBIO.
    .end says how the server ended the session once recv() returned b"":
    "close_notify" or "EOF without close_notify"."""

    def __init__(self, sock, context=None):
        self.raw = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        context = context or popclient.client_tls_context()
        self.tls = context.wrap_bio(self.incoming, self.outgoing)
        self.end = None
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush()
                self._receive()
        self._flush()

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.raw.sendall(data)

    def _receive(self):
        chunk = self.raw.recv(65536)
        if chunk:
            self.incoming.write(chunk)
        else:
            self.incoming.write_eof()

    def encrypt(self, data):
        """The TLS bytes of data (one record per 16 KB), not sent."""
        self.tls.write(data)
        return self.outgoing.read()

    def sendall(self, data):
        self.raw.sendall(self.encrypt(data))

    def recv(self, size):
        while True:
            try:
                data = self.tls.read(size)
                if not data:
                    # the ssl module's read: b"" after close_notify
                    self.end = "close_notify"
                return data
            except ssl.SSLWantReadError:
                self._flush()
                self._receive()
            except ssl.SSLEOFError:
                self.end = "EOF without close_notify"
                return b""

    def close_notify(self):
        """Sends close_notify (without waiting for the server's)."""
        try:
            self.tls.unwrap()
        except ssl.SSLError:
            # sent; the server's data (or close_notify) is not read
            pass
        self._flush()

    def __getattr__(self, name):       # settimeout, setsockopt, close
        return getattr(self.raw, name)


def assert_log_clean(instance):
    """No crash, and no error of a login process: the relay's teardown
    and Dovecot's own find the TLS session in a state they expect."""
    _assert_no_crash(instance)
    bad = [line for line in instance.log_text().splitlines()
           if re.search(r"-login: Error:", line)]
    assert not bad, "\n".join(bad)


def _connect(endpoint, tls, context=None, timeout=60, wire=TlsWire):
    if tls == "stls":
        c = popclient.RawPop3(endpoint.port, timeout=timeout)
        assert c.ok("STLS").startswith(b"+OK")
        assert not c.buf
    else:
        c = popclient.RawPop3(endpoint.ssl_port, timeout=timeout,
                              greeting=False)
    c.sock = wire(c.sock, context)
    if tls != "stls":
        c.greeting = c.readline()
        assert c.greeting.startswith(b"+OK"), c.greeting
    return c


def _assert_ends_with_close_notify(c):
    c.sock.settimeout(10)
    assert c.sock.recv(1) == b""
    assert c.sock.end == "close_notify"
    c.close()


def _deliver(instance, msgs):
    for raw in msgs:
        instance.deliver("alice", raw)


def _read_retr(c, raw):
    assert c.readline() == b"+OK %d octets" % mailgen.expected_pop3_size(raw)
    data, _ = c.read_multiline()
    assert data == mailgen.expected_pop3_bytes(raw)


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_big_messages_then_close_notify(endpoint, instance, tls):
    msgs = [mailgen.large(BIG), mailgen.numbered(2), mailgen.large(BIG // 3)]
    _deliver(instance, msgs)
    c = _connect(endpoint, tls)
    c.login("alice", "alicepw")
    # pipelined: the relay moves several messages without waiting
    c.send(b"RETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 1\r\n")
    for raw in msgs + msgs[:1]:
        _read_retr(c, raw)
    assert c.cmd("QUIT").startswith(b"+OK")
    # the server ends TLS cleanly: close_notify, then EOF
    _assert_ends_with_close_notify(c)
    assert_log_clean(instance)


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_record_cut_at_the_handover(endpoint, instance, tls):
    """PASS goes out together with the first bytes of the next TLS record:
    the login process reads them before it hands the session on, the rest
    of the record comes once the client has seen PASS's reply."""
    msgs = [mailgen.numbered(1), mailgen.large(BIG // 4)]
    _deliver(instance, msgs)
    commands = b"STAT\r\nRETR 2\r\nRETR 1\r\n"
    for cut in (1, TLS_RECORD_HEADER, TLS_RECORD_HEADER + 3, -1):
        c = _connect(endpoint, tls)
        assert c.cmd("USER alice").startswith(b"+OK")
        wire = c.sock
        first = wire.encrypt(b"PASS alicepw\r\n")
        rest = wire.encrypt(commands)
        wire.raw.sendall(first + rest[:cut])
        assert c.readline().startswith(b"+OK"), cut
        time.sleep(0.2)
        wire.raw.sendall(rest[cut:])
        assert c.readline() == b"+OK 2 %d" % sum(
            mailgen.expected_pop3_size(raw) for raw in msgs), cut
        _read_retr(c, msgs[1])
        _read_retr(c, msgs[0])
        assert c.cmd("QUIT").startswith(b"+OK"), cut
        _assert_ends_with_close_notify(c)
    assert_log_clean(instance)


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_quit_pipelined_behind_retrs(endpoint, instance, tls):
    """RETR of a big and a small message and QUIT in one go, read at the
    client's pace: every byte and QUIT's reply arrive (the post-login
    process used to close its output at QUIT after one non-blocking
    flush, dropping what the socket had not taken yet; it now writes the
    rest as the client reads, for up to ALTPOP_CLIENT_LINGER_MSECS).
    Stock pop3 (2.3.19 to 2.4.5) still closes after one flush, so it loses
    the tail now and then (README, known limits): not asserted there."""
    if endpoint.name == "pop3":
        pytest.skip("stock pop3 drops output left at QUIT (known limits)")
    msgs = [mailgen.numbered(1), mailgen.large(BIG // 4)]
    _deliver(instance, msgs)
    for _ in range(4):
        c = _connect(endpoint, tls)
        c.login("alice", "alicepw")
        c.send(b"RETR 2\r\nRETR 1\r\nQUIT\r\n")
        _read_retr(c, msgs[1])
        _read_retr(c, msgs[0])
        assert c.readline().startswith(b"+OK")
        _assert_ends_with_close_notify(c)


@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_pipelined_flood_answered(endpoint, instance, tls):
    """Far more commands at once than the socket buffers hold (the server
    waits for its replies to be read before it reads on): every one is
    answered, in order."""
    msgs = [mailgen.numbered(n) for n in range(1, 4)]
    _deliver(instance, msgs)
    c = _connect(endpoint, tls)
    c.login("alice", "alicepw")
    count = 100000
    # encrypted here, sent by a thread while this one reads the replies
    flood = c.sock.encrypt(b"".join(b"LIST %d\r\n" % (1 + i % 3)
                                    for i in range(count)))
    sender = threading.Thread(target=c.sock.raw.sendall, args=(flood,))
    sender.start()
    try:
        for i in range(count):
            raw = msgs[i % 3]
            assert c.readline() == b"+OK %d %d" % (
                1 + i % 3, mailgen.expected_pop3_size(raw)), i
    finally:
        sender.join(60)
    assert c.cmd("QUIT").startswith(b"+OK")
    _assert_ends_with_close_notify(c)
    assert_log_clean(instance)


def _login_until_unlocked(endpoint, tls, deadline):
    while True:
        d = _connect(endpoint, tls)
        d.send(b"USER alice\r\n")
        d.readline()
        d.send(b"PASS alicepw\r\n")
        reply = d.readline()
        if reply.startswith(b"+OK") or time.monotonic() > deadline:
            return d, reply
        d.close()
        time.sleep(0.5)


@pytest.mark.parametrize("how", ["reset", "close_notify"])
@pytest.mark.parametrize("tls", ["stls", "pop3s"])
def test_client_gone_mid_transfer_ends_session(endpoint, instance, tls, how):
    big = mailgen.large(BIG)
    instance.deliver("alice", big)
    c = _connect(endpoint, tls)
    c.login("alice", "alicepw")
    c.send(b"RETR 1\r\n" * 10)
    c.readline()
    # gone without QUIT, with the server still sending
    if how == "close_notify":
        c.sock.close_notify()
    else:
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                          b"\x01\0\0\0\0\0\0\0")
    c.sock.close()
    # the post-login session ended: its maildrop lock is free again
    d, reply = _login_until_unlocked(endpoint, tls, time.monotonic() + 20)
    assert reply.startswith(b"+OK"), reply
    assert d.retr(1) == mailgen.expected_pop3_bytes(big)
    assert d.cmd("QUIT").startswith(b"+OK")
    _assert_ends_with_close_notify(d)
    assert_log_clean(instance)


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_idle_timeout", "10s"))
def test_idle_timeout_ends_tls_session(instance):
    endpoint = type("E", (), {"port": instance.port("altpop"),
                              "ssl_port": instance.port("altpop", "pop3s")})
    clients = []
    for tls, user in (("stls", "alice"), ("pop3s", "bob")):
        c = _connect(endpoint, tls)
        c.login(user, user + "pw")
        clients.append(c)
    for c in clients:
        c.sock.settimeout(30)
        assert c.readline().startswith(b"-ERR"), c
        _assert_ends_with_close_notify(c)
    assert_log_clean(instance)


def _client_certificates(directory):
    """A CA, and a client certificate (with its key) the CA signed"""
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, timeout=60,
                       cwd=directory, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "7", "-subj", "/CN=altpop test CA")
    openssl("req", *ec, "-keyout", "client.key", "-out", "client.csr",
            "-subj", "/CN=alice")
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem",
            "-CAkey", "ca.key", "-CAcreateserial", "-out", "client.pem",
            "-days", "7")
    return [os.path.join(directory, name)
            for name in ("ca.pem", "client.pem", "client.key")]


def test_client_certificate(make_instance, workdir, proto):
    """The server asks for and checks a client certificate, and auth
    requires one: a client with it gets its big message; one without is
    refused."""
    os.chmod(workdir, 0o755)
    ca, cert, key = _client_certificates(workdir)
    inst = make_instance(extra=harness.settings([
        ("ssl_ca", "<" + ca), ("ssl_verify_client_cert", "yes"),
        ("ssl_require_crl", "no"), ("auth_ssl_require_client_cert", "yes")]))
    big = mailgen.large(BIG)
    inst.deliver("alice", big)
    endpoint = type("E", (), {"port": inst.port(proto),
                              "ssl_port": inst.port(proto, "pop3s")})
    with_cert = popclient.client_tls_context()
    with_cert.load_cert_chain(cert, key)
    for tls in ("stls", "pop3s"):
        c = _connect(endpoint, tls, with_cert)
        c.login("alice", "alicepw")
        assert c.retr(1) == mailgen.expected_pop3_bytes(big)
        assert c.cmd("QUIT").startswith(b"+OK")
        _assert_ends_with_close_notify(c)
        c = _connect(endpoint, tls)
        assert c.cmd("USER alice").startswith(b"+OK")
        assert c.cmd("PASS alicepw").startswith(b"-ERR")
        c.close()
    assert_log_clean(inst)
