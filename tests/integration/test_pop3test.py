# SPDX-License-Identifier: LGPL-2.1-only
"""Cyrus pop3test: SASL mechanisms, USER/PASS and APOP.

pop3test quirks:
  * no -t: plaintext session; -t "" (empty file name) DOES negotiate STLS
    first (the empty name only means "no client certificate"); -s is pop3s;
  * after authenticating it prints "Authenticated." and then copies stdin to
    the server, printing the server's replies unprefixed;
  * at the end of stdin it sends QUIT itself: a QUIT in the input makes it
    send two, and a server that closes after the first with the second one
    unread resets the connection (the kernel sends RST and drops unsent
    replies); stock Dovecot does that too, so stdin never holds QUIT here;
  * its exit status is 0 even when authentication fails ("Authentication
    failed."), so the output is what the tests check.
"""

import re

import pytest

import harness
import mailgen
import tools

# pop3test's DIGEST-MD5 names a realm (the server's name), and Dovecot
# 2.4.2 and later make it part of the user name (alice@127.0.0.1), as a
# site with realms would want: drop it as an admin would, for both
# protocols alike
USERNAME_WITHOUT_REALM = ("auth_username_format = %{user | username}\n"
                          if harness.IS_24 else "auth_username_format = %n\n")

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = [pytest.mark.core,
              pytest.mark.dovecot(extra=USERNAME_WITHOUT_REALM)]

POP3TEST = "/usr/lib/cyrus/bin/pop3test"

MECHS = ["PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256",
         "user", "apop"]


def pop3test(workdir, port, mech, password="alicepw", mode="plain",
             commands=b"STAT\r\n", user="alice"):
    argv = [POP3TEST, "-p", str(port), "-a", user, "-w", password, "-m", mech]
    if mode == "stls":
        argv += ["-t", ""]
    elif mode == "pop3s":
        argv += ["-s"]
    argv.append("127.0.0.1")
    return tools.run(argv, workdir, input=commands, timeout=60)


def _check_ok(res, msgs):
    assert "Authenticated." in res.text, res.text
    size = sum(mailgen.expected_pop3_size(raw) for _, raw in msgs)
    assert re.search(r"^\+OK %d %d\r?$" % (len(msgs), size), res.text, re.M), res.text
    assert re.search(r"^\+OK.*\r?\nConnection closed\.", res.text, re.M), res.text


@pytest.fixture
def loaded(instance):
    msgs = mailgen.small_set()
    for _, raw in msgs:
        instance.deliver("alice", raw)
    return msgs


@pytest.mark.parametrize("mech", MECHS)
def test_mech_plain_session(endpoint, loaded, workdir, mech):
    res = pop3test(workdir, endpoint.port, mech)
    _check_ok(res, loaded)
    assert "Security strength factor: 0" in res.text


@pytest.mark.parametrize("mech", MECHS)
def test_mech_stls(endpoint, loaded, workdir, mech):
    res = pop3test(workdir, endpoint.port, mech, mode="stls")
    _check_ok(res, loaded)
    assert "C: STLS" in res.text and "TLS connection established" in res.text


@pytest.mark.parametrize("mech", ["PLAIN", "SCRAM-SHA-256", "user"])
def test_mech_pop3s(endpoint, loaded, workdir, mech):
    res = pop3test(workdir, endpoint.ssl_port, mech, mode="pop3s")
    _check_ok(res, loaded)


def test_capa_lists_mechs(endpoint, loaded, workdir):
    res = pop3test(workdir, endpoint.port, "PLAIN")
    sasl = re.search(r"^S: SASL (.*?)\r?$", res.text, re.M)
    assert sasl, res.text
    assert set(sasl.group(1).split()) >= {"PLAIN", "LOGIN", "CRAM-MD5", "DIGEST-MD5",
                                           "SCRAM-SHA-1", "SCRAM-SHA-256"}
    assert "APOP" not in sasl.group(1)


def test_retr_after_sasl(endpoint, loaded, workdir):
    res = pop3test(workdir, endpoint.port, "SCRAM-SHA-1",
                   commands=b"RETR 2\r\n")
    assert "Authenticated." in res.text
    expected = mailgen.dot_stuff(mailgen.expected_pop3_bytes(dict(loaded)["dots"]))
    assert expected in res.stdout.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.mark.parametrize("mech", ["PLAIN", "CRAM-MD5", "user"])
def test_wrong_password(endpoint, loaded, workdir, mech):
    res = pop3test(workdir, endpoint.port, mech, password="wrong",
                   commands=b"")
    assert "Authenticated." not in res.text
    assert "Authentication failed" in res.text or "-ERR" in res.text, res.text
