# SPDX-License-Identifier: LGPL-2.1-only
"""altpop as the front tier of several POP3 backends (issue 14).

One front (altpop) and three backends (stock pop3, altpop, stock pop3),
each in a network namespace of its own (topology.py).  Clients run in the
front's namespace and compare what they get through the front with what
they get from the backend directly."""

import re

import pytest

import harness
import mailgen
import popclient
import test_curl
import test_fetchmail
import test_mpop
import tools
import topology

pytestmark = pytest.mark.altpop_only

# user -> (backend index, password, extra front passdb fields)
USERS = {
    "p0": (0, "p0pw", ""),
    "a1": (1, "a1pw", ""),
    "p2": (2, "p2pw", ""),
    # SASL to the backend
    "s0": (0, "s0pw", "proxy_mech=plain"),
    "l1": (1, "l1pw", "proxy_mech=login"),
    # the front logs in as the user through a master user
    "m2": (2, "m2pw", "master=mu pass=mupw", "m2-password-the-front-never-knew"),
    "m1": (1, "m1pw", "master=mu pass=mupw", "m1-password-the-front-never-knew"),
    # real clients
    "f1": (1, "f1pw", ""),
    "f0": (0, "f0pw", ""),
    "mp2": (2, "mp2pw", "proxy_mech=login"),
    "mp1": (1, "mp1pw", "proxy_mech=plain"),
    "c0": (0, "c0pw", ""),
    "c1": (1, "c1pw", ""),
}
CLIENT_USERS = ("f1", "f0", "mp2", "mp1", "c0", "c1")
MASTERS = {"mu": "mupw"}


@pytest.fixture(scope="module")
def topo(stage):
    # a front offers the mechanisms that give it the password to forward
    # (CRAM-MD5 and the like would need pass= in every passdb reply)
    front = harness.setting("auth_mechanisms", "plain login")
    # backends count sessions per user and client address strictly
    backend = harness.setting("mail_max_userip_connections", "1")
    with topology.Topology(stage, users=USERS, masters=MASTERS,
                           front_extra=front, backend_extra=backend) as t:
        for user in USERS:
            if user in CLIENT_USERS:
                continue
            b = t.backend_of(user)
            for i, (_, raw) in enumerate(mailgen.standard_set()):
                b.deliver(user, raw)
            b.deliver(user, mailgen.numbered(1, subject=user.encode()))
        yield t


def _fetch_all(client):
    n, _ = client.stat()
    return [client.retr(i) for i in range(1, n + 1)], client.uidl()


def _login_rx(service, user, rest):
    return r"%s-login: Info: Log(?:in|ged in): user=<%s>.*%s" % (service, user, rest)


@pytest.mark.parametrize("user", ["p0", "a1", "p2", "s0", "l1", "m2", "m1"])
def test_user_pass_through_the_front_is_the_backends_maildrop(topo, user):
    password = USERS[user][1]
    with topo.front_ns.inside():
        c = popclient.RawPop3(topo.front_port(), source="127.0.0.9")
        d = popclient.RawPop3(*reversed(topo.direct_port(user)))
    c.login(user, password)
    via_front = _fetch_all(c)
    c.quit()
    # directly: with the backend's password (a master-user login's
    # password is the front's only)
    d.login(user, topo.users[user][3])
    direct = _fetch_all(d)
    d.quit()
    assert via_front == direct
    assert any(user.encode() in m for m in via_front[0])
    # the backend saw the client's own address and the front's session id
    b = topo.backend_of(user)
    service = "altpop" if "altpop" in b.protocols else "pop3"
    b.wait_log(_login_rx(service, user, r"rip=127\.0\.0\.9"))


@pytest.mark.parametrize("user,mech", [("s0", "PLAIN"), ("l1", "LOGIN"),
                                       ("m2", "PLAIN")])
def test_sasl_client_through_the_front(topo, user, mech):
    # the client's own SASL login at the front, SASL (proxy_mech or the
    # master user's PLAIN) from the front to the backend
    with topo.front_ns.inside():
        c = popclient.RawPop3(topo.front_port())
    r = c.auth_plain(user, USERS[user][1])
    assert r.startswith(b"+OK"), r
    n, _ = c.stat()
    assert n == len(mailgen.standard_set()) + 1
    c.quit()
    b = topo.backend_of(user)
    service = "altpop" if "altpop" in b.protocols else "pop3"
    b.wait_log(_login_rx(service, user, r"method=%s" % mech))



# a backend that is down is reported within this long (Dovecot's proxy
# connects, retries and gives up: connection refused is immediate)
DOWN_REPORT_SECONDS = 10


def _login_via_front(topo, user):
    with topo.front_ns.inside():
        c = popclient.RawPop3(topo.front_port())
    c.ok("USER %s" % user)
    return c, c.cmd("PASS %s" % USERS[user][1])


@pytest.mark.parametrize("user,other,how", [("p0", "a1", "kill"),
                                            ("a1", "p2", "stop")])
def test_backend_dies_during_and_between_sessions(topo, user, other, how):
    import time
    b = topo.backend_of(user)
    n = len(mailgen.standard_set()) + 1
    c, r = _login_via_front(topo, user)
    assert r.startswith(b"+OK"), r
    assert c.stat()[0] == n
    c.ok("DELE 1")
    try:
        # during a session: the backend goes away (SIGKILL to all its
        # processes, or stopped), the client is disconnected (no QUIT:
        # nothing may be deleted)
        getattr(b, how)()
        t0 = time.monotonic()
        with pytest.raises((EOFError, ConnectionError)):
            c.cmd("NOOP")
            c.cmd("NOOP")
        assert time.monotonic() - t0 < DOWN_REPORT_SECONDS
        # between sessions: a temporary failure, quickly
        t0 = time.monotonic()
        c, r = _login_via_front(topo, user)
        assert r.startswith(b"-ERR [SYS/TEMP]"), r
        assert time.monotonic() - t0 < DOWN_REPORT_SECONDS
        c.close()
        # the other backends' users are served meanwhile
        c, r = _login_via_front(topo, other)
        assert r.startswith(b"+OK"), r
        assert c.stat()[0] == n
        c.quit()
    finally:
        if not b.running:
            b.start()
    # back again: served, and every message still there
    c, r = _login_via_front(topo, user)
    assert r.startswith(b"+OK"), r
    assert c.stat()[0] == n
    c.quit()
    topo.front.wait_log(r"proxy\(%s,.*(?:Connection refused|connect.*failed)" % user)


def _load(topo, user):
    msgs = mailgen.standard_set()
    b = topo.backend_of(user)
    for p in b.messages(user):
        p.unlink()
    for _, raw in msgs:
        b.deliver(user, raw)
    return b, msgs


@pytest.mark.parametrize("user", ["f1", "f0"])
def test_fetchmail_through_the_front(topo, workdir, user):
    b, msgs = _load(topo, user)
    with topo.front_ns.inside():
        res, out = test_fetchmail.run_fetchmail(
            workdir, topo.front_port(), keep=False, user=user,
            password=USERS[user][1])
    assert res.returncode == 0, res.text[-3000:]
    # byte for byte what the backend stored; deleted there at QUIT
    test_fetchmail._assert_delivered(out, msgs, res)
    assert b.message_count(user) == 0


@pytest.mark.parametrize("user", ["mp2", "mp1"])
def test_mpop_sasl_through_the_front(topo, workdir, user):
    b, msgs = _load(topo, user)
    with topo.front_ns.inside():
        res, out = test_mpop.run_mpop(workdir, topo.front_port(), keep=True,
                                      auth="plain", user=user,
                                      password=USERS[user][1])
    assert res.returncode == 0, res.text[-3000:]
    test_mpop._assert_delivered(out, msgs, res)
    assert b.message_count(user) == len(msgs)


@pytest.mark.parametrize("user", ["c0", "c1"])
def test_curl_through_the_front_is_byte_identical_to_direct(topo, workdir, user):
    _, msgs = _load(topo, user)
    addr, port = topo.direct_port(user)
    auth = "%s:%s" % (user, USERS[user][1])
    # the messages where a proxy could go wrong: dots, no final newline,
    # large, a final dot line (curl is slow to start: not all twelve)
    names = [name for name, _ in msgs]
    for name in ("dots", "no_final_newline", "large", "no_final_newline_dot"):
        i = names.index(name) + 1
        with topo.front_ns.inside():
            via = test_curl.curl(workdir, "pop3://127.0.0.1:%d/%d"
                                 % (topo.front_port(), i), "-u", auth)
            direct = test_curl.curl(workdir, "pop3://%s:%d/%d" % (addr, port, i),
                                    "-u", auth)
        assert via.returncode == 0 and direct.returncode == 0, via.text[-2000:]
        assert via.stdout == direct.stdout
        assert via.stdout == mailgen.expected_pop3_bytes(msgs[i - 1][1])


@pytest.mark.parametrize("user", ["p2"])
def test_backend_counts_the_real_client_per_address(topo, user):
    """mail_max_userip_connections = 1 on the backends: the front forwards
    each client's own address (XCLIENT), so two clients are two addresses
    there, while a second session from the same client is refused.  (A
    stock backend: altpop allows one session per maildrop anyway.)"""
    password = USERS[user][1]
    sessions = []
    with topo.front_ns.inside():
        for src in ("127.0.3.1", "127.0.3.2", "127.0.3.1"):
            c = popclient.RawPop3(topo.front_port(), source=src)
            c.ok("USER %s" % user)
            sessions.append((c, c.cmd("PASS %s" % password)))
    try:
        assert sessions[0][1].startswith(b"+OK"), sessions[0][1]
        assert sessions[1][1].startswith(b"+OK"), sessions[1][1]
        r = sessions[2][1]
        assert r.startswith(b"-ERR ") and b"Maximum number of connections" in r, r
    finally:
        for c, r in sessions:
            if r.startswith(b"+OK"):
                c.quit()
            else:
                c.close()
    # the backend logged the front's session id for the client's session
    m = topo.front.wait_log(r"proxy\(%s,[^)]*\): Started proxying.*"
                            r"rip=127\.0\.3\.2, .*session=<([^>]+)>" % user)
    b = topo.backend_of(user)
    service = "altpop" if "altpop" in b.protocols else "pop3"
    b.wait_log(_login_rx(service, user, r"rip=127\.0\.3\.2, .*session=<%s>"
                         % re.escape(m.group(1))))
