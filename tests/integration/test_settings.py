# SPDX-License-Identifier: LGPL-2.1-only
"""altpop's settings and services as an admin sees them through doveconf:
defaults in `doveconf -a`, settings in `protocol altpop { }` shown by
`doveconf -n`, bad values rejected with an error naming the setting, and the
services altpop-login / altpop with their default listeners.

doveconf runs in the instance's private mount namespace, where the build's
settings module is loaded; nothing here needs a running Dovecot."""

import re
import subprocess

import pytest

import harness

README = harness.REPO_ROOT / "README.md"

pytestmark = pytest.mark.altpop_only

# The logout line's variables are the installed version's: the one-letter
# keys of 2.3's pop3_logout_format exist on 2.3 only, 2.4 names them (the
# names stock 2.4 pop3 uses).  Same line either way.
LOGOUT_FORMAT_DEFAULT = (
    "top=%{top_count}/%{top_bytes}, retr=%{retr_count}/%{retr_bytes}, "
    "del=%{deleted_count}/%{message_count}, size=%{message_bytes}"
    if harness.IS_24 else "top=%t/%p, retr=%r/%b, del=%d/%m, size=%s")
LOGOUT_FORMAT_CUSTOM = ("retr=%{retr_count} del=%{deleted_count}" if harness.IS_24
                        else "retr=%r del=%d")

DEFAULTS = {
    "altpop_idle_timeout": "10 mins",
    "altpop_lock_session": "yes",
    "altpop_lock_session_wait": "0",
    "altpop_login_max_bad_commands": "3",
    "altpop_logout_format": LOGOUT_FORMAT_DEFAULT,
    "altpop_max_bad_commands": "20",
    "altpop_no_flag_updates": "no",
    "altpop_save_uidl": "no",
    "altpop_uidl_format": "dovecot",
}

# Non-default values, and how doveconf prints them back.
CUSTOM = {
    # 2.3's doveconf shows a time normalised, 2.4's as written
    "altpop_idle_timeout": ("90s", "90s" if harness.IS_24 else "90 secs"),
    "altpop_lock_session": ("no", "no"),
    "altpop_lock_session_wait": ("5s", "5s" if harness.IS_24 else "5 secs"),
    "altpop_login_max_bad_commands": ("7", "7"),
    "altpop_logout_format": (LOGOUT_FORMAT_CUSTOM, LOGOUT_FORMAT_CUSTOM),
    "altpop_max_bad_commands": ("9", "9"),
    "altpop_no_flag_updates": ("yes", "yes"),
    "altpop_save_uidl": ("yes", "yes"),
    "altpop_uidl_format": ("cyrus", "cyrus"),
}


@pytest.fixture
def conf_instance(altpop_stage):
    """Factory: an instance directory with config and modules, not started."""
    made = []

    def factory(**kwargs):
        inst = harness.DovecotInstance(["pop3", "altpop"], stage=altpop_stage,
                                       **kwargs)
        inst.setup()
        made.append(inst)
        return inst

    yield factory
    for inst in made:
        inst.cleanup()


def doveconf_file(inst, text, args):
    """doveconf -c <a config holding text> ARGS in inst's namespace."""
    path = inst.tmp / ("test-%d.conf" % len(list(inst.tmp.glob("test-*.conf"))))
    path.write_text(text)
    argv = inst.ns_command([harness.DOVECONF, "-c", str(path)] + list(args))
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    res.stdout = res.stdout.decode("utf-8", "replace")
    res.stderr = res.stderr.decode("utf-8", "replace")
    return res


def minimal_conf(inst, body=""):
    """A configuration with altpop and nothing else changed from Dovecot's
    defaults (except private directories and a certificate)."""
    return harness.config_header() + harness.settings([
        ("protocols", "altpop"),
        ("base_dir", "%s/run" % inst.tmp),
        ("state_dir", "%s/state" % inst.tmp),
        ("ssl_cert", "<%s/ssl/cert.pem" % inst.tmp),
        ("ssl_key", "<%s/ssl/key.pem" % inst.tmp),
    ]) + body


def top_level_settings(text):
    """{name: value} of the `name = value` lines of text that are not inside
    a nested block."""
    out = {}
    depth = 0
    for line in text.splitlines():
        line = line.strip()
        if line.endswith("{"):
            depth += 1
            continue
        if line == "}":
            depth -= 1
            continue
        if depth == 0:
            m = re.match(r"^([a-z0-9_]+) = ?(.*)$", line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def block(text, header):
    """Body of the first block whose opening line is `header {` (nested
    blocks included), or None."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == header + " {":
            indent = len(line) - len(line.lstrip())
            depth = 0
            body = []
            for inner in lines[i + 1:]:
                if inner.strip() == "}" and depth == 0 and \
                        len(inner) - len(inner.lstrip()) == indent:
                    return "\n".join(body)
                if inner.rstrip().endswith("{"):
                    depth += 1
                elif inner.strip() == "}":
                    depth -= 1
                body.append(inner)
    return None


block_settings = top_level_settings


def readme_settings():
    """{setting: default} from the README's settings table.  A default that
    differs between Dovecot versions is written "2.3: `value`; 2.4: `value`":
    the installed version's is taken."""
    out = {}
    for m in re.finditer(r"^\| `(altpop_\w+)` \| ([^|]*) \|", README.read_text(), re.M):
        cell = m.group(2).strip()
        per_version = dict(re.findall(r"(\d+\.\d+): `([^`]*)`", cell))
        if per_version:
            default = per_version.get(harness.DOVECOT_MAJOR, cell)
        else:
            default = cell.strip("`")
        out[m.group(1)] = "" if default == "(empty)" else default
    return out


def doveconf_defaults(inst):
    res = inst.doveconf(["-a"])
    assert res.returncode == 0, res.stderr
    settings = top_level_settings(res.stdout)
    return {k: v for k, v in settings.items() if k.startswith("altpop_")}


def test_doveconf_a_lists_every_setting_with_default(conf_instance):
    listed = doveconf_defaults(conf_instance())
    for key, default in DEFAULTS.items():
        assert key in listed, "%s missing from doveconf -a" % key
        assert listed[key] == default, key


def test_every_setting_documented_with_its_default(conf_instance):
    """doveconf -a and the README's settings table list the same altpop_*
    settings with the same defaults."""
    listed = doveconf_defaults(conf_instance())
    documented = readme_settings()
    assert sorted(listed) == sorted(documented)
    assert listed == documented


def test_settings_in_protocol_block(conf_instance):
    body = harness.settings([(k, v) for k, (v, _) in CUSTOM.items()])
    inst = conf_instance(extra_altpop=body)
    res = inst.doveconf(["-n"])
    assert res.returncode == 0, res.stderr
    proto = block(res.stdout, "protocol altpop")
    assert proto is not None, res.stdout
    shown = block_settings(proto)
    assert shown == {k: shown_v for k, (_, shown_v) in CUSTOM.items()}
    # Outside the protocol block nothing changed ...
    assert not [k for k in top_level_settings(res.stdout) if k.startswith("altpop_")]
    # ... and the values apply to protocol altpop only.
    for key, (_, shown_v) in CUSTOM.items():
        assert inst.setting_value(key, "protocol=altpop") == shown_v, key
        assert inst.setting_value(key, "protocol=pop3") == DEFAULTS[key], key


def test_settings_at_top_level(conf_instance):
    inst = conf_instance(extra=harness.settings([("altpop_idle_timeout", "20 mins"),
                                                 ("altpop_uidl_format", "uw")]))
    res = inst.doveconf(["-n"])
    assert res.returncode == 0, res.stderr
    top = top_level_settings(res.stdout)
    assert top["altpop_idle_timeout"] == "20 mins"
    assert top["altpop_uidl_format"] == "uw"
    assert inst.setting_value("altpop_idle_timeout", "protocol=altpop") == "20 mins"


# Values altpop's own checks refuse, and values Dovecot's settings parser
# refuses for the setting's type (boolean, time, number).
BAD_VALUES = [
    ("altpop_uidl_format", "%q"),
    ("altpop_uidl_format", "%v"),            # not unique per message
    ("altpop_uidl_format", "nosuchpreset%"),
    ("altpop_lock_session", "maybe"),
    ("altpop_save_uidl", "2"),
    ("altpop_no_flag_updates", "yess"),
    ("altpop_idle_timeout", "3s"),
    ("altpop_idle_timeout", "soon"),
    ("altpop_max_bad_commands", "0"),
    ("altpop_max_bad_commands", "-1"),
    ("altpop_login_max_bad_commands", "0"),
    ("altpop_login_max_bad_commands", "many"),
    ("altpop_lock_session_wait", "2 hours"),
    ("altpop_lock_session_wait", "later"),
]
# The typos an admin makes most; the error must name the setting.
TYPOS = [
    ("altpop_uidl_format", "%q"),
    ("altpop_lock_session", "maybe"),
    ("altpop_idle_timeout", "3s"),
    ("altpop_max_bad_commands", "0"),
    ("altpop_login_max_bad_commands", "0"),
]


def _bad_conf(conf_instance, key, value, where):
    line = harness.setting(key, value).strip()
    inst = conf_instance(**({"extra_altpop": line} if where == "protocol"
                            else {"extra": line}))
    res = inst.doveconf(["-n"])
    assert res.returncode != 0, "doveconf accepted %r:\n%s" % (line, res.stdout[-500:])
    return inst, line, res.stderr


def _points_at_line(inst, line, stderr):
    """stderr cites 'FILE line N' and line N of FILE is the bad setting."""
    m = re.search(r"Error in configuration file (\S+) line (\d+):", stderr)
    if not m:
        return False
    with open(m.group(1)) as f:
        lines = f.read().splitlines()
    n = int(m.group(2))
    return 0 < n <= len(lines) and lines[n - 1].strip() == line


@pytest.mark.parametrize("where", ["protocol", "global"])
@pytest.mark.parametrize("key,value", BAD_VALUES,
                         ids=["%s=%s" % kv for kv in BAD_VALUES])
def test_bad_value_is_config_error(conf_instance, key, value, where):
    """Every bad value is refused, and the error names the setting or
    points at the line that sets it."""
    inst, line, stderr = _bad_conf(conf_instance, key, value, where)
    assert "Error in configuration file" in stderr, stderr
    assert key in stderr or _points_at_line(inst, line, stderr), stderr


@pytest.mark.parametrize("where", ["protocol", "global"])
@pytest.mark.parametrize("key,value", TYPOS, ids=["%s=%s" % kv for kv in TYPOS])
def test_typo_error_names_setting(conf_instance, key, value, where):
    inst, line, stderr = _bad_conf(conf_instance, key, value, where)
    assert key in stderr, "error does not name %s: %s" % (key, stderr.strip())


def test_bad_value_prevents_start(make_instance):
    """Dovecot itself refuses to start with a bad altpop value."""
    with pytest.raises(harness.HarnessError) as exc:
        make_instance(extra_altpop=harness.setting("altpop_uidl_format", "%q"))
    assert "altpop_uidl_format" in str(exc.value)


# doveconf arguments that print every service with its defaults: 2.3's
# "doveconf -a" has them, 2.4's lists the services only under the
# "service" filter.
ALL_SERVICES = ["-a", "service"] if harness.IS_24 else ["-a"]
# 2.4 refers to the setting as $SET:name (2.3: $name)
DEFAULT_LOGIN_USER = ("$SET:default_login_user" if harness.IS_24
                      else "$default_login_user")


def listener_ssl(listener_settings):
    """ssl of a listener as doveconf shows it; 2.4 leaves out a listener's
    ssl when it is the default (no)."""
    if harness.IS_24:
        return listener_settings.get("ssl", "no")
    return listener_settings["ssl"]


def test_default_services_and_listeners(conf_instance):
    inst = conf_instance()
    res = doveconf_file(inst, minimal_conf(inst), ALL_SERVICES)
    assert res.returncode == 0, res.stderr
    login = block(res.stdout, "service altpop-login")
    assert login is not None, "no service altpop-login in doveconf -a"
    login_set = block_settings(login)
    assert login_set["executable"] == "altpop-login"
    assert login_set["protocol"] == "altpop"
    assert login_set["type"] == "login"
    assert login_set["user"] == DEFAULT_LOGIN_USER
    assert login_set["chroot"] == "login"
    # pop3 and pop3s only: the kpop listener is added by the admin together
    # with kpop in auth_mechanisms (doc/kpop.md)
    listeners = {}
    for name in ("pop3", "pop3s"):
        body = block(login, "inet_listener %s" % name)
        assert body is not None, "no inet_listener %s:\n%s" % (name, login)
        listeners[name] = block_settings(body)
    assert {n: (l["port"], listener_ssl(l)) for n, l in listeners.items()} == {
        "pop3": ("110", "no"), "pop3s": ("995", "yes")}
    # exactly these listeners (2.3 prints them sorted, 2.4 as defined)
    assert sorted(re.findall(r"inet_listener (\S+) \{", login)) == sorted(listeners)

    # KPOP's own login service: altpop's protocol, no listener until the
    # admin adds "inet_listener kpop" with kpop in auth_mechanisms
    kpop = block(res.stdout, "service altpop-kpop-login")
    assert kpop is not None, "no service altpop-kpop-login in doveconf -a"
    kpop_set = block_settings(kpop)
    assert kpop_set["executable"] == "altpop-kpop-login"
    assert kpop_set["protocol"] == "altpop"
    assert kpop_set["type"] == "login"
    assert kpop_set["user"] == DEFAULT_LOGIN_USER
    assert kpop_set["chroot"] == "login"
    assert "inet_listener" not in kpop, kpop

    mail = block(res.stdout, "service altpop")
    assert mail is not None, "no service altpop in doveconf -a"
    assert "inet_listener" not in mail
    unix = block(mail, "unix_listener login/altpop")
    assert unix is not None, mail
    mail_set = block_settings(mail)
    assert mail_set["executable"] == "altpop"
    assert mail_set["protocol"] == "altpop"
    assert mail_set["client_limit"] == "1"
    # Stock pop3's services are still Dovecot's own.
    pop3_login = block(res.stdout, "service pop3-login")
    assert pop3_login is not None and "executable = pop3-login" in pop3_login


def test_listener_override_keeps_other_defaults(conf_instance):
    inst = conf_instance()
    text = minimal_conf(inst, "service altpop-login {\n"
                              "  inet_listener pop3 {\n    port = 11110\n  }\n}\n")
    res = doveconf_file(inst, text, ["-n"])
    assert res.returncode == 0, res.stderr
    login = block(res.stdout, "service altpop-login")
    assert login is not None, res.stdout
    assert block_settings(block(login, "inet_listener pop3")) == {"port": "11110"}
    res = doveconf_file(inst, text, ALL_SERVICES)
    login = block(res.stdout, "service altpop-login")
    assert block_settings(block(login, "inet_listener pop3"))["port"] == "11110"
    assert block_settings(block(login, "inet_listener pop3s"))["port"] == "995"
    assert block(login, "inet_listener kpop") is None


def test_doveconf_n_of_test_instance(conf_instance):
    """doveconf -n of a configured system: protocol and both services."""
    inst = conf_instance()
    res = inst.doveconf(["-n"])
    assert res.returncode == 0, res.stderr
    assert re.search(r"^protocols = .*\baltpop\b", res.stdout, re.M)
    login = block(res.stdout, "service altpop-login")
    assert login is not None
    for name in ("pop3", "pop3s"):
        port = inst.ports[("altpop", name)]
        body = block(login, "inet_listener %s" % name)
        assert body is not None and block_settings(body)["port"] == str(port)
    assert block(login, "inet_listener kpop") is None
    kpop = block(res.stdout, "service altpop-kpop-login")
    assert kpop is not None
    body = block(kpop, "inet_listener kpop")
    assert (body is not None and block_settings(body)["port"]
            == str(inst.ports[("altpop", "kpop")]))
    assert block(res.stdout, "service altpop") is not None


# The admin's conf.d snippet for each Dovecot version (README: Installing).
ADMIN_SNIPPETS = {
    "2.3": harness.REPO_ROOT / "dovecot-conf" / "conf.d" / "20-altpop.conf",
    "2.4": harness.REPO_ROOT / "dovecot-conf" / "conf.d-2.4" / "20-altpop.conf",
}
# a commented-out setting or block line of the snippet ("#key = value",
# "#service x {", "#  }"); not "protocols" (the snippet's example names imap)
COMMENTED_SETTING = re.compile(
    r"^(\s*)#(\s*)((?!protocols\b)[a-z0-9_]+(?: [^=#]*)?(?:= ?.*|\{)|\})\s*$")


def test_admin_snippet_for_this_version(conf_instance):
    """The conf.d snippet for the installed Dovecot, with every commented
    setting turned on, is accepted by doveconf, and the values it shows for
    protocol altpop are what doveconf then reports."""
    snippet = ADMIN_SNIPPETS[harness.DOVECOT_MAJOR].read_text()
    lines, shown = [], {}
    depth = 0
    in_protocols = False
    for line in snippet.splitlines():
        # the commented "protocols" line or block (2.4) enables altpop:
        # the test instance does that itself
        if in_protocols:
            in_protocols = line.strip() != "#}"
            continue
        if re.match(r"^#\s*protocols\b", line):
            in_protocols = line.rstrip().endswith("{")
            continue
        m = COMMENTED_SETTING.match(line)
        if m:
            line = m.group(1) + m.group(2) + m.group(3)
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        if stripped.endswith("{"):
            depth += 1
        elif stripped == "}":
            depth -= 1
        elif depth == 1 and stripped.startswith("altpop_"):
            key, _, value = stripped.partition("=")
            shown[key.strip()] = value.strip()
        lines.append(line)
    assert len(shown) >= 10, shown
    inst = conf_instance()
    text = minimal_conf(inst, "\n".join(lines) + "\n")
    res = doveconf_file(inst, text, ["-n"])
    assert res.returncode == 0, res.stderr
    res = doveconf_file(inst, text, ["-f", "protocol=altpop"] + sorted(shown))
    assert res.returncode == 0, res.stderr
    assert top_level_settings(res.stdout) == shown
