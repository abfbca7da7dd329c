# SPDX-License-Identifier: LGPL-2.1-only
"""UIDL mapping: presets, storages, persistence, duplicates, migration."""

import os
import poplib
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import harness
import tools

pytestmark = pytest.mark.altpop_only

STORAGES = {
    "maildir": "maildir:~/Maildir",
    "sdbox": "sdbox:~/sdbox",
    "mdbox": "mdbox:~/mdbox",
    "mbox": "mbox:~/mail:INBOX=~/mail/inbox",
}


def lmtp_deliver(inst, user, n, prefix="msg"):
    for i in range(n):
        inst.deliver_lmtp(user, ("From: a@example.org\r\nSubject: %s %d\r\n"
                                 "Message-ID: <%s.%d@example.org>\r\n\r\n"
                                 "body %d\r\n" % (prefix, i, prefix, i, i)))


def uidls(inst, proto, user="alice", password="alicepw"):
    conn = poplib.POP3("127.0.0.1", inst.port(proto, "pop3"), timeout=30)
    try:
        conn.user(user)
        conn.pass_(password)
        return [line.split()[1].decode() for line in conn.uidl()[1]]
    finally:
        conn.quit()


def dele_and_quit(inst, proto, nums, user="alice", password="alicepw"):
    conn = poplib.POP3("127.0.0.1", inst.port(proto, "pop3"), timeout=30)
    conn.user(user)
    conn.pass_(password)
    for n in nums:
        conn.dele(n)
    conn.quit()


def reconfigure(inst, altpop_settings):
    """Replace the protocol altpop { } block and reload Dovecot."""
    conf = inst.tmp / "altpop.conf"
    text = conf.read_text()
    text = re.sub(r"protocol altpop \{.*?\n\}", "protocol altpop {\n%s\n}"
                  % altpop_settings, text, flags=re.S)
    conf.write_text(text)
    mark = len(inst.log_text())
    os.kill(inst.proc.pid, signal.SIGHUP)
    inst.wait_log(r"SIGHUP received - reloading configuration", timeout=10,
                  start=mark)
    # give the new config process a moment to serve the new settings
    time.sleep(1)


def stock_uid_pairs(stock_uidls):
    """Stock pop3's default UIDLs -> [(uid, uidvalidity)]: 2.3's %08Xu%08Xv
    and 2.4's %{uid | hex(8)}%{uidvalidity | hex(8)} print the same."""
    return [(int(u[:8], 16), int(u[8:], 16)) for u in stock_uidls]


@pytest.mark.parametrize("storage", sorted(STORAGES))
def test_dovecot_preset_matches_stock_pop3(make_instance, storage):
    inst = make_instance(extra=harness.setting("mail_location", STORAGES[storage]))
    lmtp_deliver(inst, "alice", 5)
    dele_and_quit(inst, "pop3", [2])     # a gap in the UIDs
    lmtp_deliver(inst, "alice", 2, prefix="later")
    stock = uidls(inst, "pop3")
    ours = uidls(inst, "altpop")
    assert len(stock) == 6
    assert ours == stock


PRESET_FORMS = {
    # what each server's UIDLs look like (the forms Dovecot's migration
    # docs give for them)
    "dovecot": lambda uid, uv: "%08x%08x" % (uid, uv),
    "cyrus": lambda uid, uv: "%d.%d" % (uv, uid),
    "courier": lambda uid, uv: "UID%d-%d" % (uid, uv),
    "uw": lambda uid, uv: "%08x%08x" % (uv, uid),
}


@pytest.mark.parametrize("preset", sorted(PRESET_FORMS))
def test_preset_forms(make_instance, preset):
    inst = make_instance(extra_altpop=harness.setting("altpop_uidl_format", preset))
    lmtp_deliver(inst, "alice", 3)
    pairs = stock_uid_pairs(uidls(inst, "pop3"))
    assert uidls(inst, "altpop") == [PRESET_FORMS[preset](u, v) for u, v in pairs]


def test_custom_format_and_guid(make_instance):
    inst = make_instance(extra_altpop=harness.setting("altpop_uidl_format", "x%{uid}-%g"))
    lmtp_deliver(inst, "alice", 2)
    got = uidls(inst, "altpop")
    files = [p.name.split(":")[0] for p in inst.messages("alice")]
    # maildir GUIDs are the base file names
    assert got == ["x%d-%s" % (i + 1, f) for i, f in enumerate(files)]


def test_save_keeps_uidls_across_format_change(make_instance):
    inst = make_instance(extra_altpop=harness.setting("altpop_save_uidl", "yes"))
    lmtp_deliver(inst, "alice", 3)
    before = uidls(inst, "altpop")
    reconfigure(inst, harness.settings([("altpop_save_uidl", "yes"),
                                        ("altpop_uidl_format", "cyrus")]))
    lmtp_deliver(inst, "alice", 1, prefix="new")
    after = uidls(inst, "altpop")
    assert after[:3] == before
    pairs = stock_uid_pairs(uidls(inst, "pop3"))
    assert after[3] == PRESET_FORMS["cyrus"](*pairs[3])


def test_without_save_format_change_changes_uidls(make_instance):
    """The control for the test above: persistence is what keeps them."""
    inst = make_instance()
    lmtp_deliver(inst, "alice", 2)
    before = uidls(inst, "altpop")
    reconfigure(inst, harness.setting("altpop_uidl_format", "cyrus"))
    assert uidls(inst, "altpop") != before


def test_saved_uidls_survive_uidvalidity_change(make_instance):
    """Losing the maildir's uidlist (new UIDVALIDITY, new UIDs) does not
    change a saved UIDL."""
    inst = make_instance(extra_altpop=harness.setting("altpop_save_uidl", "yes"))
    lmtp_deliver(inst, "alice", 3)
    before = uidls(inst, "altpop")
    md = inst.maildir("alice")
    for name in os.listdir(md):
        if name.startswith("dovecot-uidlist") or name.startswith("dovecot.index") \
           or name.startswith("dovecot-uidvalidity"):
            os.unlink(md / name)
    time.sleep(1.1)     # a new UIDVALIDITY is based on the clock
    stock_after = uidls(inst, "pop3")
    assert stock_after != [u for u in before]   # stock's did change
    assert uidls(inst, "altpop") == before


@pytest.mark.dovecot(extra_altpop=harness.setting("altpop_uidl_format", "u%1u"))
def test_duplicates_unique_and_stable(instance):
    """%1u keeps only the first digit of the UID: UIDs 1, 10, 11, 12 all
    expand to "u1". Every UIDL must still be unique, valid, and stay the
    same across sessions and after expunges."""
    lmtp_deliver(instance, "alice", 12)
    first = uidls(instance, "altpop")
    assert len(first) == 12 and len(set(first)) == 12
    assert all(0 < len(u) <= 70 and all(0x21 <= ord(c) <= 0x7e for c in u)
               for u in first)
    assert uidls(instance, "altpop") == first
    # expunge the message whose UIDL is the plain "u1"
    dele_and_quit(instance, "altpop", [first.index("u1") + 1])
    after = uidls(instance, "altpop")
    assert after == [u for u in first if u != "u1"]


def test_expunge_never_changes_other_uidls(make_instance):
    inst = make_instance()
    lmtp_deliver(inst, "alice", 5)
    first = uidls(inst, "altpop")
    dele_and_quit(inst, "altpop", [1, 3])
    assert uidls(inst, "altpop") == [first[1], first[3], first[4]]


def test_bad_format_is_config_error(make_instance):
    inst = make_instance()
    for bad in ("%q", "nopreset", "%v"):
        conf = inst.tmp / "altpop.conf"
        text = re.sub(r"protocol altpop \{.*?\n\}",
                      "protocol altpop {\n%s}" % harness.setting("altpop_uidl_format", bad),
                      conf.read_text(), flags=re.S)
        conf.write_text(text)
        res = inst.doveconf(["-n"])
        assert res.returncode != 0
        assert "altpop_uidl_format" in res.stderr


FETCHMAILRC = """\
set no bouncemail
set no syslog
poll 127.0.0.1 service {port} protocol pop3 uidl
  user "alice" there with password "alicepw" is alice here
  mda "{mda}"
  keep
  sslproto ''
"""


def fetchmail_keep(port, work, idfile, name):
    mda, out = tools.make_mda(work, name)
    rc = Path(work) / ("rc-" + name)
    tools.write_private(rc, FETCHMAILRC.format(port=port, mda=mda))
    res = tools.run(["fetchmail", "-f", str(rc), "--nodetach", "-v",
                     "--idfile", str(idfile),
                     "--pidfile", str(Path(work) / "fetchmail.pid")],
                    home=work, timeout=120)
    # fetchmail exits 1 when there was no new mail
    assert res.returncode in (0, 1), res.stdout
    return tools.delivered(out)


def run_import(inst, stage, user, path):
    argv = inst.ns_command([str(stage.mail), "-c", str(inst.conf), "-u", user,
                            "-I", str(path)])
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60)
    return res.returncode, res.stdout.decode()


@pytest.mark.parametrize("do_import", [True, False])
def test_migration_end_to_end(make_instance, stage, workdir, do_import):
    """A user fetched (keep mode) from a legacy server with Cyrus-style
    UIDLs. The mail moves to a new server with altpop; the legacy UIDLs are
    captured and imported; fetchmail then finds nothing new. Without the
    import (the control case) it fetches everything again."""
    legacy = make_instance(protocols=["pop3"],
                           extra_pop3=harness.setting("pop3_uidl_format", "%v.%u"))
    raws = []
    for i in range(4):
        raw = ("From: a@example.org\r\nSubject: legacy %d\r\n"
               "Message-ID: <legacy.%d@example.org>\r\n\r\nold mail %d\r\n"
               % (i, i, i)).encode()
        legacy.deliver("alice", raw)
        raws.append(raw)
    idfile = Path(workdir) / "fetchids"
    got = fetchmail_keep(legacy.port("pop3", "pop3"), workdir, idfile, "first")
    assert len(got) == 4

    capture = Path(workdir) / "alice.uidls"
    pwfile = Path(workdir) / "pw"
    pwfile.write_text("alicepw\n")
    script = Path(__file__).resolve().parents[2] / "tools" / "altpop-capture-uidls"
    res = subprocess.run([tools.PYTHON, str(script), "--host", "127.0.0.1",
                          "--port", str(legacy.port("pop3", "pop3")),
                          "--user", "alice", "--password-file", str(pwfile)],
                         stdout=subprocess.PIPE, timeout=60, check=True)
    capture.write_bytes(res.stdout)

    new = make_instance()
    for raw in raws:                     # the migration copies the mail
        new.deliver("alice", raw)
    if do_import:
        rc, report = run_import(new, stage, "alice", capture)
        assert rc == 0, report
        assert "matched and imported: 4" in report
        assert "not matched: 0" in report
        # importing again changes nothing
        rc, report = run_import(new, stage, "alice", capture)
        assert rc == 0 and "matched and imported: 0" in report
        assert "kept (already had a permanent UIDL): 4" in report

    again = fetchmail_keep(new.port("altpop", "pop3"), workdir, idfile, "second")
    if do_import:
        assert again == []
        legacy_uidls = uidls(legacy, "pop3")
        assert uidls(new, "altpop") == legacy_uidls
    else:
        assert len(again) == 4


def test_import_reports_errors(make_instance, stage, workdir):
    inst = make_instance()
    bad = Path(workdir) / "bad.uidls"
    bad.write_text("12 nothex uidl\n")
    rc, out = run_import(inst, stage, "alice", bad)
    assert rc != 0
    assert "bad.uidls line 1" in out
