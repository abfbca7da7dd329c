# SPDX-License-Identifier: LGPL-2.1-only
"""Helpers for driving real POP3 clients (fetchmail, mpop, curl, pop3test)."""

import os
import subprocess
from pathlib import Path

PYTHON = "/usr/bin/python3"
CLIENT_TIMEOUT = 120

MDA_SCRIPT = """\
import os, sys
d = sys.argv[1]
data = sys.stdin.buffer.read()
n = len(os.listdir(d)) + 1
tmp = os.path.join(d, ".tmp-%04d" % n)
with open(tmp, "wb") as f:
    f.write(data)
os.rename(tmp, os.path.join(d, "%04d" % n))
"""


def make_mda(workdir, name="out"):
    """An MDA command line that stores each message in workdir/name/NNNN
    (numbered in delivery order).  Returns (command, output directory)."""
    workdir = Path(workdir)
    out = workdir / name
    out.mkdir(exist_ok=True)
    script = workdir / "mda.py"
    if not script.exists():
        script.write_text(MDA_SCRIPT)
    return "%s %s %s" % (PYTHON, script, out), out


def delivered(outdir):
    """Contents of the messages an MDA stored, in delivery order."""
    outdir = Path(outdir)
    return [p.read_bytes() for p in sorted(outdir.iterdir())
            if not p.name.startswith(".")]


def client_env(home):
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
        "HOME": str(home),
        "LANG": "C",
        "LC_ALL": "C",
        "FETCHMAILHOME": str(home),
    }
    return env


def run(argv, home, input=None, timeout=CLIENT_TIMEOUT, env_extra=None):
    """Run a client with HOME=home and a timeout; returns CompletedProcess with
    text output (stderr merged into stdout)."""
    env = client_env(home)
    if env_extra:
        env.update(env_extra)
    res = subprocess.run(argv, cwd=str(home), env=env, input=input,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=timeout)
    res.text = res.stdout.decode("utf-8", "replace")
    return res


def write_private(path, text):
    path = Path(path)
    path.write_text(text)
    os.chmod(path, 0o600)
    return path
