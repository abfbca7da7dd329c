# SPDX-License-Identifier: LGPL-2.1-only
"""Mail of throw-away instances: the vmail user that owns it, maildirs, delivery
as files or through Dovecot's LMTP, the delivered files in order."""

import contextlib
import os
import pwd
import re
import smtplib
import subprocess
import time

from .dovecot import HarnessError


def ensure_vmail():
    """Return (uid, gid) of the vmail user, creating it when missing."""
    try:
        pw = pwd.getpwnam("vmail")
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", "vmail"],
                       check=True, timeout=30)
        pw = pwd.getpwnam("vmail")
    if pw.pw_uid == 0:
        raise HarnessError("vmail has uid 0: Dovecot refuses that")
    return pw.pw_uid, pw.pw_gid


class Maildrops:
    """The mail part of a DovecotInstance (needs self.tmp, self.uid and
    self.gid)."""

    def __init__(self):
        self._deliver_seq = 0
        self._last_stamp = 0

    def home(self, user):
        return self.tmp / "home" / user

    def maildir(self, user):
        """Path of user's ~/Maildir, created (owned by vmail) when missing."""
        home = self.home(user)
        md = home / "Maildir"
        for d in (home, md, md / "cur", md / "new", md / "tmp"):
            if not d.exists():
                d.mkdir(mode=0o700)
                os.chown(d, self.uid, self.gid)
        return md

    def deliver(self, user, raw, flags=None):
        """Store raw bytes as is in user's Maildir/new (or cur with flags).

        File names sort in delivery order, so message numbers follow the
        order of deliver() calls.  Returns the path."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        md = self.maildir(user)
        stamp = max(time.time_ns() // 1000, self._last_stamp + 1)
        self._last_stamp = stamp
        self._deliver_seq += 1
        base = "%d.M%dP%dQ%d.altpop-test" % (stamp // 1000000, stamp % 1000000,
                                              os.getpid(), self._deliver_seq)
        tmp_path = md / "tmp" / base
        with open(tmp_path, "wb") as f:
            f.write(raw)
        os.chown(tmp_path, self.uid, self.gid)
        os.chmod(tmp_path, 0o600)
        if flags is None:
            final = md / "new" / base
        else:
            final = md / "cur" / ("%s:2,%s" % (base, flags))
        os.rename(tmp_path, final)
        return final

    def deliver_lmtp(self, user, raw, sender="sender@example.org", timeout=30,
                     orcpt=None):
        """Deliver through Dovecot's LMTP (adds Return-Path/Delivered-To).
        orcpt: the original recipient (RCPT ... ORCPT=rfc822;addr), which
        Delivered-To shows with lmtp_hdr_delivery_address = original."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        # on the wire lines end in CRLF, as any MTA sends them
        raw = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
        options = ["ORCPT=rfc822;%s" % orcpt] if orcpt else []
        lmtp = smtplib.LMTP(str(self.tmp / "run" / "lmtp"), timeout=timeout)
        try:
            lmtp.ehlo()
            code, msg = lmtp.mail(sender)
            if code != 250:
                raise HarnessError("LMTP MAIL FROM refused: %r" % msg)
            code, msg = lmtp.rcpt(user, options=options)
            if code != 250:
                raise HarnessError("LMTP RCPT TO refused: %r" % msg)
            code, msg = lmtp.data(raw)
            if code != 250:
                raise HarnessError("LMTP DATA refused: %r" % msg)
        finally:
            with contextlib.suppress(Exception):
                lmtp.quit()

    def messages(self, user):
        """Files in user's Maildir new+cur in delivery order (the time and
        microseconds at the start of a maildir file name; a plain sort of
        the names would put M156318 before M74618)."""
        md = self.maildir(user)
        files = [p for d in ("new", "cur") for p in (md / d).iterdir() if p.is_file()]

        def delivered(p):
            m = re.match(r"(\d+)\.M(\d+)P", p.name)
            return (int(m.group(1)), int(m.group(2)), p.name) if m else (0, 0, p.name)
        return sorted(files, key=delivered)

    def message_count(self, user):
        return len(self.messages(user))
