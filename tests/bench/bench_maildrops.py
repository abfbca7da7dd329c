# SPDX-License-Identifier: LGPL-2.1-only
"""Benchmark maildrops: maildir files written directly (tests/bench/run.py)."""

import math
import os
import random


class MailFactory:
    """Deterministic message text: headers + text lines (LF line ends, as
    Dovecot's LDA/LMTP store them), base64 attachments for larger
    messages, and now and then a line starting with '.' (dot-stuffing)."""

    WORDS = (b"the of and to in is that for it with as was on be by this are "
             b"from at or have an they which one you had not but what all "
             b"were when we there can been has more if will would each "
             b"mailbox message server client session delivery report "
             b"invoice meeting tomorrow attached please regards thanks "
             b"project update schedule review budget quarter").split()

    def __init__(self, seed=1):
        rnd = random.Random(seed)
        lines = []
        total = 0
        while total < 4 * 1024 * 1024:
            n = rnd.randint(4, 13)
            line = b" ".join(rnd.choice(self.WORDS) for _ in range(n))
            if rnd.random() < 0.004:
                line = b"." + line
            if rnd.random() < 0.05:
                line = b""
            lines.append(line + b"\n")
            total += len(lines[-1])
        self.text = b"".join(lines)
        import base64
        b64 = base64.b64encode(rnd.randbytes(3 * 1024 * 1024))
        self.b64 = b"".join(b64[i:i + 76] + b"\n" for i in range(0, len(b64), 76))
        self.rnd = rnd
        self.seq = 0

    def _slice(self, block, size):
        """About size bytes of block, starting and ending on a line."""
        if size <= 0:
            return b""
        out = []
        while size > 0:
            start = self.rnd.randrange(0, max(1, len(block) - 1))
            start = block.find(b"\n", start) + 1
            end = min(len(block), start + size)
            nl = block.rfind(b"\n", start, end)
            if nl < start:
                nl = block.find(b"\n", end)
                if nl < 0:
                    continue
            chunk = block[start:nl + 1]
            out.append(chunk)
            size -= len(chunk)
        return b"".join(out)

    def message(self, size, user="user"):
        self.seq += 1
        hdr = (b"Return-Path: <sender%d@example.org>\n"
               b"Delivered-To: %s@example.com\n"
               b"From: Sender %d <sender%d@example.org>\n"
               b"To: %s@example.com\n"
               b"Subject: benchmark message %d\n"
               b"Date: Mon, 02 Jan 2023 10:%02d:%02d +0000\n"
               b"Message-ID: <bench.%d@example.org>\n"
               b"MIME-Version: 1.0\n"
               % (self.seq % 97, user.encode(), self.seq % 97, self.seq % 97,
                  user.encode(), self.seq, self.seq // 60 % 60, self.seq % 60,
                  self.seq))
        if size < 64 * 1024:
            hdr += b"Content-Type: text/plain; charset=us-ascii\n\n"
            body = self._slice(self.text, size - len(hdr))
            return hdr + body
        hdr += (b"Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
                b"--b1\nContent-Type: text/plain\n\n")
        text = self._slice(self.text, 2000)
        mid = (b"\n--b1\nContent-Type: application/octet-stream\n"
               b"Content-Transfer-Encoding: base64\n\n")
        tail = b"--b1--\n"
        body = self._slice(self.b64, size - len(hdr) - len(text) - len(mid) - len(tail))
        return hdr + text + mid + body + tail


def lognormal_sizes(count, median, sigma, lo, hi, seed):
    rnd = random.Random(seed)
    sizes = [int(min(hi, max(lo, rnd.lognormvariate(math.log(median), sigma))))
             for _ in range(count)]
    if count >= 4:
        # the whole range is present
        sizes[rnd.randrange(count)] = lo
        sizes[rnd.randrange(count)] = hi
    return sizes


class Maildrops:
    """Writes messages into an instance's maildirs (cur/, no flags), with
    Dovecot's ,S=<size>,W=<virtual size> in the file names unless told not
    to (as Dovecot's own delivery names them)."""

    def __init__(self, inst, sizes_in_names=True):
        self.inst = inst
        self.sizes_in_names = sizes_in_names
        self.stamp = 1700000000
        self.n = 0

    def _name(self, data):
        self.n += 1
        base = "%d.M%dP%d.bench" % (self.stamp + self.n // 1000000,
                                    self.n % 1000000, 4242)
        if self.sizes_in_names:
            base += ",S=%d,W=%d" % (len(data), len(data) + data.count(b"\n"))
        return base + ":2,"

    def write(self, user, messages):
        md = self.inst.maildir(user)
        cur = md / "cur"
        uid, gid = self.inst.uid, self.inst.gid
        paths = []
        for data in messages:
            path = cur / self._name(data)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fchown(fd, uid, gid)
            finally:
                os.close(fd)
            paths.append(path)
        return paths

    def link(self, user, paths, strip_sizes=False):
        """The same files (hard links) in another user's maildir; without
        the ,S=,W= parts of the names when strip_sizes."""
        cur = self.inst.maildir(user) / "cur"
        for p in paths:
            name = p.name
            if strip_sizes:
                base, _, flags = name.partition(":")
                name = base.split(",", 1)[0] + ":" + flags
            os.link(p, cur / name)


def remove_index(inst, user, uidlist=False):
    """Cold start: remove dovecot.index* (and dovecot-uidlist too when
    uidlist: the maildrop as Dovecot never saw it, new UIDs and
    UIDVALIDITY, every message read for its size unless the file name
    carries it)."""
    md = inst.maildir(user)
    removed = 0
    for p in md.iterdir():
        if p.name.startswith("dovecot.index") or (uidlist and p.name == "dovecot-uidlist"):
            p.unlink()
            removed += 1
    return removed
