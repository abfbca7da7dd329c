# SPDX-License-Identifier: LGPL-2.1-only
"""The load generator tests/bench/popbench.c: build and run it
(tests/bench/run.py, proxy.py)."""

import subprocess
from pathlib import Path

from bench_common import HERE, WorkloadError


def build_popbench(workdir, krb5=False, tls=False):
    src = HERE / "popbench.c"
    out = Path(workdir) / ("popbench" + ("-krb5" if krb5 else "") +
                           ("-tls" if tls else ""))
    argv = ["gcc", "-O2", "-Wall", "-o", str(out), str(src)]
    if krb5:
        argv[1:1] = ["-DHAVE_KRB5"]
        argv.append("-lkrb5")
    if tls:
        argv[1:1] = ["-DHAVE_OPENSSL"]
        argv += ["-lssl", "-lcrypto"]
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        raise WorkloadError("building popbench failed:\n" + res.stdout.decode())
    return out


def parse_kv(text):
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


class Popbench:
    def __init__(self, binary, userdir):
        self.binary = str(binary)
        self.userdir = Path(userdir)

    def userfile(self, name, users):
        path = self.userdir / ("%s.users" % name)
        path.write_text("".join("%s %s\n" % u for u in users))
        return path

    def argv(self, port, userfile, conc=1, sessions=None, steps="stat,quit",
             window=8, sources=0, timeout=600, extra=()):
        argv = [self.binary, "-p", str(port), "-u", str(userfile),
                "-c", str(conc), "-s", steps, "-w", str(window),
                "-t", str(timeout)]
        if sessions is not None:
            argv += ["-n", str(sessions)]
        if sources:
            argv += ["-b", str(sources)]
        return argv + list(extra)

    def run(self, *args, on_hold=None, env=None, **kwargs):
        """Run popbench; on_hold() is called while it holds (HOLD step).
        Returns the parsed results; raises WorkloadError on failures."""
        argv = self.argv(*args, **kwargs)
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)
        held = None
        out = b""
        if on_hold is not None:
            while True:
                line = proc.stdout.readline()
                if not line:
                    break
                out += line
                if line.startswith(b"holding="):
                    try:
                        held = on_hold(int(line.split(b"=")[1]))
                    finally:
                        proc.stdin.write(b"\n")
                        proc.stdin.flush()
                    break
        rest, err = proc.communicate(timeout=kwargs.get("timeout", 600) + 60)
        out += rest
        res = parse_kv(out.decode())
        res["held"] = held
        if proc.returncode != 0:
            raise WorkloadError("popbench %s failed (exit %d): %s\n%s" % (
                " ".join(argv[1:]), proc.returncode, err.decode()[-2000:],
                out.decode()[-1000:]))
        return res
