# SPDX-License-Identifier: LGPL-2.1-only
"""RFC 6856 LANG (altpop_lang): the capability and the command in the
AUTHORIZATION and TRANSACTION states, response texts in Italian before and
after login (the language goes through the login handoff), response codes
and machine-read parts unchanged; AUTH PLAIN / LOGIN data passed to the
mechanism as sent, UTF8 or not; USER/PASS after UTF8 through Python's
poplib with POP3.utf8()."""

import base64
import os
import re
import poplib
import subprocess
import sys
import unicodedata

import pytest

import harness
import mailgen
import popclient
from servercheck import capa_lines

pytestmark = pytest.mark.altpop_only

USER = unicodedata.normalize("NFC", "jörg")
PASSWORD = unicodedata.normalize("NFC", "pässwörd")


def lang_instance(make_instance, lang=True, utf8=False, protocols=("altpop",)):
    extra = ""
    if lang:
        extra += harness.setting("altpop_lang", "yes")
    if utf8:
        extra += harness.setting("altpop_utf8", "yes")
    # Dovecot's default auth_username_chars has no room for UTF-8 (README)
    return make_instance(protocols=list(protocols), extra_altpop=extra,
                         extra=harness.setting("auth_username_chars", ""),
                         users={USER: PASSWORD})


def connect(inst, source=None, service="altpop"):
    c = popclient.RawPop3(inst.port(service), source=source)
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
    # altpop's own texts in Italian; login-common's failed authentication
    # is Dovecot's text and stays English, its response code too
    assert c.cmd("USER alice") == it("+OK Inviare la password.")
    assert c.cmd("PASS wrong") == b"-ERR [AUTH] Authentication failed."
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
def test_auth_data_goes_to_the_mechanism_as_sent(make_instance, auth):
    """AUTH PLAIN/LOGIN data is the mechanism's: altpop-login passes it
    on as sent, UTF8 or not (README, UTF8), exactly as Dovecot's pop3
    does. The NFC spelling the passdb holds logs in; the NFD spelling of
    the same name and password does not, and pop3 answers it the same."""
    inst = lang_instance(make_instance, lang=False, utf8=True,
                         protocols=["pop3", "altpop"])
    inst.deliver(USER, mailgen.numbered(1))
    for utf8 in (False, True):
        c = connect(inst)
        if utf8:
            assert c.cmd("UTF8").startswith(b"+OK")
        reply = auth(c, USER, PASSWORD)
        assert reply.startswith(b"+OK"), (utf8, reply)
        assert c.retr(1) == mailgen.expected_pop3_bytes(mailgen.numbered(1))
        c.quit()
        replies = []
        for service in ("altpop", "pop3"):
            c = connect(inst, service=service)
            if utf8 and service == "altpop":
                assert c.cmd("UTF8").startswith(b"+OK")
            replies.append(auth(c, unicodedata.normalize("NFD", USER),
                                unicodedata.normalize("NFD", PASSWORD)))
            c.close()
        assert replies[0].startswith(b"-ERR [AUTH]"), (utf8, replies)
        assert replies[1].startswith(b"-ERR [AUTH]"), (utf8, replies)


def test_auth_invalid_utf8_is_the_mechanisms_to_refuse(make_instance):
    inst = lang_instance(make_instance, lang=True, utf8=True)
    bad = b"\0j\xf6rg\0" + PASSWORD.encode()       # Latin-1 user name
    c = connect(inst)
    assert c.cmd("UTF8").startswith(b"+OK")
    reply = c.cmd("AUTH PLAIN " + b64(bad))
    assert reply.startswith(b"-ERR [AUTH] "), reply
    # in Italian: the code stays
    assert c.cmd("LANG it").startswith(b"+OK it ")
    assert c.cmd("AUTH PLAIN") == b"+ "
    reply = c.cmd(b64(b"\0" + USER.encode() + b"\0p\xc3"))  # cut sequence
    assert reply.startswith(b"-ERR [AUTH] "), reply
    # still usable
    assert auth_plain_ir(c, USER, PASSWORD) == it("+OK Accesso eseguito.")
    c.quit()
    log = inst.log_text()
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


def test_xclient_untrusted_in_the_language(make_instance):
    # XCLIENT's replies are altpop's: from the table, in Italian here
    inst = lang_instance(make_instance)
    c = connect(inst)
    assert c.cmd("LANG it").startswith(b"+OK it ")
    assert c.cmd("XCLIENT ADDR=192.0.2.78") == it(
        "+OK IP non fidato: comando ignorato")
    c.login("alice", "alicepw")
    c.quit()


def test_every_reply_text_is_in_the_table():
    # tests/check-reply-texts.py (also in make check): no reply text
    # written as a literal in module/login and module/mail
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "check-reply-texts.py")
    res = subprocess.run([sys.executable, script], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def lang_session(inst):
    """A connection that has switched to Italian."""
    c = connect(inst)
    assert c.cmd("LANG it") == it("+OK it Le risposte sono ora in italiano.")
    return c


def test_sdps_texts_in_the_language(make_instance):
    """SDPS's own replies (README, SDPS) come from the table: a bare host
    name where accounts are per user, a name SDPS refuses, a *ENV for a
    message that does not exist; the [AUTH] code stays."""
    inst = make_instance(
        protocols=["altpop"], users={"fred@myhost": "fredpw"},
        extra_altpop=harness.settings([
            ("altpop_lang", "yes"), ("altpop_sdps_listeners", "*"),
            ("altpop_sdps_auth_user", "%{user}@%{host}")]))
    inst.deliver("fred@myhost", mailgen.numbered(1))
    c = lang_session(inst)
    assert c.cmd("USER myhost") == it(
        "-ERR [AUTH] Accedere come utente@host.")
    reply = c.cmd("USER fred@my@host")
    assert reply.startswith(it("-ERR [AUTH] Nome di accesso non valido: ")), \
        reply
    assert c.cmd("USER fred+myhost") == it("+OK Inviare la password.")
    assert c.cmd("PASS fredpw") == it("+OK Accesso eseguito.")
    assert c.cmd("*ENV 9") == it("-ERR Messaggio inesistente.")
    assert c.readline() == b"."
    assert c.cmd("STAT").startswith(b"+OK 1 ")
    c.quit()


def test_login_delay_texts_in_the_language(make_instance):
    """LOGIN-DELAY's refusal and its failed check in Italian, with their
    response codes; the numbers are the client's to read."""
    inst = make_instance(protocols=["altpop"],
                         extra=harness.setting("altpop_login_delay", "60"),
                         extra_altpop=harness.setting("altpop_lang", "yes"))
    c = connect(inst)
    c.login("alice", "alicepw")
    c.quit()
    c = lang_session(inst)
    c.ok("USER alice")
    reply = c.cmd("PASS alicepw")
    assert re.fullmatch(
        it(r"-ERR \[LOGIN-DELAY\] Ultimo accesso \d+ secondi fa: attendere "
           r"\d+ secondi tra un accesso e l'altro \(LOGIN-DELAY 60\)\."),
        reply), reply
    c.close()
    # the state file cannot be read: the check fails, the login with it
    state = inst.maildir("alice") / "dovecot-altpop-last-login"
    state.unlink()
    state.mkdir()
    c = lang_session(inst)
    c.ok("USER alice")
    assert c.cmd("PASS alicepw") == it(
        "-ERR [SYS/TEMP] Impossibile verificare l'ora dell'ultimo accesso.")
    c.close()
    inst.wait_log(r"LOGIN-DELAY: .*dovecot-altpop-last-login", timeout=10)


def test_lock_failure_in_the_language(make_instance):
    """The session lock cannot be made (its directory is immutable, which
    holds for root too): the login fails with [SYS/TEMP] in Italian and
    the log names the lock file."""
    inst = lang_instance(make_instance)
    inst.deliver("alice", mailgen.numbered(1))
    # the instance keeps indexes in the maildir: the lock goes there
    index_root = inst.maildir("alice")
    res = subprocess.run(["chattr", "+i", str(index_root)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip("this file system has no immutable flag: %s"
                    % res.stderr.strip())
    try:
        c = lang_session(inst)
        c.ok("USER alice")
        assert c.cmd("PASS alicepw") == it(
            "-ERR [SYS/TEMP] Impossibile creare il blocco della casella.")
        c.close()
    finally:
        subprocess.run(["chattr", "-i", str(index_root)], check=True)
    inst.wait_log(r"altpop_lock_session: file_dotlock_create\(.*"
                  r"dovecot-pop3-session.lock\) failed", timeout=10)
    # and with the directory writable again the session works
    c = lang_session(inst)
    c.ok("USER alice")
    assert c.cmd("PASS alicepw") == it("+OK Accesso eseguito.")
    c.quit()
