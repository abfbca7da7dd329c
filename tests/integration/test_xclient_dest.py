# SPDX-License-Identifier: LGPL-2.1-only
"""XCLIENT DESTADDR/DESTPORT (the address and port the client connected
to, as Dovecot 2.4.3+'s pop3-login sends and takes them) and
mail_max_userip_connections answered with [IN-USE].

altpop-login as a backend takes DESTADDR/DESTPORT from a trusted front:
its login line, and the post-login process, show the client's own
destination instead of the front's connection. As a front it sends them
(a topology of its own: the front and one altpop backend in network
namespaces, topology.py)."""

import re

import pytest

import harness
import popclient
import test_xclient_proxy
import topology

# differential and real clients: run on every Dovecot CI covers
pytestmark = [pytest.mark.altpop_only, pytest.mark.core]

TRUSTED = harness.setting("login_trusted_networks", "127.0.0.0/8")

# the login line with the local address and port; the post-login
# process's log prefix with the local address (2.3's mail variables have
# no local port)
if harness.IS_24:
    LOGIN_LOG = ("user=<%{user}> rip=%{remote_ip} lip=%{local_ip} "
                 "lport=%{local_port} session=<%{session}>")
    MAIL_PREFIX = "%{service}(%{user})<lip=%{local_ip}>: "
else:
    LOGIN_LOG = "user=<%u> rip=%r lip=%l lport=%{lport} session=<%{session}>"
    MAIL_PREFIX = "%s(%u)<lip=%{lip}>: "
LOG_SETTINGS = harness.settings([("login_log_format_elements", LOGIN_LOG)])
MAIL_LOG_SETTINGS = harness.settings([("mail_log_prefix", MAIL_PREFIX)])

# Dovecot's own pop3-login sends and takes DESTADDR/DESTPORT from 2.4.3
STOCK_HAS_DEST = harness.DOVECOT_VERSION >= (2, 4, 3)

USERIP_LIMIT = harness.setting("mail_max_userip_connections", "1")
USERIP_REPLY = (b"-ERR [IN-USE] Maximum number of connections from user+IP "
                b"exceeded (mail_max_userip_connections=1)")


def _login_rx(user, rest):
    """rest: the elements after user=<...>, separated by single spaces
    (2.3 puts a comma after each)."""
    # 2.3 logs "Login:", 2.4 "Logged in:"
    return r"altpop-login: Info: Log(?:in|ged in): user=<%s>,? %s" % (
        user, rest.replace(" ", ",? "))


def _mail_rx(user, lip):
    return r"altpop\(%s\)<lip=%s>:" % (user, re.escape(lip))


@pytest.mark.dovecot(extra=TRUSTED + LOG_SETTINGS,
                     extra_altpop=MAIL_LOG_SETTINGS)
def test_backend_takes_destaddr_and_destport(instance):
    c = popclient.RawPop3(instance.port("altpop"))
    assert c.greeting.startswith(b"+OK [XCLIENT] "), c.greeting
    r = c.cmd("XCLIENT ADDR=192.0.2.77 PORT=4321 DESTADDR=192.0.2.10 "
              "DESTPORT=995 SESSION=dest1 TTL=3")
    assert r == b"+OK Updated", r
    c.login("alice", "alicepw")
    c.quit()
    instance.wait_log(_login_rx("alice", r"rip=192\.0\.2\.77 lip=192\.0\.2\.10 "
                                r"lport=995 session=<dest1>"))
    # the post-login process got the client's destination too
    instance.wait_log(_mail_rx("alice", "192.0.2.10"))


@pytest.mark.dovecot(extra=TRUSTED + "local 192.0.2.10 {\n"
                     "  altpop_login_max_bad_commands = 1\n}\n")
def test_settings_follow_destaddr(instance):
    """Dovecot 2.4.3+: the settings of the client's destination apply
    after XCLIENT (local { } filters), as with stock pop3-login. Older
    Dovecots read no settings again (README, Supported Dovecot versions):
    the front connection's limit (3) stays."""
    follows = ("ALTPOP_HAVE_CLIENT_ADDRESSES_CHANGED"
               in test_xclient_proxy._built_features())
    c = popclient.RawPop3(instance.port("altpop"))
    r = c.cmd("XCLIENT DESTADDR=192.0.2.10 DESTPORT=110")
    assert r == b"+OK Updated", r
    # two bad commands: under this destination one is the limit
    assert c.cmd("FOO") == b"-ERR Unknown command."
    if follows:
        assert c.cmd("BAR") == b"-ERR Too many bad commands."
    else:
        assert c.cmd("BAR") == b"-ERR Unknown command."
        c.login("alice", "alicepw")
        c.quit()


@pytest.mark.dovecot(extra=TRUSTED + LOG_SETTINGS)
@pytest.mark.parametrize("args", ["DESTADDR=notanip", "DESTADDR=",
                                  "DESTPORT=70000", "DESTPORT=-1",
                                  "DESTPORT=x", "destaddr=192.0.2.1 DESTPORT="])
def test_bad_destaddr_or_destport_is_refused(instance, args):
    c = popclient.RawPop3(instance.port("altpop"))
    r = c.cmd("XCLIENT ADDR=192.0.2.79 " + args)
    assert r == b"-ERR Invalid parameters", r
    # the session goes on; a later good XCLIENT applies
    r = c.cmd("XCLIENT DESTADDR=192.0.2.11 DESTPORT=1995 SESSION=dest2")
    assert r == b"+OK Updated", r
    c.login("alice", "alicepw")
    c.quit()
    instance.wait_log(_login_rx("alice", r"rip=\S+ lip=192\.0\.2\.11 "
                                r"lport=1995 session=<dest2>"))


@pytest.mark.dovecot(extra=LOG_SETTINGS)
def test_destaddr_from_an_untrusted_network_is_ignored(instance):
    port = instance.port("altpop")
    c = popclient.RawPop3(port)
    r = c.cmd("XCLIENT DESTADDR=192.0.2.12 DESTPORT=995 SESSION=dest3")
    assert r.startswith(b"+OK") and b"ignoring" in r, r
    c.login("alice", "alicepw")
    c.quit()
    instance.wait_log(_login_rx("alice", r"rip=127\.0\.0\.1 lip=127\.0\.0\.1 "
                                r"lport=%d " % port))
    assert "192.0.2.12" not in instance.log_text()


@pytest.mark.dovecot(extra=USERIP_LIMIT + harness.setting(
    "disable_plaintext_auth", "no"))
def test_userip_limit_is_in_use(instance):
    """Over mail_max_userip_connections the login is refused with
    [IN-USE] (as Dovecot 2.4.3+'s pop3-login does), not with the session
    lock's own [IN-USE] text: the limit is the login process's."""
    port = instance.port("altpop")
    first = popclient.RawPop3(port)
    first.login("alice", "alicepw")
    second = popclient.RawPop3(port)
    second.ok("USER alice")
    r = second.cmd("PASS alicepw")
    assert r == USERIP_REPLY, r
    # another address is another count: past the login, the maildrop
    # is the first session's (altpop's own lock)
    third = popclient.RawPop3(port, source=harness.next_source_ip())
    third.ok("USER alice")
    r = third.cmd("PASS alicepw")
    assert r.startswith(b"-ERR [IN-USE] ") and r != USERIP_REPLY, r
    first.quit()


# ---- altpop-login as the front ----

USERS = {
    # user -> (backend index, password, extra front passdb fields)
    "d0": (0, "d0pw", ""),
    "e0": (0, "e0pw", ""),
}


@pytest.fixture(scope="module")
def topo(stage):
    backend = LOG_SETTINGS + USERIP_LIMIT
    with topology.Topology(stage, backends=("altpop",), users=USERS,
                           backend_extra=backend,
                           backend_kwargs={"extra_altpop": MAIL_LOG_SETTINGS}
                           ) as t:
        yield t


@pytest.mark.parametrize("front", ["altpop", "pop3"])
def test_front_sends_destaddr_and_destport(topo, front):
    """The backend sees where the client connected to the front (the
    front's 127.0.0.1 and its port), not the front's own connection to it
    (198.18.1.1 to 198.18.1.2). Dovecot's own pop3-login as the front
    sends them from 2.4.3 on."""
    user = "d0" if front == "altpop" else "e0"
    front_port = topo.front.port(front, "pop3")
    with topo.front_ns.inside():
        c = popclient.RawPop3(front_port, source="127.0.0.9")
    c.login(user, USERS[user][1])
    c.quit()
    b = topo.backend_of(user)
    if front == "altpop" or STOCK_HAS_DEST:
        lip, lport = "127.0.0.1", front_port
    else:
        lip, lport = topology.Topology.backend_address(0), b.pop3_port()
    b.wait_log(_login_rx(user, r"rip=127\.0\.0\.9 lip=%s lport=%d "
                         % (re.escape(lip), lport)))
    b.wait_log(_mail_rx(user, lip))


def test_userip_limit_through_the_front(topo):
    """A backend's [IN-USE] for the connection limit reaches the client
    through the front as it is."""
    user, password = "d0", USERS["d0"][1]
    with topo.front_ns.inside():
        first = popclient.RawPop3(topo.front_port(), source="127.0.4.1")
        second = popclient.RawPop3(topo.front_port(), source="127.0.4.1")
    try:
        first.login(user, password)
        second.ok("USER %s" % user)
        r = second.cmd("PASS %s" % password)
        assert r == USERIP_REPLY, r
    finally:
        second.close()
        first.close()
