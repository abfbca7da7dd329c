# SPDX-License-Identifier: LGPL-2.1-only
"""The login kinds only altpop understands, through the front tier: KPOP
(the front verifies the ticket, then logs in to the backend as the user
through a master user) and SDPS names (the front forwards user@account to
an altpop backend with SDPS on its listener: the view and *ENV are the
backend's).  Topology: topology.py, with a throw-away Kerberos realm
(altpop_instance/kdc.py) whose KDC stays in the caller's namespace:
clients get their service ticket there first (kvno), the front needs only
its keytab."""

import os
import poplib
import subprocess

import pytest

import harness
from harness import kdc
import mailgen
import test_kpop
import test_sdps
import tools
import topology

pytestmark = pytest.mark.altpop_only

MASTERS = {"mu": "mu-secret"}
SDPS_BACKEND = 0
USERS = {
    # KPOP: alice@REALM logs in as alice, on a stock pop3 backend through
    # the master user (her backend password is nowhere on the front)
    "alice": (1, "alicepw", "master=mu pass=mu-secret", "alice-backend-pw"),
    # SDPS host account on the altpop backend
    test_sdps.HOST: (SDPS_BACKEND, test_sdps.HOST_PW, ""),
}
# KPOP users whose principal is alice@REALM (k5principals, added with the
# realm's name): dave on the altpop backend through the master user, erin
# proxied without one (KPOP has no password to forward)
KPOP_USERS = {
    "dave": (SDPS_BACKEND, "davepw", "master=mu pass=mu-secret",
             "dave-backend-pw"),
    "erin": (1, "erinpw", "", "erin-backend-pw"),
}


@pytest.fixture(scope="module")
def realm(stage):
    if not stage.has_kpop:
        pytest.fail("libmech_kpop.so was not staged", pytrace=False)
    reason = kdc.available()
    if reason:
        test_kpop._unavailable(reason)
    with kdc.KDC() as k:
        yield k


@pytest.fixture(scope="module")
def ccache(realm):
    """alice's TGT and her ticket for pop/<host>, got in our namespace."""
    cc = realm.kinit("alice")
    env = dict(os.environ)
    env.update(realm.env(cc))
    subprocess.run(["kvno", realm.service_principal], env=env, check=True,
                   stdout=subprocess.DEVNULL, timeout=60)
    return cc


@pytest.fixture(scope="module")
def topo(stage, realm):
    sdps_on = harness.setting("altpop_sdps_listeners", "pop3")
    users = dict(USERS)
    for name, (i, pw, extra, backend_pw) in KPOP_USERS.items():
        users[name] = (i, pw, ("k5principals=alice@%s %s" % (realm.realm, extra))
                       .strip(), backend_pw)
    t = topology.Topology(
        stage, backends=("altpop", "pop3"), users=users, masters=MASTERS,
        front_extra=test_kpop.kpop_settings(realm),
        front_kwargs={"extra_altpop": sdps_on},
        backend_extra=harness.setting("lmtp_hdr_delivery_address", "original"),
        backend_kwargs={"extra_altpop": sdps_on})
    with t:
        for local, sender, body in test_sdps.MAIL:
            test_sdps.lmtp_deliver(t.backends[SDPS_BACKEND], local, sender, body)
        yield t


class _Front:
    """What test_sdps's helpers need of an instance: the front's port."""

    def __init__(self, topo):
        self.topo = topo

    def port(self, proto, listener):
        return self.topo.front.port(proto, listener)


def _kpop_port(topo):
    return topo.front.port("altpop", "kpop")


def _kpop_through_the_front(topo, realm, ccache, user, service, *commands):
    """user's KPOP session (alice@REALM's ticket) at the front, proxied
    through the master user to user's backend (whose login service is
    service), over small_set(): (backend, messages, kpop-client result)."""
    b = topo.backend_of(user)
    msgs = mailgen.small_set()
    for _, raw in msgs:
        b.deliver(user, raw)
    with topo.front_ns.inside():
        res = test_kpop.kpop_client(realm, ccache, _kpop_port(topo),
                                    "-u", user, "-c", "STAT", *commands)
    assert res.returncode == 0, res
    assert "S: +OK Logged in." in res.lines, res
    assert "S: +OK %d " % len(msgs) in "\n".join(res.lines), res
    # the front checked the ticket; the backend saw the master user
    i = topo.users[user][0]
    topo.front.wait_log(r"proxy\(%s,%s:\d+\): Started proxying.*"
                        r"\(master mu\).*method=KPOP"
                        % (user, topology.Topology.backend_address(i)
                           .replace(".", r"\.")))
    b.wait_log(r"%s: Info: Log(?:in|ged in): user=<%s>, method=PLAIN, "
               r"rip=127\." % (service, user))
    return b, msgs, res


def test_kpop_through_the_front_as_master_user(topo, realm, ccache):
    try:
        _kpop_through_the_front(topo, realm, ccache, "alice", "pop3-login",
                                "-c", "RETR 1")
    finally:
        for p in topo.backend_of("alice").messages("alice"):
            p.unlink()


def test_kpop_through_the_front_to_an_altpop_backend(topo, realm, ccache):
    try:
        b, msgs, res = _kpop_through_the_front(
            topo, realm, ccache, "dave", "altpop-login",
            "-c", "RETR 1", "-c", "DELE 1")
        # the backend's session (it has SDPS on: a Return-Path first)
        got = "\r\n".join(test_kpop.retr_lines(res)) + "\r\n"
        assert got.endswith(mailgen.expected_pop3_bytes(msgs[0][1]).decode())
        # DELE and QUIT took effect at the backend
        b.wait_log(r"altpop\(dave\).*Disconnected: .*del=1/%d" % len(msgs))
        assert b.message_count("dave") == len(msgs) - 1
    finally:
        for p in topo.backend_of("dave").messages("dave"):
            p.unlink()


def test_kpop_proxy_without_master_user_refused(topo, realm, ccache):
    """A KPOP user whose passdb reply says proxy without master= and pass=:
    the ticket is good, but there is no password to log in with at the
    backend. The client gets -ERR [SYS/TEMP], the front's log says what
    the passdb reply lacks, the front keeps serving, and nothing reaches
    the backend."""
    b = topo.backend_of("erin")
    mark = len(topo.front.log_text())
    with topo.front_ns.inside():
        res = test_kpop.kpop_client(realm, ccache, _kpop_port(topo),
                                    "-u", "erin", "-c", "STAT")
    assert res.returncode == 1, res
    errs = [l for l in res.lines if l.startswith("S: -ERR")]
    assert len(errs) == 1 and errs[0].startswith("S: -ERR [SYS/TEMP]"), res
    assert res.lines[-1] == "CLOSED", res
    topo.front.wait_log(r"Error: .*KPOP login of erin cannot be proxied: "
                        r".*add master=.* pass=", start=mark)
    assert "killed with signal" not in topo.front.log_text()[mark:]
    assert "user=<erin>" not in b.log_text()
    # the same principal still logs in where the reply is complete
    with topo.front_ns.inside():
        res = test_kpop.kpop_client(realm, ccache, _kpop_port(topo),
                                    "-u", "dave", "-c", "STAT")
    assert "S: +OK Logged in." in res.lines, res


def test_fetchmail_kpop_through_the_front(topo, realm, ccache, workdir):
    b = topo.backend_of("alice")
    msgs = mailgen.standard_set()
    for _, raw in msgs:
        b.deliver("alice", raw)
    mda, out = tools.make_mda(workdir)
    with topo.front_ns.inside():
        res = test_kpop.run_in_services_ns(
            [test_kpop.FETCHMAIL, "-p", "kpop", "-u", "alice", "--nodetach",
             "--invisible", "--norewrite", "--nokeep", "--sslproto", "", "-v",
             "--mda", mda, "-i", workdir + "/fetchids",
             "--pidfile", workdir + "/fetchmail.pid", test_kpop.HOST],
            workdir, _kpop_port(topo), realm.env(ccache))
    assert res.returncode == 0, res.text[-3000:]
    # byte for byte what was delivered, and deleted on the backend at QUIT
    test_kpop.assert_fetched(out, msgs, res)
    assert b.message_count("alice") == 0


def _pop(topo, host, port, name):
    with topo.front_ns.inside():
        conn = poplib.POP3(host, port, timeout=30)
    conn.user(name)
    conn.pass_(test_sdps.HOST_PW)
    return conn


@pytest.mark.parametrize("name", ["fred@" + test_sdps.HOST,
                                  "jim+" + test_sdps.HOST, test_sdps.HOST])
def test_sdps_view_through_the_front_is_the_backends(topo, name):
    direct = topo.direct_port(test_sdps.HOST)
    seen = []
    for host, port in (("127.0.0.1", topo.front_port()), direct):
        conn = _pop(topo, host, port, name)
        try:
            seen.append((test_sdps.retr_all(conn), test_sdps.uidls(conn)))
            # *ENV is the backend's
            lines = [conn._shortcmd("*ENV 1")]
            while lines[-1] != b"." and len(lines) < 10:
                lines.append(conn._getline()[0])
            seen.append(lines)
        finally:
            conn.quit()
    assert seen[0] == seen[2]
    assert seen[1] == seen[3]
    local = name.replace("+", "@").split("@")[0] if name != test_sdps.HOST else None
    want = [m for m in test_sdps.MAIL if local is None or m[0] == local]
    assert len(seen[0][0]) == len(want)
    assert seen[1][-1] == b"."


def test_fetchmail_sdps_multidrop_through_the_front(topo, workdir):
    with topo.front_ns.inside():
        res, got = test_sdps.fetchmail_sdps(_Front(topo), workdir, test_sdps.HOST)
    assert res.returncode == 0, res.stdout
    assert len(got) == len(test_sdps.MAIL), res.stdout
    for (local, sender, body), (f_sender, f_rcpt, msg) in zip(test_sdps.MAIL, got):
        assert f_rcpt in (local, "%s@%s" % (local, test_sdps.DOMAIN))
        assert f_sender == (sender or "<>")
        assert msg.replace(b"\r\n", b"\n").endswith(body.replace(b"\r\n", b"\n"))
