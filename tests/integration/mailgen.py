# SPDX-License-Identifier: LGPL-2.1-only
"""Deterministic test messages and what POP3 must return for them.

Messages are stored byte for byte in the maildrop (harness deliver()), so
they exercise what a server has to do on the way out: LF -> CRLF,
dot-stuffing, a CRLF after a message without final newline, 8-bit data,
large messages.
"""

import hashlib

CRLF = b"\r\n"


def _hdr(subject, extra=b""):
    return (b"From: Sender <sender@example.org>\n"
            b"To: Alice <alice@example.org>\n"
            b"Date: Mon, 01 Jan 2024 12:00:00 +0000\n"
            b"Message-ID: <" + subject.replace(b" ", b"-") + b"@altpop.test>\n"
            b"Subject: " + subject + b"\n" + extra)


def simple():
    return _hdr(b"simple") + b"\nHello Alice,\n\nthis is a plain message.\n\n-- \nSender\n"


def dots():
    """Lines starting with dots, including lines that look like terminators."""
    return (_hdr(b"dots") + b"\n"
            b".\n"
            b"..\n"
            b"...\n"
            b".leading dot\n"
            b"..two leading dots\n"
            b"middle . dot\n"
            b" .space then dot\n"
            b"\n"
            b".\n"
            b"last line\n")


def lf_only():
    """Bare LF line ends (how mail is normally stored on Unix)."""
    return _hdr(b"lf only") + b"\n" + b"".join(b"line %d with LF\n" % i for i in range(1, 21))


def no_final_newline():
    return _hdr(b"no final newline") + b"\nfirst line\nsecond line\nno newline here"


def no_final_newline_dot():
    """Ends in a lone '.' without newline: must not end the response early."""
    return _hdr(b"no final newline dot") + b"\nbody\n."


def crlf():
    """Stored with CRLF line ends already."""
    return (_hdr(b"crlf") + b"\nline one\nline two\n.dotted\n\nlast\n").replace(b"\n", CRLF)


def mixed_endings():
    """Mostly CRLF with some bare LF lines."""
    return (_hdr(b"mixed").replace(b"\n", CRLF) + CRLF
            + b"crlf line\r\nlf line\nanother crlf\r\n.dot lf\n.dot crlf\r\nend\n")


def eight_bit():
    body = ("Grüße aus Köln – naïve café, 日本語テキスト, emoji \U0001F600\n"
            "latin-1 bytes follow:\n").encode("utf-8")
    body += bytes(range(0x80, 0x100)) + b"\n"
    body += b"control-ish bytes: \x01\x02\x1b[0m\x7f\n"
    return (_hdr(b"eight bit", b"MIME-Version: 1.0\n"
                 b"Content-Type: text/plain; charset=utf-8\n"
                 b"Content-Transfer-Encoding: 8bit\n") + b"\n" + body)


def headers_only():
    """No body and no empty line after the header."""
    return _hdr(b"headers only")


def empty_body():
    """Header, the empty separator line, and nothing after it."""
    return _hdr(b"empty body") + b"\n"


def long_lines():
    return (_hdr(b"long lines") + b"\n"
            + b"A" * 998 + b"\n" + b"." + b"B" * 997 + b"\n" + b"short\n")


def large(size=300 * 1024):
    """About size bytes, deterministic, with dot lines sprinkled in."""
    out = [_hdr(b"large"), b"\n"]
    total = sum(len(x) for x in out)
    i = 0
    while total < size:
        digest = hashlib.sha256(b"%d" % i).hexdigest().encode()
        line = (b"." if i % 37 == 0 else b"") + b"%06d " % i + digest + b"\n"
        out.append(line)
        total += len(line)
        i += 1
    return b"".join(out)


def numbered(n, subject=b"msg"):
    """The n-th of a series of small distinct messages."""
    return _hdr(subject + b" %d" % n) + b"\nThis is message number %d.\n" % n


# The standard set, in delivery order.  Keep names stable: tests refer to them.
STANDARD = [
    ("simple", simple),
    ("dots", dots),
    ("lf_only", lf_only),
    ("no_final_newline", no_final_newline),
    ("crlf", crlf),
    ("eight_bit", eight_bit),
    ("large", large),
    ("mixed_endings", mixed_endings),
    ("headers_only", headers_only),
    ("empty_body", empty_body),
    ("long_lines", long_lines),
    ("no_final_newline_dot", no_final_newline_dot),
]


def standard_set():
    """[(name, raw bytes)] in delivery order."""
    return [(name, fn()) for name, fn in STANDARD]


def small_set():
    """The tricky messages without the large one (for slow clients)."""
    return [(n, raw) for n, raw in standard_set() if n != "large"]


# --------------------------------------------------------------------------
# expectations


def to_crlf(raw):
    """Bare LF -> CRLF; existing CRLF and lone CR stay as they are."""
    out = bytearray()
    prev = None
    for line in raw.split(b"\n"):
        if prev is not None:
            out += prev + (b"\n" if prev.endswith(b"\r") else b"\r\n")
        prev = line
    out += prev
    return bytes(out)


def expected_pop3_bytes(raw):
    """What RETR must deliver, after the client has un-dot-stuffed it and
    removed the terminating '.' line: CRLF line ends, and a CRLF appended
    when the stored message does not end with a line end."""
    data = to_crlf(raw)
    if not data.endswith(CRLF):
        data += CRLF
    return data


def expected_pop3_size(raw):
    """The size LIST/STAT report (Dovecot: the CRLF-normalised size, without
    the CRLF added to a message lacking a final line end)."""
    return len(to_crlf(raw))


def expected_top_bytes(raw, lines):
    """What TOP n <lines> must deliver (un-dot-stuffed): the header up to and
    including the empty line, then the first <lines> body lines, CRLF-ended."""
    data = expected_pop3_bytes(raw)
    sep = data.find(b"\r\n\r\n")
    if sep < 0:
        return data          # header only: all of it
    head, body = data[:sep + 4], data[sep + 4:]
    body_lines = body.split(CRLF)[:-1]
    picked = body_lines[:lines]
    return head + b"".join(l + CRLF for l in picked)


def as_delivered_lf(raw):
    """What a client that converts to Unix line ends (fetchmail, mpop) stores."""
    return expected_pop3_bytes(raw).replace(CRLF, b"\n")


def dot_stuff(data):
    """Wire form of CRLF data inside a multi-line response (without '.')."""
    return b"".join((b"." + l if l.startswith(b".") else l) + CRLF
                    for l in data.split(CRLF)[:-1])
