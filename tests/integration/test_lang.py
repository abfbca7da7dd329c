# SPDX-License-Identifier: LGPL-2.1-only
"""RFC 6856 LANG (altpop_lang): the capability and the command in the
AUTHORIZATION and TRANSACTION states, response texts in Italian before and
after login (the language goes through the login handoff), response codes
and machine-read parts unchanged; and after UTF8, AUTH PLAIN / LOGIN data
checked and SASLprep-normalised like USER/PASS, also through Python's
poplib with POP3.utf8()."""

import base64
import poplib
import unicodedata

import pytest

import harness
import mailgen
import popclient
from servercheck import capa_lines

pytestmark = pytest.mark.altpop_only

USER = unicodedata.normalize("NFC", "jörg")
PASSWORD = unicodedata.normalize("NFC", "pässwörd")


def lang_instance(make_instance, lang=True, utf8=False):
    extra = ""
    if lang:
        extra += harness.setting("altpop_lang", "yes")
    if utf8:
        extra += harness.setting("altpop_utf8", "yes")
    # Dovecot's default auth_username_chars has no room for UTF-8 (README)
    return make_instance(protocols=["altpop"], extra_altpop=extra,
                         extra=harness.setting("auth_username_chars", ""),
                         users={USER: PASSWORD})


def connect(inst, source=None):
    c = popclient.RawPop3(inst.port("altpop"), source=source)
    assert c.greeting.startswith(b"+OK"), c.greeting
    return c


def it(text):
    return text.encode()


def test_capa_only_when_on(make_instance):
    for on in (True, False):
        inst = lang_instance(make_instance, lang=on)
        c = connect(inst)
        assert (b"LANG" in capa_lines(c)) == on
        if not on:
            # off: no such command, in either state
            assert c.cmd("LANG") == b"-ERR Unknown command."
        c.login("alice", "alicepw")
        assert (b"LANG" in capa_lines(c)) == on
        if not on:
            assert c.cmd("LANG it") == b"-ERR Unknown command: LANG"
        c.quit()


def test_lang_before_and_after_login(make_instance):
    inst = lang_instance(make_instance)
    raws = [mailgen.numbered(1), mailgen.numbered(2)]
    for raw in raws:
        inst.deliver("alice", raw)
    c = connect(inst)

    # the listing: tag SP description, multi-line
    status, data = c.multi("LANG")
    assert status == b"+OK Language listing follows:"
    assert data.split(b"\r\n")[:-1] == [b"en English", b"it Italiano"]
    # unknown, not a language range, two ranges: refused in English
    for bad in ("de", "it_IT", "it en", "*-CH"):
        reply = c.cmd("LANG " + bad)
        assert reply.startswith(b"-ERR Language not supported"), (bad, reply)
    # RFC 4647 lookup: it-CH falls back to it; the reply in the new one
    assert c.cmd("LANG it-CH") == it("+OK it Le risposte sono ora in italiano.")
    assert c.cmd("LANG de") == it(
        "-ERR Lingua non disponibile (LANG elenca le lingue).")
    assert c.cmd("FOO") == it("-ERR Comando sconosciuto.")
    status, _ = c.multi("CAPA")
    assert status == it("+OK Segue l'elenco delle funzionalità")
    # response codes stay as they are, the text after them changes
    assert c.cmd("USER alice") == it("+OK Inviare la password.")
    assert c.cmd("PASS wrong") == it("-ERR [AUTH] Autenticazione non riuscita.")
    assert c.cmd("PASS alicepw") == it("-ERR Nessun nome utente "
                                       "(inviare prima USER).")
    assert c.cmd("USER alice") == it("+OK Inviare la password.")
    # the language carries over into the post-login process
    assert c.cmd("PASS alicepw") == it("+OK Accesso eseguito.")
    assert b"LANG" in capa_lines(c)
    sizes = [len(mailgen.expected_pop3_bytes(r)) for r in raws]
    # machine-read parts unchanged
    assert c.cmd("STAT") == b"+OK 2 %d" % sum(sizes)
    status, data = c.multi("LIST")
    assert status == it("+OK 2 messaggi:")
    assert data == b"1 %d\r\n2 %d\r\n" % tuple(sizes)
    assert c.cmd("LIST 1") == b"+OK 1 %d" % sizes[0]
    assert c.cmd("RETR 9") == it("-ERR Il messaggio 9 non esiste.")
    assert c.cmd("TOP 1 x") == it("-ERR Numero non valido: x")
    assert c.cmd("USER bob") == it("-ERR Accesso già eseguito.")
    assert c.retr(1) == mailgen.expected_pop3_bytes(raws[0])
    assert c.cmd("DELE 1") == it("+OK Segnato per l'eliminazione.")
    assert c.cmd("RETR 1") == it("-ERR Il messaggio è eliminato.")
    # LANG in the TRANSACTION state
    assert c.cmd("LANG en") == b"+OK en Responses are now in English."
    assert c.cmd("RETR 1") == b"-ERR Message is deleted."
    assert c.cmd("LANG *") == b"+OK en Responses are now in English."
    assert c.cmd("LANG it") == it("+OK it Le risposte sono ora in italiano.")
    assert c.quit() == it("+OK Disconnessione, messaggi eliminati.")


def test_prelogin_bad_lines_in_the_language(make_instance):
    # the pre-login command table's answers: a bad name, a line with a NUL
    # byte, an unknown command and the one too many, all in Italian
    inst = lang_instance(make_instance)
    c = connect(inst)
    assert c.cmd("LANG it").startswith(b"+OK it ")
    assert c.cmd("F@O") == it("-ERR Caratteri non validi nel nome del comando.")
    assert c.cmd(b"NO\x00OP") == it(
        "-ERR Caratteri non validi nella riga di comando.")
    assert c.cmd("FOO") == it("-ERR Comando sconosciuto.")
    assert c.readline() == it("-ERR Troppi comandi errati.")
    with pytest.raises(EOFError):
        c.readline()


def test_in_use_code_kept(make_instance):
    inst = lang_instance(make_instance)
    first = connect(inst)
    first.login("alice", "alicepw")
    second = connect(inst)
    assert second.cmd("LANG it").startswith(b"+OK it ")
    second.ok("USER alice")
    assert second.cmd("PASS alicepw") == it(
        "-ERR [IN-USE] La casella è bloccata da un'altra sessione POP3.")
    second.close()
    first.quit()


def b64(text):
    return base64.b64encode(text.encode() if isinstance(text, str)
                            else text).decode()


def auth_plain_ir(c, user, password):
    return c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (user, password)))


def auth_plain_continued(c, user, password):
    assert c.cmd("AUTH PLAIN") == b"+ "
    return c.cmd(b64("\0%s\0%s" % (user, password)))


def auth_login(c, user, password):
    assert c.cmd("AUTH LOGIN").startswith(b"+ ")
    assert c.cmd(b64(user)).startswith(b"+ ")
    return c.cmd(b64(password))


@pytest.mark.parametrize("auth", [auth_plain_ir, auth_plain_continued,
                                  auth_login])
def test_auth_after_utf8_is_normalised(make_instance, auth):
    inst = lang_instance(make_instance, lang=False, utf8=True)
    inst.deliver(USER, mailgen.numbered(1))
    for form in ("NFC", "NFD"):
        user = unicodedata.normalize(form, USER)
        password = unicodedata.normalize(form, PASSWORD)
        c = connect(inst)
        assert c.cmd("UTF8").startswith(b"+OK")
        reply = auth(c, user, password)
        assert reply.startswith(b"+OK"), (form, reply)
        assert c.retr(1) == mailgen.expected_pop3_bytes(mailgen.numbered(1))
        c.quit()


def test_auth_nfd_without_utf8_is_not_normalised(make_instance):
    inst = lang_instance(make_instance, lang=False, utf8=True)
    c = connect(inst)
    reply = auth_plain_ir(c, unicodedata.normalize("NFD", USER),
                          unicodedata.normalize("NFD", PASSWORD))
    assert reply.startswith(b"-ERR [AUTH]"), reply
    c.close()


def test_auth_invalid_utf8_refused(make_instance):
    inst = lang_instance(make_instance, lang=True, utf8=True)
    bad = b"\0j\xf6rg\0" + PASSWORD.encode()       # Latin-1 user name
    c = connect(inst)
    assert c.cmd("UTF8").startswith(b"+OK")
    # initial response
    reply = c.cmd("AUTH PLAIN " + b64(bad))
    assert reply == b"-ERR [AUTH] Invalid UTF-8 in the user name or password."
    # continuation, in Italian: the code stays
    assert c.cmd("LANG it").startswith(b"+OK it ")
    assert c.cmd("AUTH PLAIN") == b"+ "
    reply = c.cmd(b64(b"\0" + USER.encode() + b"\0p\xc3"))  # cut sequence
    assert reply == it("-ERR [AUTH] UTF-8 non valido nel nome utente o "
                       "nella password."), reply
    # still usable
    assert auth_plain_ir(c, USER, PASSWORD) == it("+OK Accesso eseguito.")
    c.quit()
    log = inst.log_text()
    assert "UTF8: invalid UTF-8 in the AUTH PLAIN data" in log
    assert "Panic" not in log and "Fatal" not in log


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_poplib_utf8_login(make_instance, form):
    """A real client: poplib's POP3.utf8() (RFC 6856), then user/pass as
    UTF-8; the NFD spelling finds the NFC account through SASLprep."""
    inst = lang_instance(make_instance, lang=False, utf8=True)
    raw = ("From: Jörg <j@example.org>\r\nSubject: Grüße\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\n"
           "Schöne Grüße\r\n").encode()
    inst.deliver(USER, raw)
    client = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=15)
    try:
        assert client.utf8().startswith(b"+OK")
        client.user(unicodedata.normalize(form, USER))
        client.pass_(unicodedata.normalize(form, PASSWORD))
        _, lines, _ = client.retr(1)
        assert b"\r\n".join(lines) + b"\r\n" == \
            mailgen.expected_pop3_bytes(raw)
    finally:
        client.quit()
