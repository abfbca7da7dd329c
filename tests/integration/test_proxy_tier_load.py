# SPDX-License-Identifier: LGPL-2.1-only
"""200 sessions through the front tier at once (issue 14): every one logs
in, is held open while all the others are, then reads its own messages
(byte counts as stored on its backend) and quits.  Throughput and memory
per proxied session are measured by tests/bench/proxy.py, not here."""

import pytest

import harness
import mailgen
import popclient
import topology

pytestmark = pytest.mark.altpop_only

SESSIONS = 200
BACKENDS = ("pop3", "altpop", "pop3")
# room for a mail process per session on each backend
PROCESS_LIMIT = SESSIONS + 20


def _user(i):
    return "load%03d" % i


def test_200_concurrent_sessions_through_the_front(stage):
    users = {_user(i): (i % len(BACKENDS), "pw%03d" % i, "")
             for i in range(SESSIONS)}
    limits = harness.setting("default_process_limit", PROCESS_LIMIT)
    login = topology.performance_mode(["altpop-login", "pop3-login"])
    with topology.Topology(stage, backends=BACKENDS, users=users,
                           front_extra=limits + login,
                           backend_extra=limits + login) as topo:
        want = {}
        for i, user in enumerate(users):
            b = topo.backend_of(user)
            msgs = [mailgen.numbered(1, subject=user.encode()),
                    mailgen.numbered(2 + i % 5)]
            for raw in msgs:
                b.deliver(user, raw)
            want[user] = [mailgen.expected_pop3_bytes(raw) for raw in msgs]
        clients = {}
        with topo.front_ns.inside():
            for i, user in enumerate(users):
                # its own source address: no per-IP limit is in the way
                src = "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)
                clients[user] = popclient.RawPop3(topo.front_port(), source=src,
                                                  timeout=60)
        # all log in before any of them reads or quits
        for user, c in clients.items():
            c.send("USER %s\r\nPASS %s\r\n" % (user, users[user][1]))
        for user, c in clients.items():
            assert c.readline().startswith(b"+OK"), user
            r = c.readline()
            assert r.startswith(b"+OK"), (user, r)
        for user, c in clients.items():
            n, size = c.stat()
            assert n == len(want[user]), user
            got = [c.retr(k) for k in range(1, n + 1)]
            assert got == want[user], user
            assert size == sum(len(m) for m in got)
            assert c.quit().startswith(b"+OK")
        # every session went through the front to its backend
        log = topo.front.log_text()
        assert sum(1 for user in users
                   if "proxy(%s," % user in log) == SESSIONS
