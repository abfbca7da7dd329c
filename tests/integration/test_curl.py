# SPDX-License-Identifier: LGPL-2.1-only
"""curl's POP3 support against stock pop3 and altpop.

curl writes the message un-dot-stuffed with CRLF line ends and without the
terminating '.' line, i.e. exactly mailgen.expected_pop3_bytes(raw).
Without a path it prints the LIST data, with -X UIDL the UIDL data.
curl's DIGEST-MD5 gives up on Dovecot's challenge (it has realm=""): curl
then cancels with "*" and falls back to CRAM-MD5 on its own.  SCRAM is not
built into this curl.
"""

import pytest

import mailgen
import tools

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = pytest.mark.core

CURL = "/usr/bin/curl"


def curl(workdir, url, *args):
    res = tools.run([CURL, "-sS", "--max-time", "60", "-u", "alice:alicepw"]
                    + list(args) + [url], workdir)
    return res


def test_retr_each(endpoint, loaded, workdir):
    for i, (name, raw) in enumerate(loaded, 1):
        res = curl(workdir, "pop3://127.0.0.1:%d/%d" % (endpoint.port, i))
        assert res.returncode == 0, res.text
        assert res.stdout == mailgen.expected_pop3_bytes(raw), name


def test_retr_pop3s(endpoint, loaded, workdir):
    for i, (name, raw) in enumerate(loaded, 1):
        res = curl(workdir, "pop3s://127.0.0.1:%d/%d" % (endpoint.ssl_port, i), "-k")
        assert res.returncode == 0, res.text
        assert res.stdout == mailgen.expected_pop3_bytes(raw), name


def test_retr_starttls(endpoint, loaded, workdir):
    name, raw = loaded[1]
    res = curl(workdir, "pop3://127.0.0.1:%d/2" % endpoint.port, "--ssl-reqd", "-k")
    assert res.returncode == 0, res.text
    assert res.stdout == mailgen.expected_pop3_bytes(raw)


def test_list_and_uidl(endpoint, loaded, workdir):
    res = curl(workdir, "pop3://127.0.0.1:%d/" % endpoint.port)
    assert res.returncode == 0, res.text
    assert res.stdout == b"".join(b"%d %d\r\n" % (i, mailgen.expected_pop3_size(raw))
                                  for i, (_, raw) in enumerate(loaded, 1))
    res = curl(workdir, "pop3://127.0.0.1:%d/" % endpoint.port, "-X", "UIDL")
    assert res.returncode == 0, res.text
    lines = res.stdout.split(b"\r\n")
    assert lines[-1] == b"" and len(lines) == len(loaded) + 1
    assert [l.split(b" ")[0] for l in lines[:-1]] == \
        [b"%d" % i for i in range(1, len(loaded) + 1)]


@pytest.mark.parametrize("login_opt", ["AUTH=PLAIN", "AUTH=LOGIN", "AUTH=CRAM-MD5",
                                       "AUTH=+APOP", "AUTH=*"])
def test_auth_mechs(endpoint, loaded, workdir, login_opt):
    name, raw = loaded[1]
    res = curl(workdir, "pop3://127.0.0.1:%d/2" % endpoint.port,
               "--login-options", login_opt)
    assert res.returncode == 0, res.text
    assert res.stdout == mailgen.expected_pop3_bytes(raw)


def test_dele(endpoint, loaded, instance, workdir):
    res = curl(workdir, "pop3://127.0.0.1:%d/1" % endpoint.port, "-X", "DELE", "-I")
    assert res.returncode == 0, res.text
    assert instance.message_count("alice") == len(loaded) - 1
    res = curl(workdir, "pop3://127.0.0.1:%d/1" % endpoint.port)
    assert res.stdout == mailgen.expected_pop3_bytes(loaded[1][1])


def test_wrong_password(endpoint, loaded, workdir):
    res = tools.run([CURL, "-sS", "--max-time", "60", "-u", "alice:wrong",
                     "pop3://127.0.0.1:%d/1" % endpoint.port], workdir)
    assert res.returncode == 67, res.text     # CURLE_LOGIN_DENIED
    assert res.stdout.count(b"Subject") == 0
