# SPDX-License-Identifier: LGPL-2.1-only
"""Issue 10, defect 7: work and memory per message of the maildrop.

- Reading an SDPS host maildrop keeps memory only for the messages of the
  view: what is looked at for the others (their envelope addresses) is
  freed message by message, so the post-login process's peak memory does
  not grow with the messages outside the view.
- `UIDL n` works out what message n's UIDL needs, not every UIDL of the
  maildrop, and gives the same UIDL as the full listing.
"""

import re

import pytest

import harness
from servercheck import login, processes, session_pid, wait_until

pytestmark = pytest.mark.altpop_only

PW = "hostpw"
# Long, valid envelope addresses (no spaces): reading them for a message is
# a few kB of work memory, far more than the message costs to keep.
LONG_SENDER = "s" * 1500 + "@sender.example"
LONG_DOMAIN = "d" * 1500 + ".example"


def _status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("%s not in /proc/%d/status" % (field, pid))


def _proc_io(pid, field):
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("%s not in /proc/%d/io" % (field, pid))


def _fill_host(inst, host, others):
    """One message for fred, then `others` messages for jim with long
    envelope addresses (not in fred's view)."""
    inst.deliver(host, b"Return-Path: <a@ext.example>\r\n"
                 b"Delivered-To: fred@" + LONG_DOMAIN.encode() + b"\r\n"
                 b"Subject: for fred\r\n\r\nhello fred\r\n")
    for i in range(others):
        inst.deliver(host, ("Return-Path: <%s>\r\nDelivered-To: jim@%s\r\n"
                            "Subject: for jim %d\r\n\r\nhello jim\r\n"
                            % (LONG_SENDER, LONG_DOMAIN, i)).encode())


def _sdps_view_peak_kb(inst, host):
    c = login(inst.port("altpop"), "fred@" + host, PW)
    try:
        assert c.stat()[0] == 1
        return _status_kb(session_pid(inst), "VmHWM")
    finally:
        c.quit()
        assert wait_until(lambda: not processes(inst, "altpop"), 10)


SMALL, BIG = 1000, 4000


@pytest.mark.plain_build(reason="ASan keeps freed memory in its quarantine: "
                         "peak memory says nothing")
@pytest.mark.dovecot(
    users={"hosta": PW, "hostb": PW},
    extra=harness.settings(
        # no cache file and no mapped index files: the process's memory is
        # its own heap, which is what is measured
        mail_cache_min_mail_count=10000000, mmap_disable="yes"),
    extra_altpop=harness.setting("altpop_sdps_listeners", "pop3"),
)
def test_sdps_view_memory_does_not_grow_with_other_messages(instance):
    _fill_host(instance, "hosta", SMALL)
    _fill_host(instance, "hostb", BIG)
    # a first session per host builds the index, which is not measured
    _sdps_view_peak_kb(instance, "hosta")
    _sdps_view_peak_kb(instance, "hostb")
    small = _sdps_view_peak_kb(instance, "hosta")
    big = _sdps_view_peak_kb(instance, "hostb")
    per_message = (big - small) * 1024 / (BIG - SMALL)
    print("peak memory: %d kB with %d messages, %d kB with %d" % (small, SMALL, big, BIG))
    # Keeping a message outside the view costs Dovecot's index and the
    # maildir file list (a few hundred bytes); its envelope addresses
    # (3 kB) must not stay in memory until the maildrop is read.
    assert per_message < 1200, (
        "peak memory grows by %d bytes per message outside the view "
        "(%d kB with %d messages, %d kB with %d)"
        % (per_message, small, SMALL, big, BIG))


UIDL_N = 2000
MAP_NAME = "dovecot-altpop-uidl-map"


def _map_entries(inst, user):
    found = list(inst.home(user).rglob(MAP_NAME))
    if not found:
        return 0
    return len(found[0].read_text().splitlines()) - 1


@pytest.mark.dovecot(
    users={"bob": PW},
    # the first 5 characters of the maildir file name: the same for every
    # message, so every UIDL but the first is a renamed duplicate, which
    # altpop saves in the UIDL map (a renamed UIDL must never change)
    extra_altpop=harness.setting("altpop_uidl_format", "x%5f"),
)
def test_uidl_n_works_out_only_what_it_needs(instance):
    for i in range(1, UIDL_N + 1):
        instance.deliver("bob", b"Subject: message %d\r\n\r\nbody\r\n" % i)
    port = instance.port("altpop")

    def ask(cmd):
        c = login(port, "bob", PW)
        try:
            return c.cmd(cmd)
        finally:
            c.quit()

    r4 = ask("UIDL 4")
    assert r4.startswith(b"+OK 4 x"), r4
    # message 4's UIDL depends on messages 1..4 only: the renamed UIDLs
    # saved are those of messages 2..4, not of the whole maildrop
    saved = _map_entries(instance, "bob")
    assert 1 <= saved <= 3, "UIDL 4 saved %d UIDLs" % saved
    last = ask("UIDL %d" % UIDL_N)
    assert last.startswith(b"+OK %d x" % UIDL_N), last

    c = login(port, "bob", PW)
    try:
        status, data = c.multi("UIDL")
        assert status.startswith(b"+OK"), status
        # asked alone in a session, then asked again: the list is worked
        # out once and kept
        assert c.cmd("UIDL 4") == r4
        assert c.cmd("UIDL 5")[4:] == data.split(b"\r\n")[4]
    finally:
        c.quit()
    lines = [l for l in data.split(b"\r\n") if l]
    assert len(lines) == UIDL_N
    # asked alone, a message has the UIDL the listing gives it
    assert b"+OK " + lines[3] == r4
    assert b"+OK " + lines[-1] == last
    values = [l.split()[1] for l in lines]
    assert len(set(values)) == UIDL_N
    assert _map_entries(instance, "bob") == UIDL_N - 1
