# SPDX-License-Identifier: LGPL-2.1-only
"""The cyrussasl passdb (libauthdb_cyrussasl.so): passwords checked by
Cyrus SASL's sasl_checkpass() as a private <app>.conf says, against a
sasldb2 made with saslpasswd2 (pwcheck_method: auxprop) and against a real
saslauthd (-a sasldb) on a private socket.

The instance's own passwd-file passdb does not know the users below, so a
login that works was answered by the cyrussasl passdb. Lines the passdb
logs come from an auth worker: it is declared blocking.

saslauthd -a sasldb reads only /etc/sasldb2: it runs in a private mount
namespace where the test's sasldb2 is bind-mounted there.
"""

import os
import poplib
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

import harness
import mailgen
import tools
from test_fetchmail import fetchmail_expected, run_fetchmail
from test_kpop import _unavailable, require_staged
from test_mpop import run_mpop
from test_pop3test import pop3test

# real clients: run on every Dovecot CI covers
pytestmark = pytest.mark.core

SASLPASSWD2 = "/usr/sbin/saslpasswd2"
SASLAUTHD = "/usr/sbin/saslauthd"
CURL = "/usr/bin/curl"
APP = "pop"
REALM = "example.org"
OTHER_REALM = "other.org"
USERS = {("sasluser", REALM): "sasl-pw-1", ("faruser", OTHER_REALM): "far-pw-2"}
SASLAUTHD_START_TIMEOUT = 20.0
LOG_TIMEOUT = 20.0
CLIENT_TIMEOUT = 30
AUTH_FAILURE_DELAY = 2.0     # Dovecot's default auth_failure_delay


@pytest.fixture(scope="module")
def sasl_stage(stage):
    require_staged(stage, stage.has_cyrussasl,
                   "libauthdb_cyrussasl.so was not staged (configure did "
                   "not find libsasl2: apt-get install libsasl2-dev, then "
                   "./configure)")
    for tool in (SASLPASSWD2, SASLAUTHD):
        if not os.path.exists(tool):
            _unavailable("%s missing (apt-get install sasl2-bin)" % tool)
    return stage


@pytest.fixture(scope="module")
def sasldb(sasl_stage, tmp_path_factory):
    """A sasldb2 holding USERS, made by saslpasswd2."""
    db = tmp_path_factory.mktemp("sasldb") / "sasldb2"
    for (user, realm), password in USERS.items():
        res = subprocess.run([SASLPASSWD2, "-f", str(db), "-p", "-c",
                              "-u", realm, user], input=password.encode(),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=CLIENT_TIMEOUT)
        assert res.returncode == 0, res.stdout
    os.chmod(db, 0o600)
    return db


def sasl_conf_dir(parent, text):
    """A private SASL configuration directory holding APP.conf."""
    d = Path(parent) / "sasl2"
    d.mkdir()
    (d / ("%s.conf" % APP)).write_text(text)
    return d


def cyrussasl_passdb(conf_dir, realm=REALM, cached=False):
    """The passdb block; cached: with Dovecot's auth cache (2.4: the
    passdb's own cache key; 2.3: cache_key=%u in args, as for PAM)."""
    cache = "auth_cache_size = 1M\n" if cached else ""
    if harness.IS_24:
        return cache + ("passdb cyrussasl {\n  driver = cyrussasl\n"
                        "  passdb_cyrussasl_conf_path = %s\n"
                        "  passdb_cyrussasl_realm = %s\n}\n"
                        % (conf_dir, realm))
    return cache + ("passdb {\n  driver = cyrussasl\n"
                    "  args = conf_path=%s realm=%s%s\n}\n"
                    % (conf_dir, realm, " cache_key=%u" if cached else ""))


def saslauthd_inst_conf(inst):
    return inst.sasl_conf_dir / ("%s.conf" % APP)


def start_instance(make_instance, conf_dir, cached=False):
    inst = make_instance(["altpop"],
                         extra=cyrussasl_passdb(conf_dir, cached=cached))
    inst.sasl_conf_dir = conf_dir
    # maildrops of the users only the cyrussasl passdb knows
    for name in ("sasluser", "faruser@" + OTHER_REALM):
        inst.maildir(name)
    return inst


@pytest.fixture
def auxprop_inst(sasldb, make_instance, tmp_path):
    conf = sasl_conf_dir(tmp_path, "pwcheck_method: auxprop\n"
                         "auxprop_plugin: sasldb\nsasldb_path: %s\n" % sasldb)
    return start_instance(make_instance, conf)


def poplib_login(inst, user, password):
    """USER/PASS with Python's poplib; returns the PASS reply."""
    p = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=CLIENT_TIMEOUT)
    try:
        p.user(user)
        reply = p.pass_(password)
        p.stat()
        p.quit()
        return reply
    finally:
        p.close()


def poplib_refused(inst, user, password):
    p = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=CLIENT_TIMEOUT)
    try:
        p.user(user)
        with pytest.raises(poplib.error_proto) as e:
            p.pass_(password)
        return e.value.args[0]
    finally:
        p.close()


def curl_plain(inst, workdir, user, password, mech="PLAIN"):
    return tools.run([CURL, "-sS", "--max-time", str(CLIENT_TIMEOUT),
                      "--login-options", "AUTH=" + mech,
                      "-u", "%s:%s" % (user, password),
                      "pop3://127.0.0.1:%d/" % inst.port("altpop")], workdir)


def worker_line(user, message):
    """A line the cyrussasl passdb logs from an auth worker (2.3:
    "auth-worker(PID): Info: ... cyrussasl(user,...): msg"; 2.4:
    "auth-worker(user,rip)<PID><session>: request [N]: Info: cyrussasl:
    msg")."""
    if harness.IS_24:
        return (r"auth-worker\(%s,[^)]*\)<[^\n]*: (?:Info|Error): "
                r"cyrussasl: [^\n]*%s" % (re.escape(user), message))
    return (r"auth-worker\(\d+\): (?:Info|Error): "
            r"[^\n]*cyrussasl\(%s,[^\n]*%s" % (re.escape(user), message))


def test_user_pass_default_realm(auxprop_inst):
    assert poplib_login(auxprop_inst, "sasluser",
                        USERS[("sasluser", REALM)]).startswith(b"+OK")


def test_user_pass_other_realm(auxprop_inst):
    """user@realm goes to libsasl2 as given: the realm is the one after @."""
    assert poplib_login(auxprop_inst, "faruser@" + OTHER_REALM,
                        USERS[("faruser", OTHER_REALM)]).startswith(b"+OK")
    # without @realm the default realm applies, where faruser is unknown
    poplib_refused(auxprop_inst, "faruser", USERS[("faruser", OTHER_REALM)])


def test_auth_plain_curl(auxprop_inst, workdir):
    res = curl_plain(auxprop_inst, workdir, "sasluser",
                     USERS[("sasluser", REALM)])
    assert res.returncode == 0, res.text
    res = curl_plain(auxprop_inst, workdir, "sasluser", "wrong")
    assert res.returncode != 0, res.text


def test_wrong_password_refused_and_logged(auxprop_inst):
    """Refused after Dovecot's usual delay (auth_failure_delay, 2 s by
    default; auth flushes the delayed failures on a timer, so a reply
    comes up to a second early)."""
    started = time.monotonic()
    reply = poplib_refused(auxprop_inst, "sasluser", "not-the-password")
    delay = time.monotonic() - started
    assert reply.startswith(b"-ERR [AUTH]"), reply
    assert delay >= AUTH_FAILURE_DELAY / 2, delay
    auxprop_inst.wait_log(worker_line("sasluser", "Password mismatch"),
                          timeout=LOG_TIMEOUT)


def test_unknown_user_logged(auxprop_inst):
    reply = poplib_refused(auxprop_inst, "nosuchuser", "whatever")
    assert reply.startswith(b"-ERR [AUTH]"), reply
    auxprop_inst.wait_log(worker_line("nosuchuser", "unknown user"),
                          timeout=LOG_TIMEOUT)


def test_credentials_cram_md5_and_apop(auxprop_inst, workdir):
    """CRAM-MD5 and APOP need the password itself: the passdb looks up
    the sasldb2's cleartext userPassword through auxprop."""
    password = USERS[("sasluser", REALM)]
    res = curl_plain(auxprop_inst, workdir, "sasluser", password, "CRAM-MD5")
    assert res.returncode == 0, res.text
    res = curl_plain(auxprop_inst, workdir, "sasluser", "wrong", "CRAM-MD5")
    assert res.returncode != 0, res.text
    p = poplib.POP3("127.0.0.1", auxprop_inst.port("altpop"),
                    timeout=CLIENT_TIMEOUT)
    try:
        assert p.apop("sasluser", password).startswith(b"+OK")
        p.quit()
    finally:
        p.close()


# how each real client logs in: Cyrus pop3test (-m), fetchmail
# (authenticate), mpop (auth)
CLIENT_LOGINS = ([("pop3test", m) for m in ("user", "PLAIN", "LOGIN",
                                             "CRAM-MD5", "apop")] +
                 [("fetchmail", a) for a in ("password", "cram-md5")] +
                 [("mpop", a) for a in ("user", "plain", "login", "cram-md5",
                                        "apop")])


@pytest.mark.parametrize("client,how", CLIENT_LOGINS,
                         ids=["-".join(c) for c in CLIENT_LOGINS])
def test_real_clients_fetch(auxprop_inst, workdir, client, how):
    """The user's mail, fetched by each real client with the password that
    is only in the sasldb2; the same client with a wrong password gets
    nothing."""
    user, password = "sasluser", USERS[("sasluser", REALM)]
    msgs = mailgen.small_set()[:2]
    for _, raw in msgs:
        auxprop_inst.deliver(user, raw)
    port = auxprop_inst.port("altpop")
    if client == "pop3test":
        res = pop3test(workdir, port, how, password=password, user=user)
        assert "Authenticated." in res.text, res.text
        size = sum(mailgen.expected_pop3_size(raw) for _, raw in msgs)
        assert re.search(r"^\+OK %d %d\r?$" % (len(msgs), size), res.text,
                         re.M), res.text
        bad = pop3test(workdir, port, how, password="wrong", user=user)
        assert "Authenticated." not in bad.text, bad.text
        return
    run = run_fetchmail if client == "fetchmail" else run_mpop
    res, out = run(workdir, port, auth=how, user=user, password=password)
    assert res.returncode == 0, res.text[-3000:]
    got = tools.delivered(out)
    assert len(got) == len(msgs), res.text[-3000:]
    expected = (fetchmail_expected if client == "fetchmail"
                else mailgen.as_delivered_lf)
    assert got == [expected(raw) for _, raw in msgs]
    res, out = run(workdir, port, auth=how, user=user, password="wrong",
                   name="bad")
    assert res.returncode != 0 and tools.delivered(out) == [], res.text[-3000:]


class Saslauthd:
    """saslauthd -a sasldb on a private socket directory, with db
    bind-mounted on /etc/sasldb2 in a mount namespace of its own; stopped
    by PID."""

    def __init__(self, db, sockdir):
        self.db = db
        self.sockdir = Path(sockdir)
        self.sockdir.mkdir(mode=0o755)
        self.proc = None

    @property
    def socket(self):
        return self.sockdir / "mux"

    def start(self):
        script = 'mount --bind "$1" /etc/sasldb2 && exec "$2" -d -a sasldb -n 1 -m "$3"'
        self.log = open(self.sockdir.parent / "saslauthd.log", "wb")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c", script,
             "sh", str(self.db), SASLAUTHD, str(self.sockdir)],
            stdout=self.log, stderr=subprocess.STDOUT,
            # saslauthd ends its whole process group when it stops
            start_new_session=True)
        deadline = time.monotonic() + SASLAUTHD_START_TIMEOUT
        while not self.socket.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise harness.HarnessError(
                    "saslauthd did not start: %s"
                    % (self.sockdir.parent / "saslauthd.log").read_text())
            time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.log.close()


@pytest.fixture
def saslauthd(sasldb, tmp_path):
    if os.geteuid() != 0:
        _unavailable("saslauthd's private mount namespace needs root")
    d = Saslauthd(sasldb, tmp_path / "saslauthd")
    d.start()
    try:
        yield d
    finally:
        d.stop()


@pytest.fixture
def saslauthd_inst(saslauthd, make_instance, tmp_path):
    conf = sasl_conf_dir(tmp_path, "pwcheck_method: saslauthd\n"
                         "saslauthd_path: %s\n" % saslauthd.socket)
    return start_instance(make_instance, conf)


def test_saslauthd_logins(saslauthd_inst, workdir):
    assert poplib_login(saslauthd_inst, "sasluser",
                        USERS[("sasluser", REALM)]).startswith(b"+OK")
    res = curl_plain(saslauthd_inst, workdir, "sasluser",
                     USERS[("sasluser", REALM)])
    assert res.returncode == 0, res.text
    reply = poplib_refused(saslauthd_inst, "sasluser", "not-the-password")
    assert reply.startswith(b"-ERR [AUTH]"), reply


def test_saslauthd_no_credentials(saslauthd_inst, workdir):
    """saslauthd can only check a password: CRAM-MD5 fails, and the log
    says why and what to do."""
    res = curl_plain(saslauthd_inst, workdir, "sasluser",
                     USERS[("sasluser", REALM)], "CRAM-MD5")
    assert res.returncode != 0, res.text
    saslauthd_inst.wait_log(
        worker_line("sasluser", "Cyrus SASL gives no cleartext userPassword"
                    r".*pwcheck_method saslauthd.*offer plaintext ones only"),
        timeout=LOG_TIMEOUT)


def test_saslauthd_stopped(saslauthd, saslauthd_inst):
    """saslauthd gone: the login fails at once with an error that names
    the configuration to check, no hang."""
    assert poplib_login(saslauthd_inst, "sasluser",
                        USERS[("sasluser", REALM)]).startswith(b"+OK")
    saslauthd.stop()
    started = time.monotonic()
    reply = poplib_refused(saslauthd_inst, "sasluser",
                           USERS[("sasluser", REALM)])
    assert time.monotonic() - started < CLIENT_TIMEOUT
    # a temporary failure, not a wrong password
    assert reply.startswith(b"-ERR [SYS/TEMP]"), reply
    saslauthd_inst.wait_log(
        worker_line("sasluser", "libsasl2: cannot connect to saslauthd"),
        timeout=LOG_TIMEOUT)
    saslauthd_inst.wait_log(
        worker_line("sasluser", r"sasl_checkpass\(\) failed: .*"
                    r"saslauthd_path.* in %s" % re.escape(
                        str(saslauthd_inst_conf(saslauthd_inst)))),
        timeout=LOG_TIMEOUT)


def test_auth_cache_while_saslauthd_is_down(saslauthd, make_instance,
                                           tmp_path):
    """With Dovecot's auth cache (auth_cache_size), a user who logged in
    is let in from the cache while saslauthd is down (without the cache
    the same login fails: test_saslauthd_stopped); a wrong password is
    still refused."""
    conf = sasl_conf_dir(tmp_path, "pwcheck_method: saslauthd\n"
                         "saslauthd_path: %s\n" % saslauthd.socket)
    inst = start_instance(make_instance, conf, cached=True)
    password = USERS[("sasluser", REALM)]
    assert poplib_login(inst, "sasluser", password).startswith(b"+OK")
    saslauthd.stop()
    assert poplib_login(inst, "sasluser", password).startswith(b"+OK")
    assert poplib_refused(inst, "sasluser", "not-the-password").startswith(
        b"-ERR")
