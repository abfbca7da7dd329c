# SPDX-License-Identifier: LGPL-2.1-only
"""I/O errors (EIO) under a running session (doc/reliability.md): the
user's home behind tests/eiofs (tests/integration/eiofs.py), a FUSE layer
that fails chosen operations on chosen files with EIO once the client has
logged in.  altpop's own files (the UIDL map, the LOGIN-DELAY and EXPIRE
state files), Dovecot's index writes during QUIT (the \\Seen flags of
RETR, the expunges of DELE) on maildir and mdbox, and a message read
failing part way through RETR; stock pop3 beside where it does the same
work.  Every case: every command answered or the session ended cleanly,
never +OK for a write that failed nor a truncated message ended with "."
as if complete, a log line naming the step and the error, no crash,
nothing lost, and the next session with the faults off showing the same
UIDLs."""

import re

import pytest

import harness
import mailgen
from eiofs import EioFs
from servercheck import read_until_closed
from test_faults import USER, body_of, login

pytestmark = pytest.mark.core

UIDL_MAP = "dovecot-altpop-uidl-map"
EIO_TEXT = "Input/output error"
STORAGES = {
    "maildir": ("maildir:~/Maildir", "Maildir"),
    "mdbox": ("mdbox:~/mdbox", "mdbox"),
}
CRASH_RX = re.compile(r"Panic|Fatal|killed with signal|segfault")


@pytest.fixture
def eio():
    """eio(inst) -> EioFs over alice's home, stopped after the test."""
    made = []

    def factory(inst, user=USER):
        fs = EioFs(inst, user)
        made.append(fs)
        return fs

    yield factory
    for fs in reversed(made):
        fs.stop()


def eio_instance(make_instance, storage="maildir", extra="", extra_altpop=""):
    return make_instance(
        extra=harness.setting("mail_location", STORAGES[storage][0]) + extra,
        extra_pop3=harness.setting("pop3_save_uidl", "yes"),
        extra_altpop=harness.setting("altpop_save_uidl", "yes") + extra_altpop)


def deliver(inst, count=3, tag=b"eio"):
    msgs = [mailgen.numbered(i, tag) for i in range(1, count + 1)]
    for raw in msgs:
        inst.deliver_lmtp(USER, raw)
    return msgs


def no_crash(log):
    m = CRASH_RX.search(log)
    assert m is None, log


def state_file(inst, name, storage="maildir"):
    """One of altpop's files as on disk (not through the layer)."""
    return inst.home(USER) / STORAGES[storage][1] / name


def read_bytes(path):
    return path.read_bytes() if path.exists() else None


def session_uidls(inst, proto):
    c = login(inst, proto)
    uidls = c.uidl()
    assert c.quit().startswith(b"+OK")
    return uidls


@pytest.mark.parametrize("op", ["write", "fsync", "rename"])
def test_uidl_map_eio(make_instance, eio, stage, op):
    """The UIDL map can't be written (write, fdatasync or rename fails):
    UIDL lists the UIDLs unsaved, the session goes on, the map on disk
    is left as it was, a later session saves them."""
    inst = eio_instance(make_instance)
    fs = eio(inst)
    deliver(inst, 2)
    before_uidls = session_uidls(inst, "altpop")
    mapfile = state_file(inst, UIDL_MAP)
    before = read_bytes(mapfile)
    assert before is not None
    deliver(inst, 1, b"new")
    c = login(inst, "altpop")
    log_start = len(inst.log_text())
    fs.fail("%s Maildir/%s*" % (op, UIDL_MAP))
    uidls = c.uidl()
    assert len(uidls) == 3 and {n: uidls[n] for n in (1, 2)} == before_uidls
    assert c.cmd("UIDL 3") == b"+OK 3 " + uidls[3].encode()
    assert c.cmd("NOOP").startswith(b"+OK")
    assert c.quit().startswith(b"+OK")
    assert fs.faults(), "no fault injected"
    fs.ok()
    log = inst.log_text()[log_start:]
    assert re.search(r"UIDL: altpop_save_uidl: .*%s.*%s.*listing the UIDLs "
                     r"unsaved" % (UIDL_MAP, EIO_TEXT), log), log
    no_crash(log)
    assert read_bytes(mapfile) == before
    assert not [p.name for p in mapfile.parent.iterdir()
                if p.name.startswith(UIDL_MAP + ".")]
    assert session_uidls(inst, "altpop") == uidls
    assert uidls[3] in mapfile.read_text()
