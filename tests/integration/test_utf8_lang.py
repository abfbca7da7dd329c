# SPDX-License-Identifier: LGPL-2.1-only
"""RFC 6856 UTF8 (altpop_utf8): the capability and the command; after it
UTF-8 user names and passwords are checked and SASLprep-normalised (NFC and
NFD forms of a name log in to the same account); invalid UTF-8 gets a
clear -ERR; messages are sent unchanged."""

import unicodedata

import pytest

import harness
import mailgen
import popclient
from servercheck import capa_lines
from test_mpop import run_mpop

pytestmark = pytest.mark.altpop_only

USER = unicodedata.normalize("NFC", "jörg")
PASSWORD = unicodedata.normalize("NFC", "pässwörd")


def nfd(text):
    return unicodedata.normalize("NFD", text)


def utf8_instance(make_instance, on=True):
    extra = harness.setting("altpop_utf8", "yes") if on else ""
    # Dovecot's default auth_username_chars has no room for UTF-8 (README)
    return make_instance(protocols=["altpop"], extra_altpop=extra,
                         extra=harness.setting("auth_username_chars", ""),
                         users={USER: PASSWORD})


def connect(inst):
    c = popclient.RawPop3(inst.port("altpop"))
    assert c.greeting.startswith(b"+OK"), c.greeting
    return c


def user_pass(c, user, password):
    r = c.cmd("USER " + user)
    if not r.startswith(b"+OK"):
        return r
    return c.cmd("PASS " + password)


def test_off_by_default(make_instance):
    inst = utf8_instance(make_instance, on=False)
    c = connect(inst)
    assert b"UTF8 USER" not in capa_lines(c)
    assert c.cmd("UTF8").startswith(b"-ERR Unknown command")
    c.close()


def test_capa_and_command(make_instance):
    inst = utf8_instance(make_instance)
    c = connect(inst)
    assert b"UTF8 USER" in capa_lines(c)
    assert c.cmd("UTF8 now").startswith(b"-ERR")
    assert c.cmd("UTF8").startswith(b"+OK")
    assert user_pass(c, USER, PASSWORD).startswith(b"+OK")
    # RFC 2449 section 5: announced after login too
    assert b"UTF8 USER" in capa_lines(c)
    c.quit()


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_normalised_names_and_passwords(make_instance, form):
    inst = utf8_instance(make_instance)
    user = unicodedata.normalize(form, USER)
    password = unicodedata.normalize(form, PASSWORD)
    c = connect(inst)
    assert c.cmd("UTF8").startswith(b"+OK")
    reply = user_pass(c, user, password)
    assert reply.startswith(b"+OK"), reply
    c.quit()


def test_nfd_without_utf8_is_not_normalised(make_instance, source_ip):
    inst = utf8_instance(make_instance)
    c = popclient.RawPop3(inst.port("altpop"))
    reply = user_pass(c, nfd(USER), nfd(PASSWORD))
    assert reply.startswith(b"-ERR"), reply
    c.close()


@pytest.mark.parametrize("bad", [
    b"\xc0\xaf",                    # overlong "/"
    b"\xe0\x80\xaf",                # overlong "/", three bytes
    b"\xed\xa0\x80",                # a UTF-16 surrogate
    b"j\xf6rg",                     # Latin-1
    b"j\xc3",                       # cut sequence
])
def test_invalid_utf8_is_refused(make_instance, bad):
    inst = utf8_instance(make_instance)
    c = connect(inst)
    assert c.cmd("UTF8").startswith(b"+OK")
    reply = c.cmd(b"USER " + bad)
    assert reply.startswith(b"-ERR Invalid UTF-8 in the user name"), reply
    assert c.cmd("USER " + USER).startswith(b"+OK")
    reply = c.cmd(b"PASS " + bad)
    assert reply.startswith(b"-ERR Invalid UTF-8 in the password"), reply
    # still usable
    assert user_pass(c, USER, PASSWORD).startswith(b"+OK")
    c.quit()
    assert "Panic" not in inst.log_text() and "Fatal" not in inst.log_text()


def test_messages_sent_unchanged(make_instance):
    inst = utf8_instance(make_instance)
    raw = ("From: Jörg <j@example.org>\r\nSubject: Grüße\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n"
           "Schöne Grüße, 日本語\r\n").encode()
    inst.deliver(USER, raw)
    c = connect(inst)
    assert c.cmd("UTF8").startswith(b"+OK")
    assert user_pass(c, USER, PASSWORD).startswith(b"+OK")
    assert c.retr(1) == mailgen.expected_pop3_bytes(raw)
    c.quit()


@pytest.mark.parametrize("auth", ["user", "plain"])
def test_mpop_utf8_password(make_instance, workdir, auth):
    """mpop sends a UTF-8 password as it is (it has no RFC 6856 UTF8
    command): it works whenever the bytes match the stored password."""
    inst = utf8_instance(make_instance)
    inst.deliver(USER, mailgen.numbered(1))
    res, _ = run_mpop(workdir, inst.port("altpop"), auth=auth, user=USER,
                      password=PASSWORD)
    assert res.returncode == 0, res.text[-3000:]
