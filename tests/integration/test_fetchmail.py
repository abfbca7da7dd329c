# SPDX-License-Identifier: LGPL-2.1-only
"""fetchmail against stock pop3 and altpop: keep (UIDL) mode and delete mode.

fetchmail quirks seen against stock Dovecot:
  * with "keep" it fetches with "TOP n 99999999" instead of RETR;
  * it adds an empty line after a message that has no header/body separator;
  * exit status 0 = mail delivered, 1 = no new mail;
  * as root its lock is /var/run/fetchmail.pid whatever HOME says: every run
    gets --pidfile in its own directory (else parallel runs collide, exit 8);
  * '%' in an mda command is expanded by fetchmail (%s, %T, %F), so the MDA
    is a small script instead of a `date +%s%N` one-liner.
"""

import pytest

import mailgen
import tools

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = pytest.mark.core

FETCHMAIL = "/usr/bin/fetchmail"


def fetchmail_expected(raw):
    data = mailgen.as_delivered_lf(raw)
    if b"\n\n" not in data and not data.startswith(b"\n"):
        data += b"\n"
    return data


def run_fetchmail(workdir, port, keep=True, auth=None, ssl=False, user="alice",
                  password="alicepw", name="out"):
    mda, out = tools.make_mda(workdir, name)
    lines = [
        "set no syslog",
        "set no bouncemail",
        "poll 127.0.0.1 with protocol pop3 service %d uidl" % port,
        ("  authenticate %s" % auth) if auth else "",
        '  user "%s" there with password "%s" is root here' % (user, password),
        "  keep" if keep else "  no keep",
        "  no rewrite",
        "  stripcr",
        "  mda \"%s\"" % mda,
        "  ssl no sslcertck" if ssl else "  sslproto ''",
    ]
    rc = tools.write_private(workdir + "/fetchmailrc", "\n".join(lines) + "\n")
    res = tools.run([FETCHMAIL, "-f", str(rc), "-i", workdir + "/fetchids",
                     "--pidfile", workdir + "/fetchmail.pid",
                     "--nodetach", "--invisible", "-v"], workdir)
    return res, out


def _assert_delivered(out, msgs, res):
    got = tools.delivered(out)
    assert len(got) == len(msgs), res.text[-3000:]
    for data, (name, raw) in zip(got, msgs):
        assert data == fetchmail_expected(raw), name


@pytest.mark.parametrize("auth", [None, "password", "cram-md5"])
def test_keep_mode(endpoint, instance, workdir, auth):
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    res, out = run_fetchmail(workdir, endpoint.port, keep=True, auth=auth)
    assert res.returncode == 0, res.text[-3000:]
    _assert_delivered(out, msgs, res)
    assert instance.message_count("alice") == len(msgs)
    # UIDL bookkeeping: nothing new on the second run.
    res2, _ = run_fetchmail(workdir, endpoint.port, keep=True, auth=auth)
    assert res2.returncode == 1, res2.text[-3000:]
    assert len(tools.delivered(out)) == len(msgs)
    # A new message is the only one fetched next time.
    extra = mailgen.numbered(99)
    instance.deliver("alice", extra)
    res3, _ = run_fetchmail(workdir, endpoint.port, keep=True, auth=auth)
    assert res3.returncode == 0, res3.text[-3000:]
    got = tools.delivered(out)
    assert len(got) == len(msgs) + 1
    assert got[-1] == fetchmail_expected(extra)
    assert instance.message_count("alice") == len(msgs) + 1


def test_delete_mode(endpoint, instance, workdir):
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    res, out = run_fetchmail(workdir, endpoint.port, keep=False)
    assert res.returncode == 0, res.text[-3000:]
    _assert_delivered(out, msgs, res)
    assert instance.message_count("alice") == 0
    res2, _ = run_fetchmail(workdir, endpoint.port, keep=False)
    assert res2.returncode == 1, res2.text[-3000:]


def test_pop3s(endpoint, instance, workdir):
    msgs = mailgen.small_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    res, out = run_fetchmail(workdir, endpoint.ssl_port, keep=False, ssl=True)
    assert res.returncode == 0, res.text[-3000:]
    _assert_delivered(out, msgs, res)
    assert instance.message_count("alice") == 0


def test_wrong_password(endpoint, instance, workdir):
    instance.deliver("alice", mailgen.simple())
    res, out = run_fetchmail(workdir, endpoint.port, password="wrong", auth="password")
    # 3 = authentication failed
    assert res.returncode == 3, res.text[-3000:]
    assert tools.delivered(out) == []
    assert instance.message_count("alice") == 1
