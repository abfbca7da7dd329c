# SPDX-License-Identifier: LGPL-2.1-only
"""Settings text for throw-away instances: written as for Dovecot 2.3 and turned
into the installed version's syntax (setting(), settings())."""

import re

from .dovecot import IS_24

# Settings are written as for Dovecot 2.3 (the names and %-variables of 2.3)
# and turned into the installed version's form by setting().  For 2.4 only
# the handful the tests, the demo and the benchmark use are converted; any
# other setting passes through unchanged (altpop's own altpop_* keep their
# names on 2.4, and their format values are not expanded by the settings
# reader, so "%v.%u" or "%{host}" stay as written).

# 2.3 one-letter variables -> 2.4 variable (with filters), per setting
_VARS_UIDL = {"u": "uid", "v": "uidvalidity", "m": "md5", "f": "filename",
              "g": "guid"}
_VARS_USER = {"u": "user", "n": "user | username", "d": "user | domain"}


def vars_to_24(fmt, variables):
    """A 2.3 %-format to 2.4's %{...} syntax: %u %Lu %08Xu %{name} %%.
    Forms the tests do not use raise ValueError rather than guess."""
    out = []
    pos = 0
    rx = re.compile(r"%(?:(%)|\{([^}]*)\}|(0?)(\d*)([LUX]*)([a-zA-Z]))")
    while True:
        m = rx.search(fmt, pos)
        if m is None:
            out.append(fmt[pos:])
            return "".join(out)
        out.append(fmt[pos:m.start()])
        pos = m.end()
        percent, name, zero, width, mods, letter = m.groups()
        if percent:
            out.append("%%")
            continue
        if name is not None:
            out.append("%%{%s}" % name)
            continue
        if letter not in variables:
            raise ValueError("no 2.4 form known for %%%s in %r" % (letter, fmt))
        expr = variables[letter]
        for mod in mods:
            if mod == "X":
                if width and not zero:
                    raise ValueError("%r: width without 0 in %r" % (m.group(0), fmt))
                expr += " | hex(%s)" % width if width else " | hex"
            elif mod == "L":
                expr += " | lower"
            elif mod == "U":
                expr += " | upper"
        if width and "X" not in mods:
            raise ValueError("%r: width without X in %r" % (m.group(0), fmt))
        out.append("%%{%s}" % expr)


def _line(name, value):
    return "%s = %s\n" % (name, value)


def _bool_not(value):
    v = value.strip().lower()
    if v not in ("yes", "no"):
        raise ValueError("not a boolean: %r" % value)
    return "no" if v == "yes" else "yes"


def _time_24(value):
    """2.4 wants a unit on times: a bare number of 2.3 meant seconds."""
    v = value.strip()
    return v + " secs" if v.isdigit() else v


def _mail_location_24(value):
    """"driver:path[:INBOX=..:INDEX=..:CONTROL=..]" -> mail_driver, mail_path ..."""
    parts = value.split(":")
    lines = [_line("mail_driver", parts[0])]
    if len(parts) > 1 and parts[1]:
        lines.append(_line("mail_path", parts[1]))
    params = {"INBOX": "mail_inbox_path", "INDEX": "mail_index_path",
              "CONTROL": "mail_control_path"}
    for param in parts[2:]:
        key, _, val = param.partition("=")
        if key not in params:
            raise ValueError("mail_location parameter %r: no 2.4 form known" % key)
        lines.append(_line(params[key], val))
    return "".join(lines)


def _import_environment_24(value):
    """"NAME NAME=value ..." -> import_environment { } (which 2.4 merges with
    its defaults)."""
    body = []
    for item in value.split():
        key, eq, val = item.partition("=")
        body.append("  %s = %s\n" % (key, val if eq else "%%{env:%s}" % key))
    return "import_environment {\n%s}\n" % "".join(body)


def _ssl_file_24(name):
    def conv(value):
        v = value.strip()
        if not v.startswith("<"):
            raise ValueError("%s: 2.4 takes a file name: %r" % (name, value))
        return _line(name, v[1:].strip())
    return conv


SETTINGS_24 = {
    "disable_plaintext_auth": lambda v: _line("auth_allow_cleartext", _bool_not(v)),
    "mail_location": _mail_location_24,
    "ssl_cert": _ssl_file_24("ssl_server_cert_file"),
    "ssl_key": _ssl_file_24("ssl_server_key_file"),
    "ssl_ca": _ssl_file_24("ssl_server_ca_file"),
    "ssl_verify_client_cert": lambda v: _line("ssl_server_request_client_cert", v),
    "ssl_require_crl": lambda v: _line("ssl_server_require_crl", v),
    "pop3_uidl_format": lambda v: _line("pop3_uidl_format", vars_to_24(v, _VARS_UIDL)),
    "auth_username_format": lambda v: _line("auth_username_format",
                                            vars_to_24(v, _VARS_USER)),
    "import_environment": _import_environment_24,
    # inside service { } blocks
    "service_count": lambda v: _line("restart_request_count", v),
    "idle_kill": lambda v: _line("idle_kill_interval", _time_24(v)),
    "address": lambda v: _line("listen", v),
    "altpop_idle_timeout": lambda v: _line("altpop_idle_timeout", _time_24(v)),
}


def setting(name, value):
    """The line(s) "name = value" in the installed Dovecot's syntax, name and
    value written as for Dovecot 2.3: setting("disable_plaintext_auth", "no")
    is "auth_allow_cleartext = yes" on 2.4."""
    value = str(value)
    if IS_24 and name in SETTINGS_24:
        return SETTINGS_24[name](value)
    return _line(name, value)


def settings(pairs=(), **kwargs):
    """setting() for each (name, value) of pairs (a dict or a sequence of
    pairs) and of kwargs, joined."""
    items = list(pairs.items() if isinstance(pairs, dict) else pairs)
    items += list(kwargs.items())
    return "".join(setting(name, value) for name, value in items)


def metric(name, filter, group_by=(), fields=()):
    """A stats "metric name { }" block in the installed version's syntax:
    filter and fields are written alike; 2.3 takes group_by as one
    string, 2.4 as a "group_by <field> { }" block per field (discrete)."""
    lines = ["metric %s {\n" % name, "  filter = %s\n" % filter]
    if fields:
        lines.append("  fields = %s\n" % " ".join(fields))
    if IS_24:
        lines += ["  group_by %s {\n  }\n" % field for field in group_by]
    elif group_by:
        lines.append("  group_by = %s\n" % " ".join(group_by))
    lines.append("}\n")
    return "".join(lines)


def stats_http_listener(port, host="127.0.0.1"):
    """service stats with its OpenMetrics listener (inet_listener http)."""
    return ("service stats {\n  inet_listener http {\n    %s    port = %d\n"
            "  }\n}\n" % (setting("address", host), port))
