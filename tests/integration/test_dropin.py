# SPDX-License-Identifier: LGPL-2.1-only
"""altpop as a drop-in for Dovecot's pop3: for each pop3_* setting, the
same session against stock pop3 with the setting and altpop with its
altpop_* equivalent gives byte-identical replies and leaves the mailbox in
the same state (README, "Coming from Dovecot's pop3"; tests/integration/
dropin.py runs the sessions)."""

import pytest

import dropin
import mailgen

pytestmark = pytest.mark.altpop_only

BASIC = ["STAT", "LIST", "UIDL", "LIST 2", "UIDL 2", "RETR 1", "TOP 2 1",
         "NOOP", "DELE 1", "STAT", "QUIT"]


def test_defaults_agree(make_instance):
    """Without any of the settings both servers answer a plain session
    alike: the ground the other tests stand on."""
    inst = dropin.instance(make_instance)
    dropin.deliver_both(inst, [mailgen.numbered(i) for i in range(1, 4)])
    dropin.compare(inst, BASIC)


# ---- client workarounds ----

# pop3_client_workarounds / altpop_client_workarounds: NULs in header and
# body (one message with bare LFs), a message whose lines never reach an
# empty line and end without a line end, one of headers only, and one with
# a normal header end (nothing added to it)
WORKAROUND_MESSAGES = [
    b"From: a@example.org\r\nSubject: nul\x00here\r\n\r\n"
    b"body \x00 line\r\n.dot\x00\r\n\x00\r\nlast\x00\r\n",
    b"From: b@example.org\r\nSubject: no separator\r\n"
    b"this is no header line\r\n.nor\x00this",
    b"From: c@example.org\nSubject: headers only \x00\n",
    b"From: d@example.org\nSubject: ordinary\n\nbody\n\x00\n",
]
WORKAROUND_SESSION = (
    ["LIST"] +
    ["%s %d%s" % (cmd, n, arg)
     for n in range(1, len(WORKAROUND_MESSAGES) + 1)
     for cmd, arg in (("RETR", ""), ("TOP", " 0"), ("TOP", " 5"))] +
    ["QUIT"])
# the values tried; "none": neither setting
WORKAROUND_VALUES = {
    "none": None,
    "outlook-no-nuls": "outlook-no-nuls",
    "oe-ns-eoh": "oe-ns-eoh",
    "both": "outlook-no-nuls oe-ns-eoh",
}


def _workaround_session(make_instance, value):
    """The session against stock pop3 and altpop with the workarounds
    value (None: neither set); returns altpop's replies by command and
    each server's top=/retr= logout counts."""
    settings = {} if value is None else {
        "stock": [("pop3_client_workarounds", value)],
        "alt": [("altpop_client_workarounds", value)]}
    inst = dropin.instance(make_instance, **settings)
    dropin.deliver_both(inst, WORKAROUND_MESSAGES)
    start = len(inst.log_text())
    replies = dropin.compare(inst, WORKAROUND_SESSION)
    counts = {}
    for proto, user in (("pop3", dropin.STOCK_USER),
                        ("altpop", dropin.ALTPOP_USER)):
        m = inst.wait_log(r"%s\(%s\)<\d+><[^>]*>: Info: Disconnected: "
                          r"Logged out (top=\d+/\d+), (retr=\d+/\d+)"
                          % (proto, user), start=start)
        counts[proto] = m.groups()
    return dict(zip(WORKAROUND_SESSION, replies)), counts


@pytest.mark.parametrize("which", sorted(WORKAROUND_VALUES))
def test_client_workarounds_agree(make_instance, which):
    """Neither, each workaround and both: the same bytes as stock pop3 for
    RETR, TOP n 0 and TOP n 5, the same top/retr byte counts in the logout
    line, LIST's and RETR's sizes those of the stored message, and each
    workaround visible in what was sent only when it is set."""
    replies, counts = _workaround_session(make_instance,
                                          WORKAROUND_VALUES[which])
    assert counts["altpop"] == counts["pop3"], counts
    nuls = which in ("outlook-no-nuls", "both")
    eoh = which in ("oe-ns-eoh", "both")
    sizes = [len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
             for raw in WORKAROUND_MESSAGES]
    for n, size in enumerate(sizes, 1):
        assert b"\r\n%d %d\r\n" % (n, size) in replies["LIST"], replies
        assert replies["RETR %d" % n].startswith(b"+OK %d octets\r\n" % size)
        for command in ("RETR %d" % n, "TOP %d 0" % n, "TOP %d 5" % n):
            reply = replies[command]
            if command != "TOP 4 0":
                # every message has a NUL (TOP 4 0 stops before it)
                assert (b"\x00" in reply) != nuls, (command, reply)
                assert (b"\x80" in reply) == nuls, (command, reply)
            if n in (2, 3):
                # no empty line in the message: one only with oe-ns-eoh
                assert reply.endswith(b"\r\n\r\n") == eoh, (command, reply)
    # a header that ends gets nothing added
    assert replies["TOP 4 0"] == \
        b"+OK\r\nFrom: d@example.org\r\nSubject: ordinary\r\n\r\n"
