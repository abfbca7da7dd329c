# SPDX-License-Identifier: LGPL-2.1-only
"""A byte-exact POP3 client for tests.

Unlike poplib it keeps every byte: status lines are returned without their
CRLF, multi-line data is returned un-dot-stuffed with its CRLFs, and the raw
wire bytes of the last response are kept in .last_raw.
"""

import base64
import socket
import ssl

CRLF = b"\r\n"


class Pop3Error(Exception):
    pass


def proxy_v1_header(src_ip, dst_ip="127.0.0.1", src_port=40000, dst_port=110):
    """HAProxy PROXY protocol v1 header (TCP4)."""
    return ("PROXY TCP4 %s %s %d %d\r\n" % (src_ip, dst_ip, src_port, dst_port)).encode()


def proxy_v2_header(src_ip, dst_ip="127.0.0.1", src_port=40000, dst_port=110):
    """HAProxy PROXY protocol v2 header (PROXY command, TCP over IPv4)."""
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    addr = (socket.inet_aton(src_ip) + socket.inet_aton(dst_ip)
            + src_port.to_bytes(2, "big") + dst_port.to_bytes(2, "big"))
    return sig + bytes([0x21, 0x11]) + len(addr).to_bytes(2, "big") + addr


def client_tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class RawPop3:
    """POP3 over a plain socket (or implicit TLS with tls=True).

    source: local address to bind (e.g. "127.0.0.7" for auth-penalty tests).
    preamble: bytes sent right after connecting (e.g. a PROXY header).
    greeting: read the greeting line in the constructor (into .greeting).
    """

    def __init__(self, port, host="127.0.0.1", tls=False, timeout=15, source=None,
                 preamble=b"", greeting=True):
        self.timeout = timeout
        self.sock = socket.create_connection(
            (host, port), timeout=timeout,
            source_address=(source, 0) if source else None)
        if tls:
            self.sock = client_tls_context().wrap_socket(self.sock)
        self.buf = b""
        self.last_raw = b""
        self.greeting = None
        if preamble:
            self.sock.sendall(preamble)
        if greeting:
            self.greeting = self.readline()

    # ---- wire -----------------------------------------------------------

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed by server (buffered: %r)" % self.buf[:200])
        self.buf += chunk

    def readline(self):
        """One line without its CRLF.  A line ending with a bare LF is an error
        (servers must send CRLF)."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i + 1], self.buf[i + 1:]
                self.last_raw = line
                if not line.endswith(CRLF):
                    raise Pop3Error("line not ended by CRLF: %r" % line)
                return line[:-2]
            self._fill()

    def read_multiline(self):
        """Data of a multi-line response up to the '.' line: (data, raw).
        data is un-dot-stuffed with CRLF line ends; raw is the wire bytes."""
        raw = bytearray()
        out = bytearray()
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            i = self.buf.index(b"\r\n")
            line, self.buf = self.buf[:i], self.buf[i + 2:]
            raw += line + CRLF
            if line == b".":
                return bytes(out), bytes(raw)
            if line.startswith(b"."):
                line = line[1:]
            out += line + CRLF

    def read_available(self, wait=0.3):
        """Whatever arrives within wait seconds (for protocol-error tests)."""
        self.sock.settimeout(wait)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    break
                self.buf += chunk
        except (socket.timeout, TimeoutError):
            pass
        finally:
            self.sock.settimeout(self.timeout)
        data, self.buf = self.buf, b""
        return data

    # ---- commands -------------------------------------------------------

    def cmd(self, line):
        """Send one command, return the status line (no CRLF)."""
        self.send(line.encode() + CRLF if isinstance(line, str) else line + CRLF)
        return self.readline()

    def multi(self, line):
        """Send a command that answers multi-line on +OK.
        Returns (status, data); data is None when the status is not +OK."""
        status = self.cmd(line)
        if not status.startswith(b"+OK"):
            return status, None
        data, raw = self.read_multiline()
        self.last_raw = raw
        return status, data

    def ok(self, line):
        status = self.cmd(line)
        if not status.startswith(b"+OK"):
            raise Pop3Error("%s -> %r" % (line, status))
        return status

    def login(self, user, password):
        self.ok("USER %s" % user)
        return self.ok("PASS %s" % password)

    def auth_plain(self, user, password, authzid=""):
        token = base64.b64encode(("%s\0%s\0%s" % (authzid, user, password)).encode())
        return self.cmd(b"AUTH PLAIN " + token)

    def starttls(self):
        status = self.ok("STLS")
        if self.buf:
            raise Pop3Error("data after STLS reply: %r" % self.buf)
        self.sock = client_tls_context().wrap_socket(self.sock)
        return status

    def stat(self):
        parts = self.ok("STAT").split()
        return int(parts[1]), int(parts[2])

    def list(self):
        status, data = self.multi("LIST")
        if data is None:
            raise Pop3Error("LIST -> %r" % status)
        out = {}
        for line in data.split(CRLF)[:-1]:
            n, size = line.split()
            out[int(n)] = int(size)
        return out

    def uidl(self):
        status, data = self.multi("UIDL")
        if data is None:
            raise Pop3Error("UIDL -> %r" % status)
        out = {}
        for line in data.split(CRLF)[:-1]:
            n, uid = line.split(b" ", 1)
            out[int(n)] = uid.decode()
        return out

    def retr(self, n):
        status, data = self.multi("RETR %d" % n)
        if data is None:
            raise Pop3Error("RETR %d -> %r" % (n, status))
        return data

    def top(self, n, lines):
        status, data = self.multi("TOP %d %d" % (n, lines))
        if data is None:
            raise Pop3Error("TOP %d %d -> %r" % (n, lines, status))
        return data

    def quit(self):
        try:
            return self.cmd("QUIT")
        finally:
            self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
