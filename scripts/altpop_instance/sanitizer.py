# SPDX-License-Identifier: LGPL-2.1-only
"""Sanitizer builds (configure --enable-sanitizers) in throw-away instances.

The altpop binaries carry the ASan/UBSan runtime; its modules load into
Dovecot's own processes (the master and the doveconf it runs, config,
auth), which get the runtime preloaded (LD_PRELOAD).  The report settings
reach every process (import_environment).  Every report goes to files in
<instance>/sanitizer/ (stderr and the Dovecot log are scanned too), and an
instance with a report fails (its test) when it is removed."""

import re
import subprocess
from pathlib import Path

from .dovecot import REPO_ROOT

SANITIZER_DIR = "sanitizer"
SANITIZER_SUPPRESSIONS = REPO_ROOT / "tests" / "sanitizer" / "lsan.supp"
SANITIZER_LOG_RX = re.compile(
    r"^.*(?:ERROR: (?:Address|Leak)Sanitizer|runtime error:|"
    r"SUMMARY: (?:Address|Leak|UndefinedBehavior)Sanitizer|"
    r"Sanitizer has encountered a fatal error|ERROR: Can't open file).*$", re.M)


def sanitizer_runtimes(binary):
    """Paths of the ASan/UBSan runtimes binary is linked with ([] for a
    build without sanitizers), libasan first (it must come first)."""
    try:
        out = subprocess.run(["ldd", str(binary)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    libs = re.findall(r"^\s*lib(asan|ubsan)\.so\S* => (\S+)",
                      out.decode("utf-8", "replace"), re.M)
    return [path for _, path in sorted(libs)]


def sanitizer_environment(directory):
    """Environment for the processes of an instance whose reports go to
    files in directory."""
    common = "log_path=%s/%%s:log_exe_name=1" % directory
    return {
        # halt on the first error (ASan's default), leaks checked at exit
        "ASAN_OPTIONS": (common % "asan") + ":detect_leaks=1:disable_coredump=1",
        "LSAN_OPTIONS": "suppressions=%s/lsan.supp:print_suppressions=0"
                        % Path(directory).parent,
        # built with -fno-sanitize-recover=undefined: the first report ends
        # the process
        "UBSAN_OPTIONS": (common % "ubsan") + ":print_stacktrace=1:halt_on_error=1",
    }


# GCC 15's LeakSanitizer (Debian testing) sometimes cannot start its
# tracer in Dovecot's own master and auth processes at exit; it then
# prints these two lines. In the master the leak check still runs (a leak
# injected into every master was reported with and without them); in auth
# it may not. They are no finding about the program: left out here, so
# that a report file holding nothing else is no report (doc/testing.md,
# Sanitizers).
LSAN_TRACER_NOISE_RX = re.compile(
    r"^==[^=\n]+==\d+==(?:WARNING: ptrace appears to be blocked \(is seccomp "
    r"enabled\?\)\. LeakSanitizer may hang\.|Child exited with signal \d+\.)\n?",
    re.M)


def sanitizer_reports(directory, texts=()):
    """Report files in directory and sanitizer lines in texts, as one string
    ("" when there are none)."""
    found = []
    d = Path(directory)
    if d.is_dir():
        for f in sorted(d.iterdir()):
            text = LSAN_TRACER_NOISE_RX.sub("", f.read_text(errors="replace"))
            if not text.strip():
                continue
            found.append("== %s\n%s" % (f.name, text[:6000]))
    for name, text in texts:
        lines = SANITIZER_LOG_RX.findall(text or "")
        if lines:
            found.append("== %s\n%s" % (name, "\n".join(lines[:40])))
    return "\n".join(found)
