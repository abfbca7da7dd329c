# SPDX-License-Identifier: LGPL-2.1-only
"""altpop_folders: a POP3 maildrop of more than INBOX (INBOX Junk): the
folders' messages one after the other, UIDLs unique and kept when mail
moves between the folders, DELE removing from the right folder; fetchmail
and mpop leaving mail on the server fetch nothing twice and miss nothing;
maildir and mdbox."""

import poplib
import subprocess

import pytest

import dropin
import harness
import mailgen
from test_fetchmail import run_fetchmail
from test_mpop import run_mpop
import tools

# differential and real clients: run on every Dovecot CI covers
pytestmark = [pytest.mark.altpop_only, pytest.mark.core]

STORAGES = {
    "maildir": "maildir:~/Maildir",
    "mdbox": "mdbox:~/mdbox",
}


def folders_instance(make_instance, storage="maildir",
                     folders="INBOX Junk"):
    inst = make_instance(
        protocols=["altpop"],
        extra=harness.setting("mail_location", STORAGES[storage]),
        extra_altpop=harness.setting("altpop_folders", folders))
    return inst


def save(inst, folder, raw, user="alice"):
    """Deliver raw into folder with doveadm save (creating the folder)."""
    argv = [dropin.DOVEADM, "-c", str(inst.conf)]
    subprocess.run(inst.ns_command(argv + ["mailbox", "create", "-u", user,
                                           folder]),
                   capture_output=True, timeout=60)
    res = subprocess.run(inst.ns_command(argv + ["save", "-u", user, "-m",
                                                 folder]),
                         input=raw, capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr


def move(inst, dest, source, uid, user="alice"):
    dropin.doveadm(inst, "move", "-u", user, dest, "mailbox", source,
                   "uid", str(uid))


def count(inst, folder, user="alice"):
    out = dropin.doveadm(inst, "mailbox", "status", "-u", user, "messages",
                         folder)
    return int(out.split("=")[1])


def session(inst):
    conn = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=30)
    conn.user("alice")
    conn.pass_("alicepw")
    return conn


def listing(inst):
    """{uidl: message} of a session, and the messages in POP3 order."""
    conn = session(inst)
    try:
        uidls = [line.split()[1] for line in conn.uidl()[1]]
        msgs = [b"\r\n".join(conn.retr(i + 1)[1]) + b"\r\n"
                for i in range(len(uidls))]
    finally:
        conn.quit()
    assert len(set(uidls)) == len(uidls), uidls
    return dict(zip(uidls, msgs)), msgs


def msg(tag):
    return ("From: a@example.org\r\nSubject: %s\r\nMessage-ID: <%s@example"
            ".org>\r\n\r\nbody of %s\r\n" % (tag, tag, tag)).encode()


@pytest.mark.parametrize("storage", sorted(STORAGES))
def test_junk_after_inbox_and_stable_uidls(make_instance, storage):
    inst = folders_instance(make_instance, storage)
    for tag in ("inbox-1", "inbox-2"):
        save(inst, "INBOX", msg(tag))
    for tag in ("junk-1", "junk-2"):
        save(inst, "Junk", msg(tag))
    by_uidl, msgs = listing(inst)
    # INBOX first, then Junk, each in its order
    assert [m.split(b"Subject: ")[1].split(b"\r\n")[0] for m in msgs] == \
        [b"inbox-1", b"inbox-2", b"junk-1", b"junk-2"]
    # the same UIDLs in the next session
    again, _ = listing(inst)
    assert again == by_uidl
    # mail moves both ways: every message keeps its UIDL
    move(inst, "Junk", "INBOX", 1)
    move(inst, "INBOX", "Junk", 2)
    moved, msgs = listing(inst)
    assert moved == by_uidl
    assert [m.split(b"Subject: ")[1].split(b"\r\n")[0] for m in msgs] == \
        [b"inbox-2", b"junk-2", b"junk-1", b"inbox-1"]


@pytest.mark.parametrize("storage", sorted(STORAGES))
def test_dele_removes_from_its_folder(make_instance, storage):
    inst = folders_instance(make_instance, storage)
    save(inst, "INBOX", msg("inbox-1"))
    save(inst, "Junk", msg("junk-1"))
    save(inst, "Junk", msg("junk-2"))
    conn = session(inst)
    assert conn.stat()[0] == 3
    conn.dele(2)
    assert b"junk-2" in b"\r\n".join(conn.retr(3)[1])
    conn.quit()
    assert count(inst, "INBOX") == 1 and count(inst, "Junk") == 1
    _, msgs = listing(inst)
    assert [b"inbox-1" in msgs[0], b"junk-2" in msgs[1]] == [True, True]


def test_missing_folder_is_empty(make_instance):
    """A folder that does not exist yet shows nothing and is no error."""
    inst = folders_instance(make_instance)
    inst.deliver("alice", mailgen.numbered(1))
    conn = session(inst)
    assert conn.stat()[0] == 1
    conn.quit()
    assert "Error" not in inst.log_text()


def test_setting_checked(make_instance):
    with pytest.raises(harness.HarnessError) as exc:
        folders_instance(make_instance, folders="Junk INBOX")
    assert "altpop_folders: the list starts with INBOX" in str(exc.value)


def subjects(messages):
    return sorted(m.split(b"Subject: ")[1].split(b"\n")[0].rstrip(b"\r")
                  for m in messages)


@pytest.mark.parametrize("client", ["fetchmail", "mpop"])
@pytest.mark.parametrize("storage", sorted(STORAGES))
def test_clients_leave_on_server(make_instance, workdir, storage, client):
    """Leave-on-server clients over INBOX and Junk: everything fetched
    once, nothing again when mail moves between the folders, new mail in
    either folder fetched next time."""
    inst = folders_instance(make_instance, storage)
    run = run_fetchmail if client == "fetchmail" else run_mpop
    save(inst, "INBOX", msg("inbox-1"))
    save(inst, "Junk", msg("junk-1"))
    save(inst, "Junk", msg("junk-2"))
    res, out = run(workdir, inst.port("altpop"), keep=True)
    assert res.returncode == 0, res.text[-3000:]
    assert subjects(tools.delivered(out)) == [b"inbox-1", b"junk-1",
                                              b"junk-2"]
    # the filter was wrong: junk-1 goes to INBOX; new mail in both
    move(inst, "INBOX", "Junk", 1)
    save(inst, "Junk", msg("junk-3"))
    save(inst, "INBOX", msg("inbox-2"))
    res, _ = run(workdir, inst.port("altpop"), keep=True)
    assert res.returncode == 0, res.text[-3000:]
    assert subjects(tools.delivered(out)) == [
        b"inbox-1", b"inbox-2", b"junk-1", b"junk-2", b"junk-3"]
    # nothing new: nothing fetched (fetchmail says so with status 1)
    res, _ = run(workdir, inst.port("altpop"), keep=True)
    assert res.returncode in (0, 1), res.text[-3000:]
    assert len(tools.delivered(out)) == 5
    # every message is still on the server, in its folder
    assert count(inst, "INBOX") == 3 and count(inst, "Junk") == 2
