# SPDX-License-Identifier: LGPL-2.1-only
"""mpop against stock pop3 and altpop.

mpop refuses APOP when the greeting's timestamp holds a '=' (stock Dovecot's
does: <pid.n.time.base64==@host>): "POP3 server does not support
authentication method APOP".  The apop case is an expected failure then.

mpop delivers through an MDA with Unix line ends (CRLF -> LF, dots
un-stuffed); with received_header off it adds nothing.  Exit status 0 also
when there was no new mail ("new: no messages").
"""

import re

import pytest

import mailgen
import popclient
import tools

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = pytest.mark.core

MPOP = "/usr/bin/mpop"


def run_mpop(workdir, port, keep=True, auth="user", tls=None, user="alice",
             password="alicepw", name="out"):
    """tls: None (plain), "starttls" or "pop3s"."""
    mda, out = tools.make_mda(workdir, name)
    lines = [
        "defaults",
        "timeout 60",
        "account test",
        "host 127.0.0.1",
        "port %d" % port,
        "user %s" % user,
        "password %s" % password,
        "auth %s" % auth,
        "keep %s" % ("on" if keep else "off"),
        "received_header off",
        "uidls_file %s/uidls" % workdir,
        'delivery mda "%s"' % mda,
    ]
    if tls is None:
        lines += ["tls off"]
    else:
        lines += ["tls on", "tls_certcheck off",
                  "tls_starttls %s" % ("on" if tls == "starttls" else "off")]
    rc = tools.write_private(workdir + "/mpoprc", "\n".join(lines) + "\n")
    res = tools.run([MPOP, "-C", str(rc), "--quiet", "test"], workdir)
    return res, out


def _assert_delivered(out, msgs, res):
    got = tools.delivered(out)
    assert len(got) == len(msgs), res.text[-3000:]
    for data, (name, raw) in zip(got, msgs):
        assert data == mailgen.as_delivered_lf(raw), name


def test_keep_on(endpoint, instance, workdir):
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    res, out = run_mpop(workdir, endpoint.port, keep=True)
    assert res.returncode == 0, res.text[-3000:]
    _assert_delivered(out, msgs, res)
    assert instance.message_count("alice") == len(msgs)
    res2, _ = run_mpop(workdir, endpoint.port, keep=True)
    assert res2.returncode == 0, res2.text[-3000:]
    assert len(tools.delivered(out)) == len(msgs)
    extra = mailgen.numbered(7)
    instance.deliver("alice", extra)
    res3, _ = run_mpop(workdir, endpoint.port, keep=True)
    assert res3.returncode == 0, res3.text[-3000:]
    got = tools.delivered(out)
    assert len(got) == len(msgs) + 1 and got[-1] == mailgen.as_delivered_lf(extra)


def test_keep_off(endpoint, instance, workdir):
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    res, out = run_mpop(workdir, endpoint.port, keep=False)
    assert res.returncode == 0, res.text[-3000:]
    _assert_delivered(out, msgs, res)
    assert instance.message_count("alice") == 0


@pytest.mark.parametrize("auth", ["user", "plain", "login", "cram-md5", "digest-md5",
                                  "scram-sha-1", "scram-sha-256", "apop"])
def test_auth_methods(endpoint, instance, workdir, auth):
    if auth == "apop":
        with popclient.RawPop3(endpoint.port) as c:
            stamp = re.search(rb"<[^<>]*>", c.greeting)
        assert stamp, c.greeting
        if b"=" in stamp.group(0):
            pytest.xfail("mpop rejects an APOP timestamp containing '=': %r"
                         % stamp.group(0))
    msgs = mailgen.small_set()[:3]
    for _, raw in msgs:
        instance.deliver("alice", raw)
    res, out = run_mpop(workdir, endpoint.port, keep=True, auth=auth)
    assert res.returncode == 0, res.text[-3000:]
    _assert_delivered(out, msgs, res)


@pytest.mark.parametrize("tls", ["starttls", "pop3s"])
def test_tls(endpoint, instance, workdir, tls):
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    port = endpoint.port if tls == "starttls" else endpoint.ssl_port
    res, out = run_mpop(workdir, port, keep=False, tls=tls)
    assert res.returncode == 0, res.text[-3000:]
    _assert_delivered(out, msgs, res)
    assert instance.message_count("alice") == 0


def test_wrong_password(endpoint, instance, workdir):
    instance.deliver("alice", mailgen.simple())
    res, out = run_mpop(workdir, endpoint.port, password="wrong")
    assert res.returncode != 0
    assert tools.delivered(out) == []
    assert instance.message_count("alice") == 1
