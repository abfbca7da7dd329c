# SPDX-License-Identifier: LGPL-2.1-only
"""Migrations from real legacy POP3 servers (issue 16).

A user keeps mail on a legacy server (Courier pop3d on Maildir, popa3d on
mbox; Debian's packages, see oldservers.py) and fetches it with fetchmail
(`keep`, id file) and mpop (`keep on`, `only_new on`, UIDL file). The
admin moves the mail into Dovecot the usual way for that server, imports
the old UIDLs with `altpop -I` as doc/migration.md says, and the same clients
with the same files poll altpop: nothing is downloaded again where the old
server gave distinct UIDLs, the mail that arrives afterwards is picked up
exactly once, and altpop shows the old server's UIDLs byte for byte. Stock
Dovecot pop3 on the same maildrop is shown beside for comparison.
"""

import hashlib
import os
import poplib
import shutil
import subprocess
from pathlib import Path

import pytest

import harness
import oldservers
import tools
from oldservers import USER, PASSWORD

pytestmark = pytest.mark.altpop_only

ROOT = Path(__file__).resolve().parents[2]

FETCHMAILRC = """\
set no bouncemail
set no syslog
poll 127.0.0.1 service {port} protocol pop3 uidl
  user "{user}" there with password "{password}" is {user} here
  mda "{mda}"
  keep
  sslproto ''
"""

# (old server, how the mail moves, where the UIDLs come from)
# the message set has a line of 70,000 octets
MAX_LINE = 1 << 20

PATHS = [
    ("courier", "copy-maildir", "sizelist"),
    ("courier", "copy-maildir", "capture"),
    ("cyrus", "copy-spool", "capture"),
    ("cyrus", "copy-spool", "cyrus-store"),
    ("cyrus", "mbox-doveadm-import", "capture"),
    ("cyrus", "mbox-mb2md", "capture"),
    ("popa3d", "mb2md", "capture"),
    ("popa3d", "doveadm-import", "capture"),
]


class Clients:
    """fetchmail and mpop with the files they keep between polls."""

    def __init__(self, workdir):
        self.work = Path(workdir) / "clients"
        self.work.mkdir()
        self.idfile = self.work / "fetchids"
        self.polls = 0

    def fetchmail(self, port):
        self.polls += 1
        mda, out = tools.make_mda(self.work, "fm%d" % self.polls)
        rc = tools.write_private(self.work / "fetchmailrc", FETCHMAILRC.format(
            port=port, mda=mda, user=USER, password=PASSWORD))
        res = tools.run(["fetchmail", "-f", str(rc), "--nodetach", "-v",
                         "--idfile", str(self.idfile),
                         "--pidfile", str(self.work / "fetchmail.pid")],
                        home=self.work, timeout=120)
        # 1: no new mail
        assert res.returncode in (0, 1), res.text[-3000:]
        return tools.delivered(out)

    def mpop(self, port):
        self.polls += 1
        mda, out = tools.make_mda(self.work, "mp%d" % self.polls)
        rc = tools.write_private(self.work / "mpoprc", "\n".join([
            "defaults", "timeout 60", "account old", "host 127.0.0.1",
            "port %d" % port, "user %s" % USER, "password %s" % PASSWORD,
            "auth user", "tls off", "keep on", "only_new on",
            "received_header off", "uidls_file %s/mpop-uidls" % self.work,
            'delivery mda "%s"' % mda]) + "\n")
        res = tools.run(["mpop", "-C", str(rc), "--quiet", "old"], self.work)
        assert res.returncode == 0, res.text[-3000:]
        return tools.delivered(out)

    def both(self, port):
        return self.fetchmail(port), self.mpop(port)


def pop_uidls(port):
    conn = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        conn.user(USER)
        conn.pass_(PASSWORD)
        return [line.split()[1].decode() for line in conn.uidl()[1]]
    finally:
        conn.quit()


def pop_digests(port):
    """Per message, a digest of its text as the server sends it, blind to
    what moves change: CR, trailing empty lines."""
    poplib._MAXLINE = MAX_LINE
    conn = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        conn.user(USER)
        conn.pass_(PASSWORD)
        digests = []
        for n in range(1, len(conn.list()[1]) + 1):
            lines = [line.rstrip(b"\r") for line in conn.top(n, 999999999)[1]]
            while lines and lines[-1] == b"":
                lines.pop()
            digests.append(hashlib.md5(b"\n".join(lines)).hexdigest())
        return digests
    finally:
        conn.quit()


def capture(old, workdir):
    pwfile = tools.write_private(Path(workdir) / "oldpw", PASSWORD + "\n")
    res = subprocess.run([tools.PYTHON, str(ROOT / "tools" / "altpop-capture-uidls"),
                          "--host", "127.0.0.1", "--port", str(old.port),
                          "--user", USER, "--password-file", str(pwfile)],
                         stdout=subprocess.PIPE, timeout=60, check=True)
    return res.stdout


def courier_sizelist(old):
    res = subprocess.run([tools.PYTHON, str(ROOT / "tools" / "altpop-courier-uidls"),
                          str(old.maildir)], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def cyrus_store(old):
    """The UIDLs read from the stopped server's store (its mbexamine)."""
    # the script on stdin: the cyrus user may not reach this tree
    script = (ROOT / "tools" / "altpop-cyrus-uidls").read_bytes()
    res = subprocess.run(["runuser", "-u", "cyrus", "--", tools.PYTHON, "-",
                          "-C", str(old.cyrus_dir / "imapd.conf"),
                          "user/" + USER], input=script, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, timeout=60)
    assert res.returncode == 0, res.stderr
    return res.stdout


def chown_tree(path, uid, gid):
    for p in [path] + list(Path(path).rglob("*")):
        shutil.chown(p, uid, gid)


def migrate(old, new, how, workdir):
    md = new.maildir(USER)
    mbox = old.mbox
    if how.startswith("mbox-"):
        # the Cyrus spool made into an mbox first
        mbox = Path(workdir) / "cyrus-export" / USER
        mbox.parent.mkdir()
        oldservers.cyrus_spool_to_mbox(old.cyrus_spool(), mbox)
        chown_tree(mbox.parent, new.uid, new.gid)
        how = how[len("mbox-"):]
    if how == "copy-spool":
        # in UID order, as Maildir file names sort
        for uid, f in enumerate(old.cyrus_spool(), 1):
            shutil.copy2(f, md / "cur" / ("%d.M%dP1.oldhost:2," % (1700000000 + uid, uid)))
    elif how == "copy-maildir":
        for sub in ("cur", "new"):
            for f in sorted((old.maildir / sub).iterdir()):
                shutil.copy2(f, md / sub / f.name)
    elif how == "mb2md":
        root = oldservers.unpacked("mb2md")
        res = subprocess.run(["perl", str(root / "usr/bin/mb2md"), "-s", str(mbox),
                              "-d", str(md)], stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=120,
                             env={"HOME": str(workdir), "PATH": "/usr/bin:/bin"})
        assert res.returncode == 0, res.stdout.decode()
    elif how == "doveadm-import":
        doveadm_import(new, mbox)
    chown_tree(md, new.uid, new.gid)


def doveadm_import(new, mbox):
    if harness.IS_24:
        source = ["-p", "mail_inbox_path=%s" % mbox, "mbox:%s" % mbox.parent]
    else:
        source = ["mbox:%s:INBOX=%s:INDEX=MEMORY" % (mbox.parent, mbox)]
    res = subprocess.run(new.ns_command(["doveadm", "-c", str(new.conf), "import",
                                         "-u", USER] + source + ["", "all"]),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=120)
    assert res.returncode == 0, res.stdout.decode()


def message_guids(new):
    res = subprocess.run(new.ns_command(["doveadm", "-c", str(new.conf), "fetch",
                                         "-u", USER, "guid", "mailbox", "INBOX"]),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60)
    out = res.stdout.decode()
    assert res.returncode == 0, out
    return [line.split(":", 1)[1].strip() for line in out.splitlines()
            if line.startswith("guid:")]


def run_import(new, stage, path):
    res = subprocess.run(new.ns_command([str(stage.mail), "-c", str(new.conf),
                                         "-u", USER, "-I", str(path)]),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60)
    out = res.stdout.decode()
    assert res.returncode == 0, out
    return dict(line.rsplit(": ", 1) for line in out.splitlines()
                if ": " in line and line.rsplit(": ", 1)[1].isdigit())


@pytest.mark.parametrize("server,how,source", PATHS,
                         ids=["-".join(p) for p in PATHS])
def test_migration(make_instance, stage, workdir, server, how, source):
    why = oldservers.unavailable(server)
    if why:
        # (CI sets ALTPOP_IT_REQUIRE=1: a server that can't run fails)
        if os.environ.get("ALTPOP_IT_REQUIRE") == "1":
            pytest.fail("%s: %s" % (server, why), pytrace=False)
        pytest.skip(why)
    old = oldservers.OldServer(server, workdir)
    msgs = oldservers.message_set()
    for raw in msgs:
        old.add(raw)
    clients = Clients(workdir)
    with old:
        old_uidls = pop_uidls(old.port)
        old_digests = pop_digests(old.port)
        fm, mp = clients.both(old.port)
        assert len(fm) >= len(set(old_uidls)) and len(mp) >= len(set(old_uidls))
        legacy = capture(old, workdir) if source == "capture" else None
    # from the old server's own files, the server stopped
    if source == "sizelist":
        legacy = courier_sizelist(old)
    elif source == "cyrus-store":
        legacy = cyrus_store(old)
    legacy_path = Path(workdir) / "olduser.uidls"
    legacy_path.write_bytes(legacy)

    new = make_instance(users={USER: PASSWORD})
    migrate(old, new, how, workdir)
    guids = message_guids(new)
    if how.endswith("doveadm-import"):
        # what breaks a map keyed by GUID alone: doveadm gives messages
        # with the same first Received: line (and the other headers of the
        # mbox header digest) the same GUID
        assert len(set(guids)) < len(guids), guids
    report = run_import(new, stage, legacy_path)
    distinct = [u for u in old_uidls if old_uidls.count(u) == 1]
    assert int(report["matched and imported"]) == len(set(old_uidls)), report
    assert report["not matched"] == "0", report
    # messages 5 and 7 are one message sent twice, 8 and 9 have the same
    # header and bodies of different sizes, 11 and 12 the same header and
    # bodies of the same size (but Cyrus's lmtpd gives 8, 9, 11 and 12 a
    # Message-ID each: their headers differ there)
    # (the capture gives such messages a body digest, which decides first)
    header_md5s = [line.split()[1] for line in legacy.decode().splitlines()
                   if not line.startswith("#")]
    same = [header_md5s[a] == header_md5s[b] for a, b in ((4, 6), (7, 8), (10, 11))]
    assert same[1:] == [server != "cyrus"] * 2, header_md5s
    assert report["same header, told apart by body"] == str(same[1] + same[2]), report
    assert report["same header, told apart by size"] == "0", report
    # (Cyrus's Received: line holds the second of delivery)
    assert report["same header and size, matched in maildrop order"] == str(int(same[0])), report
    again = run_import(new, stage, legacy_path)
    assert again["matched and imported"] == "0", again
    assert int(again["kept (already had a permanent UIDL)"]) == len(set(old_uidls)), again
    # popa3d gives identical headers one UIDL: the second such message
    # can't have it again
    dups = len(old_uidls) - len(set(old_uidls))
    assert again["UIDL already in use (skipped)"] == str(dups), again
    assert again["legacy entries without a message"] == "0", again

    altpop = pop_uidls(new.port("altpop", "pop3"))
    stock = pop_uidls(new.port("pop3", "pop3"))
    assert len(altpop) == len(old_uidls)
    # byte-identical wherever the old server told the messages apart, on
    # the same message (the order may differ: Courier and Dovecot sort
    # Maildir files of one second differently)
    new_digests = pop_digests(new.port("altpop", "pop3"))
    for u in distinct:
        assert u in altpop, (u, altpop, old_uidls)
        assert new_digests[altpop.index(u)] == old_digests[old_uidls.index(u)], u
    print("%s via %s (%s): old %s\n  altpop %s\n  stock  %s (%d of %d "
          "UIDLs differ from the old server's)"
          % (server, how, source, old_uidls, altpop, stock,
             sum(1 for u in stock if u not in old_uidls), len(stock)))

    port = new.port("altpop", "pop3")
    fm, mp = clients.both(port)
    # only a message whose UIDL the old server had given another one too
    # (it needs a UIDL of its own now) is new to the clients
    assert len(fm) == dups and len(mp) == dups, \
        "downloaded again: %d (fetchmail), %d (mpop); the old server repeated " \
        "%d UIDLs" % (len(fm), len(mp), dups)
    news = oldservers.new_messages()
    for raw in news:
        new.deliver(USER, raw)
    fm, mp = clients.both(port)
    assert len(fm) == len(news) and len(mp) == len(news)
    for got in (fm, mp):
        assert [b"after the move %d" % i in m for i, m in enumerate(got)] == [True] * len(news)
    fm, mp = clients.both(port)
    assert fm == [] and mp == []


def test_shared_guid_keeps_its_own_uidl(make_instance, stage, workdir):
    """Two messages with one GUID (doveadm import from mbox of a message
    sent twice): the imported UIDL belongs to the first only, and the
    second keeps the UIDL it was shown when the first is expunged (it
    must not take the first one's over: a client that saw that UIDL would
    never download it)."""
    new = make_instance(users={USER: PASSWORD})
    twice = (b"Received: from relay by mx; Mon, 2 Mar 2026 10:00:00 +0000\n"
             b"From: a@example.org\nSubject: twice\n\nsent twice\n")
    other = b"From: b@example.org\nSubject: other\n\nanother\n"
    os.chmod(workdir, 0o711)            # the mail user reads the export
    mbox = Path(workdir) / "export" / USER
    mbox.parent.mkdir()
    for n, raw in enumerate((twice, twice, other), 1):
        oldservers.mbox_append(mbox, raw, n)
    chown_tree(mbox.parent, new.uid, new.gid)
    md = new.maildir(USER)
    doveadm_import(new, mbox)
    chown_tree(md, new.uid, new.gid)
    guids = message_guids(new)
    assert len(guids) == 3 and guids[0] == guids[1] != guids[2], (
        guids, mbox.read_bytes())

    header = twice.split(b"\n\n", 1)[0].split(b"\n")
    legacy = Path(workdir) / "legacy.uidls"
    legacy.write_text("%d %s OLD-1\n" % (
        len(twice) + twice.count(b"\n"),
        hashlib.md5(b"".join(h + b"\r\n" for h in header)).hexdigest()))
    report = run_import(new, stage, legacy)
    assert report["matched and imported"] == "1", report
    port = new.port("altpop", "pop3")
    before = pop_uidls(port)
    assert before[0] == "OLD-1" and "OLD-1" not in before[1:], before

    conn = poplib.POP3("127.0.0.1", port, timeout=30)
    conn.user(USER)
    conn.pass_(PASSWORD)
    conn.dele(1)
    conn.quit()
    assert pop_uidls(port) == before[1:]


@pytest.mark.core
def test_cyrus_passwords_and_uidls(make_instance, stage, workdir):
    """Cyrus pop3d -> altpop with the users' passwords (issue 25): the new
    Dovecot has no password of its own for the user. The cyrussasl passdb
    reads a copy of the old server's sasldb2, with the sasl_* settings of
    its imapd.conf (the prefix dropped) as pop.conf, as doc/migration.md
    says. fetchmail and mpop keep their files and the old password and
    fetch nothing twice; APOP works with the old password too."""
    from test_cyrus_sasl import cyrussasl_passdb
    why = oldservers.unavailable("cyrus")
    if why:
        if os.environ.get("ALTPOP_IT_REQUIRE") == "1":
            pytest.fail("cyrus: %s" % why, pytrace=False)
        pytest.skip(why)
    if not stage.has_cyrussasl:
        pytest.fail("libauthdb_cyrussasl.so was not staged (apt-get install "
                    "libsasl2-dev, then ./configure)", pytrace=False)
    old = oldservers.OldServer("cyrus", workdir)
    for raw in oldservers.message_set():
        old.add(raw)
    clients = Clients(workdir)
    with old:
        old_uidls = pop_uidls(old.port)
        fm, mp = clients.both(old.port)
        assert len(fm) == len(old_uidls) and len(mp) == len(old_uidls)
    legacy_path = Path(workdir) / "olduser.uidls"
    legacy_path.write_bytes(cyrus_store(old))

    # the passwords: the old sasldb2 and Cyrus's own SASL settings
    sasl = Path(workdir) / "sasl2"
    sasl.mkdir()
    shutil.copy2(old.cyrus_dir / "sasldb2", sasl / "sasldb2")
    conf = []
    for line in (old.cyrus_dir / "imapd.conf").read_text().splitlines():
        if line.startswith("sasl_sasldb_path:"):
            line = "sasl_sasldb_path: %s" % (sasl / "sasldb2")
        if line.startswith("sasl_"):
            conf.append(line[len("sasl_"):])
    (sasl / "pop.conf").write_text("\n".join(conf) + "\n")
    new = make_instance(default_users=False,
                        extra=cyrussasl_passdb(sasl, realm="oldhost"))
    assert USER not in new.users
    migrate(old, new, "copy-spool", workdir)
    report = run_import(new, stage, legacy_path)
    assert int(report["matched and imported"]) == len(set(old_uidls)), report

    port = new.port("altpop", "pop3")
    assert pop_uidls(port) == old_uidls
    fm, mp = clients.both(port)
    assert fm == [] and mp == [], "downloaded again: %d (fetchmail), %d (mpop)" \
        % (len(fm), len(mp))
    conn = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        assert conn.apop(USER, PASSWORD).startswith(b"+OK")
        assert len(conn.list()[1]) == len(old_uidls)
    finally:
        conn.quit()
    conn = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        conn.user(USER)
        with pytest.raises(poplib.error_proto) as e:
            conn.pass_("not-" + PASSWORD)
        assert e.value.args[0].startswith(b"-ERR [AUTH]")
    finally:
        conn.close()
    news = oldservers.new_messages()
    for raw in news:
        new.deliver(USER, raw)
    fm, mp = clients.both(port)
    assert len(fm) == len(news) and len(mp) == len(news)
