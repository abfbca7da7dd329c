# SPDX-License-Identifier: LGPL-2.1-only
"""Checks shared by the protocol and robustness tests.

assert_log_clean(instance)      no Panic/Fatal/crash lines in the instance log
assert_still_serving(...)       a fresh session logs in and gets every message
read_until_closed(sock, t)      everything the server sends until it closes
Drain                           a background reader for pipelined floods
doc_ip()                        a fresh documentation address for PROXY headers
unsecured_client(endpoint)      a client whose connection Dovecot does not count
                                as secured (plaintext auth needs TLS)
mail_process_rss(instance, n)   RSS (kB) of the instance's processes named n
"""

import itertools
import os
import re
import socket
import threading
import time

import harness
import mailgen
import popclient

CRLF = b"\r\n"

# A crash or an internal error of any Dovecot/altpop process.
BAD_LOG_RX = re.compile(r"Panic:|Fatal:|segfault|killed with signal|"
                        r"assertion failed|Assertion")


def bad_log_lines(instance, start=0):
    return [line for line in instance.log_text()[start:].splitlines()
            if BAD_LOG_RX.search(line)]


def assert_log_clean(instance, start=0, settle=0.3):
    """The instance log (from offset start) has no Panic, Fatal, segfault or
    'killed with signal' lines.  Waits settle seconds first so that the master
    process has logged a child that just died."""
    time.sleep(settle)
    bad = bad_log_lines(instance, start)
    assert not bad, "server log shows a crash or fatal error:\n" + "\n".join(bad)


def log_offset(instance):
    return len(instance.log_text())


def login(port, user="alice", password="alicepw", **kw):
    c = popclient.RawPop3(port, **kw)
    assert c.greeting.startswith(b"+OK"), c.greeting
    c.login(user, password)
    return c


def assert_still_serving(port, expected, user="alice", password="alicepw"):
    """A fresh session logs in, STAT and LIST agree with expected (the raw
    messages that must be in the maildrop, in order) and every RETR gives
    exactly the delivered bytes: the server kept serving and lost nothing."""
    c = login(port, user, password)
    try:
        count, size = c.stat()
        assert count == len(expected), "messages lost or added: STAT %d, expected %d" % (
            count, len(expected))
        assert size == sum(mailgen.expected_pop3_size(raw) for raw in expected)
        for i, raw in enumerate(expected, 1):
            assert c.retr(i) == mailgen.expected_pop3_bytes(raw), "message %d differs" % i
        assert c.quit().startswith(b"+OK")
    finally:
        c.close()


def read_until_closed(sock, timeout):
    """(data, closed): what arrives until the peer closes (EOF or reset) or
    timeout seconds pass; closed tells which."""
    deadline = time.monotonic() + timeout
    data = bytearray()
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return bytes(data), False
            sock.settimeout(left)
            try:
                chunk = sock.recv(65536)
            except (socket.timeout, TimeoutError):
                return bytes(data), False
            if not chunk:
                return bytes(data), True
            data += chunk
    except (ConnectionResetError, BrokenPipeError):
        return bytes(data), True


def is_closed(sock, timeout=5.0):
    """True when the server closed the connection within timeout (data
    still arriving is read and dropped)."""
    return read_until_closed(sock, timeout)[1]


class Drain:
    """Reads a socket in a thread until EOF, so a test can write a large
    pipelined batch without both sides blocking on full buffers."""

    def __init__(self, sock):
        self.sock = sock
        self.data = bytearray()
        self.closed = False
        self.error = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.closed = True
                    return
                self.data += chunk
        except (ConnectionResetError, BrokenPipeError):
            self.closed = True
        except OSError as e:          # socket closed by the test
            self.error = e

    def wait_for(self, predicate, timeout):
        """Wait until predicate(bytes so far) is true or the peer closed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(bytes(self.data)) or self.closed:
                return predicate(bytes(self.data))
            time.sleep(0.05)
        return predicate(bytes(self.data))

    def join(self, timeout):
        self._thread.join(timeout)


_doc_ips = itertools.count(1)


def doc_ip():
    """A documentation address (RFC 5737) not handed out before in this run:
    the source address a test claims in a PROXY header (auth penalties are
    per source address)."""
    n = next(_doc_ips)
    nets = ("192.0.2.%d", "198.51.100.%d", "203.0.113.%d")
    return nets[(n // 250) % 3] % (1 + n % 250)


def proxy_client(port, src=None, **kw):
    """A client on a haproxy listener claiming to come from src (a
    documentation address, so the connection is not 'secured')."""
    src = src or doc_ip()
    return popclient.RawPop3(port, preamble=popclient.proxy_v1_header(src), **kw)


def unsecured_client(endpoint):
    """(client, source address) of a connection that is not 'secured' for
    Dovecot, so plaintext authentication needs TLS.  Dovecot 2.3: the
    haproxy listener with a PROXY header from a documentation address.
    Dovecot 2.4 counts every haproxied connection as secured (unless
    ssl = required): there the client connects directly from a fresh
    127.0.x.y, which is not secured on either version (remote IP != local
    IP)."""
    if harness.IS_24:
        src = harness.next_source_ip()
        return popclient.RawPop3(endpoint.port, source=src), src
    src = doc_ip()
    return proxy_client(endpoint.haproxy_port, src), src


def processes(instance, comm):
    """pids of the instance's processes whose name is comm."""
    pids = []
    for pid in harness._pids_in_mnt_ns(instance.ns):
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == comm:
                    pids.append(pid)
        except OSError:
            pass
    return pids


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mail_process_rss(instance, comm):
    """Largest RSS (kB) among the instance's processes named comm."""
    return max([rss_kb(pid) for pid in processes(instance, comm)] or [0])


def mail_process_name(proto):
    """Name of the post-login process of a protocol."""
    return "pop3" if proto == "pop3" else "altpop"


def capa_lines(client):
    """Send CAPA, return the capability lines (without the status line)."""
    status, data = client.multi("CAPA")
    assert status.startswith(b"+OK"), status
    return [line for line in data.split(CRLF) if line]


def maildir_contents(instance, user):
    """Bytes of every message file in user's maildir (new+cur)."""
    return [p.read_bytes() for p in instance.messages(user)]


def wait_until(predicate, timeout, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def pid_alive(pid):
    return os.path.exists("/proc/%d" % pid)


def session_pid(instance, comm="altpop"):
    """pid of the one post-login process (named comm) of instance, waiting
    up to 10 s for there to be exactly one."""
    pids = []

    def one():
        pids[:] = processes(instance, comm)
        return len(pids) == 1
    assert wait_until(one, 10), "%s processes: %r" % (comm, pids)
    return pids[0]
