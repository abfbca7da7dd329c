# SPDX-License-Identifier: LGPL-2.1-only
"""altpop as a drop-in for Dovecot's pop3: for each pop3_* setting, the
same session against stock pop3 with the setting and altpop with its
altpop_* equivalent gives byte-identical replies and leaves the mailbox in
the same state (README, "Coming from Dovecot's pop3"; tests/integration/
dropin.py runs the sessions)."""

import pytest

import dropin
import mailgen

# differential and real clients: run on every Dovecot CI covers
pytestmark = [pytest.mark.altpop_only, pytest.mark.core]

BASIC = ["STAT", "LIST", "UIDL", "LIST 2", "UIDL 2", "RETR 1", "TOP 2 1",
         "NOOP", "DELE 1", "STAT", "QUIT"]


def test_defaults_agree(make_instance):
    """Without any of the settings both servers answer a plain session
    alike: the ground the other tests stand on."""
    inst = dropin.instance(make_instance)
    dropin.deliver_both(inst, [mailgen.numbered(i) for i in range(1, 4)])
    dropin.compare(inst, BASIC)


def three(inst, flags=None):
    raws = [mailgen.numbered(i) for i in range(1, 4)]
    dropin.deliver_both(inst, raws, flags=flags)
    return raws


# ---- pop3_deleted_flag / pop3_delete_type ----

DELETED = "POP3Deleted"


def test_deleted_flag_hides_instead_of_expunging(make_instance):
    """pop3_deleted_flag: DELE + QUIT sets the keyword, the messages stay
    (for IMAP) and later POP3 sessions do not show them."""
    inst = dropin.instance(make_instance,
                           stock=[("pop3_deleted_flag", DELETED)],
                           alt=[("altpop_deleted_flag", DELETED)])
    three(inst)
    dropin.compare(inst, ["STAT", "UIDL", "DELE 1", "DELE 3", "QUIT"])
    state = dropin.mailbox_state(inst, dropin.ALTPOP_USER)
    assert [uid for uid, flags in state if DELETED in flags] == [1, 3]
    assert len(state) == 3
    # the next session sees only message 2, as number 1
    replies = dropin.compare(inst, ["STAT", "LIST", "UIDL", "RETR 1",
                                    "RETR 2", "QUIT"])
    assert replies[0].startswith(b"+OK 1 ")
    assert replies[2] == b"+OK\r\n1 00000002\r\n"


def test_delete_type_expunge_with_deleted_flag(make_instance):
    """pop3_delete_type = expunge with a pop3_deleted_flag: DELE expunges,
    and messages that already have the keyword stay hidden."""
    inst = dropin.instance(
        make_instance,
        stock=[("pop3_deleted_flag", DELETED), ("pop3_delete_type", "expunge")],
        alt=[("altpop_deleted_flag", DELETED), ("altpop_delete_type", "expunge")])
    three(inst)
    dropin.both_users(inst, ["flags", "add"], DELETED, "mailbox", "INBOX",
                      "uid", "2")
    replies = dropin.compare(inst, ["STAT", "UIDL", "DELE 1", "QUIT"])
    assert replies[1] == b"+OK\r\n1 00000001\r\n2 00000003\r\n"
    assert [uid for uid, _ in dropin.mailbox_state(inst, dropin.ALTPOP_USER)] \
        == [2, 3]


def test_delete_type_flag_needs_the_keyword(make_instance):
    import harness
    with pytest.raises(harness.HarnessError) as exc:
        dropin.instance(make_instance,
                        alt=[("altpop_delete_type", "flag")])
    assert "altpop_delete_type = flag needs altpop_deleted_flag" in \
        str(exc.value)


# ---- pop3_enable_last ----

def test_enable_last(make_instance):
    """pop3_enable_last: LAST answers the highest message number seen
    (\\Seen at login, RETR since), RSET sets it to 0 and removes \\Seen from
    every message at once."""
    inst = dropin.instance(make_instance,
                           stock=[("pop3_enable_last", "yes")],
                           alt=[("altpop_enable_last", "yes")])
    raws = [mailgen.numbered(i) for i in range(1, 5)]
    dropin.deliver_both(inst, raws[:2])
    dropin.deliver_both(inst, raws[2:3], flags="S")
    dropin.deliver_both(inst, raws[3:])
    replies = dropin.compare(inst, ["LAST", "RETR 1", "LAST", "RETR 4",
                                    "LAST", "QUIT"])
    assert replies[0] == b"+OK 3" and replies[4] == b"+OK 4"
    seen = [uid for uid, flags in dropin.mailbox_state(inst, dropin.ALTPOP_USER)
            if "\\Seen" in flags]
    assert seen == [1, 3, 4]
    # RSET: \Seen removed at once, even when the session ends without QUIT
    replies = dropin.compare(inst, ["LAST", "RSET", "LAST", "RETR 2", "LAST",
                                    "RSET"])
    assert replies[0] == b"+OK 4" and replies[2] == b"+OK 0"
    assert replies[4] == b"+OK 2"
    assert all("\\Seen" not in flags for _, flags in
               dropin.mailbox_state(inst, dropin.ALTPOP_USER))


def test_last_off_is_unknown(make_instance):
    """Without the setting LAST is no command of altpop's (stock pop3
    answers "-ERR LAST command not enabled")."""
    inst = dropin.instance(make_instance)
    three(inst)
    replies = dropin.run_session(inst, "altpop", dropin.ALTPOP_USER,
                                 ["LAST", "QUIT"])
    assert replies[0] == b"-ERR Unknown command: LAST"


# ---- pop3_reuse_xuidl / pop3_uidl_duplicates ----

def xuidl_message(n, xuidl):
    head = b"X-UIDL: " + xuidl + b"\n" if xuidl is not None else b""
    return head + mailgen.numbered(n)


XUIDLS = [b"legacy-a", None, b"legacy-b", b"legacy-a", b"legacy-a"]


def xuidl_instance(make_instance, duplicates=None):
    stock = [("pop3_reuse_xuidl", "yes")]
    alt = [("altpop_reuse_xuidl", "yes")]
    if duplicates is not None:
        stock.append(("pop3_uidl_duplicates", duplicates))
        alt.append(("altpop_uidl_duplicates", duplicates))
    inst = dropin.instance(make_instance, stock=stock, alt=alt)
    dropin.deliver_both(inst, [xuidl_message(i + 1, x)
                               for i, x in enumerate(XUIDLS)])
    return inst


@pytest.mark.parametrize("duplicates,expected", [
    ("allow", [b"legacy-a", b"00000002", b"legacy-b", b"legacy-a",
               b"legacy-a"]),
    ("rename", [b"legacy-a", b"00000002", b"legacy-b", b"legacy-a-2",
                b"legacy-a-3"]),
])
def test_reuse_xuidl_and_duplicates(make_instance, duplicates, expected):
    """pop3_reuse_xuidl: a message's X-UIDL header is its UIDL; with
    pop3_uidl_duplicates = allow duplicates are shown as they are, with
    rename the later ones get -2, -3."""
    inst = xuidl_instance(make_instance, duplicates)
    commands = ["UIDL", "UIDL 4", "UIDL 5", "DELE 1", "UIDL", "QUIT"]
    replies = dropin.compare(inst, commands, sessions=2)
    # the second session: message 1 is gone, renaming starts afresh
    listed = [line.split()[1] for line in replies[0].split(b"\r\n")[1:-1]]
    if duplicates == "allow":
        assert listed == expected[1:]
    else:
        assert listed == [b"00000002", b"legacy-b", b"legacy-a",
                          b"legacy-a-2"]


def test_unique_is_altpops_default(make_instance):
    """altpop's own default keeps every UIDL unique and stable: a duplicate
    gets its UID appended, which does not change when another message goes
    (the test above shows the settings that give stock's behaviour)."""
    inst = xuidl_instance(make_instance)
    first = dropin.run_session(inst, "altpop", dropin.ALTPOP_USER,
                               ["UIDL", "DELE 1", "QUIT"])[0]
    assert first == (b"+OK\r\n1 legacy-a\r\n2 00000002\r\n3 legacy-b\r\n"
                     b"4 legacy-a-4\r\n5 legacy-a-5\r\n")
    second = dropin.run_session(inst, "altpop", dropin.ALTPOP_USER,
                                ["UIDL", "QUIT"])[0]
    assert second == (b"+OK\r\n1 00000002\r\n2 legacy-b\r\n"
                      b"3 legacy-a-4\r\n4 legacy-a-5\r\n")


# ---- pop3_fast_size_lookups ----

def test_fast_size_lookups(make_instance):
    """pop3_fast_size_lookups: sizes the storage has at hand, here the
    size on disk of messages stored with LF line ends (smaller than what
    RETR sends), as stock pop3 gives them."""
    inst = dropin.instance(make_instance,
                           stock=[("pop3_fast_size_lookups", "yes")],
                           alt=[("altpop_fast_size_lookups", "yes")])
    raws = [mailgen.numbered(i) for i in range(1, 4)]
    for raw in raws:
        for user in (dropin.STOCK_USER, dropin.ALTPOP_USER):
            # the size on disk in the file name, as delivery writes it
            path = inst.deliver(user, raw)
            path.rename(path.with_name("%s,S=%d" % (path.name, len(raw))))
    replies = dropin.compare(inst, ["STAT", "LIST", "LIST 2", "QUIT"])
    assert replies[0] == b"+OK 3 %d" % sum(len(r) for r in raws)
    assert replies[2] == b"+OK 2 %d" % len(raws[1])
    assert len(raws[1]) < len(mailgen.expected_pop3_bytes(raws[1])) - 3


# ---- tools/altpop-pop3-settings ----

def test_pop3_settings_tool(make_instance):
    """The admin's tool reads doveconf -n of a server with stock pop3
    settings and prints the altpop block; that block loads as altpop's
    configuration and gives the same replies."""
    import subprocess
    import harness
    stock = [("pop3_deleted_flag", DELETED), ("pop3_enable_last", "yes"),
             ("pop3_uidl_duplicates", "rename"),
             ("pop3_reuse_xuidl", "yes")]
    inst = dropin.instance(make_instance, stock=stock)
    tool = harness.REPO_ROOT / "tools" / "altpop-pop3-settings"
    res = subprocess.run(inst.ns_command([str(tool), "-c", str(inst.conf)]),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "pop3_deleted_flag = %s (in protocol pop3)\n    -> " \
        "altpop_deleted_flag = %s" % (DELETED, DELETED) in res.stdout
    block = res.stdout[res.stdout.index("protocol altpop {"):]
    pairs = [tuple(part.strip() for part in line.split("=", 1))
             for line in block.splitlines()[1:-1]]
    # every stock setting, uidl format included (in altpop's syntax)
    assert dict(pairs)["altpop_uidl_format"] == dropin.UIDL_FORMAT
    assert {name for name, _ in pairs} >= {
        "altpop_deleted_flag", "altpop_enable_last",
        "altpop_uidl_duplicates", "altpop_reuse_xuidl"}
    # the block as altpop's settings: the same session as stock
    inst2 = dropin.instance(make_instance, stock=stock, alt=pairs)
    dropin.deliver_both(inst2, [xuidl_message(i + 1, x)
                                for i, x in enumerate(XUIDLS)])
    dropin.compare(inst2, ["LAST", "UIDL", "RETR 2", "LAST", "DELE 1",
                           "QUIT"], sessions=2)


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
