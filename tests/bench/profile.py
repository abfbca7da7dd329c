#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-only
"""Profiles of stock pop3 and altpop on the benchmark's maildrops.

Sets up the same instance and maildrops as run.py (only what the chosen
target needs), then for each protocol:

  --perf bulk|bulktls|big|login
                           perf record -a -g while popbench runs the
                           workload once; prints perf report for the
                           post-login process (comm pop3 / altpop), or the
                           login process with --comm login
  --valgrind TOOL          runs the post-login binary standalone in the
                           instance's namespace (`pop3|altpop -c CONF -u USER`)
                           under valgrind --tool=TOOL (callgrind, massif)
                           with the commands of --commands on stdin, and
                           prints callgrind_annotate / ms_print output

Examples (as root, in a built tree):
  tests/bench/profile.py --perf bulk
  tests/bench/profile.py --perf bulktls --comm login   (TLS: the login process)
  tests/bench/profile.py --valgrind massif --user big --commands LIST,UIDL,QUIT
  tests/bench/profile.py --valgrind callgrind --user big --commands UIDL,QUIT
Output files stay in --out DIR (default: a new temporary directory).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.dont_write_bytecode = True

import run as bench_run  # noqa: E402
import harness  # noqa: E402  (run.py put tests/integration on sys.path)

BINARIES = {"pop3": "/usr/lib/dovecot/pop3"}


def perf_profile(bench, target, out, comm_kind, proto_list):
    p = bench.p
    for proto in proto_list:
        pb = bench.pb
        if target in ("bulk", "bulktls"):
            uf = bench.pb.userfile("bulk1", [("bulk", bench.passwords["bulk"])])
            kw = dict(window=bench.args.window)
            if target == "bulktls":
                pb = bench.pb_tls
                port = bench.inst.port(proto, "pop3s")
                kw["extra"] = ["-T"]
            else:
                port = bench.port(proto)
            args = (port, uf, 1, 1, "stat,retrall,quit")
            pb.run(*args, **kw)   # warm-up
        elif target == "big":
            uf = bench.pb.userfile("big", [("big", bench.passwords["big"])])
            args = (bench.port(proto), uf, 1, 1, "list,uidl,quit")
            kw = {}
            bench.pb.run(*args, **kw)
        else:
            args = (bench.port(proto), bench.uf_login, p["login_conc"],
                    p["login_conc_sessions"], "stat,quit")
            kw = dict(sources=50)
        data = out / ("perf-%s-%s.data" % (target, proto))
        rec = subprocess.Popen(["perf", "record", "-q", "-a", "-g", "-F", "2000",
                                "-o", str(data)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(0.5)
        try:
            r = pb.run(*args, **kw)
        finally:
            rec.send_signal(2)
            rec.wait()
        comm = (bench_run.LOGIN if comm_kind == "login" else bench_run.POST_LOGIN)[proto]
        report = subprocess.run(
            ["perf", "report", "-i", str(data), "--stdio", "--no-children",
             "--comm", comm, "--sort", "dso,symbol", "--percentage", "relative",
             "--percent-limit", "1", "-g", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        bycomm = subprocess.run(
            ["perf", "report", "-i", str(data), "--stdio", "--no-children", "-n",
             "--sort", "comm", "-g", "none"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        txt = out / ("perf-%s-%s.txt" % (target, proto))
        txt.write_text("# popbench: %s\n# samples by process:\n%s\n# %s:\n%s" % (
            {k: v for k, v in r.items() if not k.startswith("step")},
            bycomm, comm, report))
        print("==== %s %s: %s" % (target, proto, txt))
        print("\n".join(line for line in bycomm.splitlines()
                        if line and not line.startswith("#"))[:1500])
        print("\n".join(line for line in report.splitlines()
                        if line and not line.startswith("#"))[:4000])


def valgrind_profile(bench, tool, user, commands, out, proto_list):
    inst = bench.inst
    for proto in proto_list:
        binary = str(bench.stage.mail) if proto == "altpop" else BINARIES[proto]
        stdin = "".join(c.replace("_", " ") + "\r\n" for c in commands.split(","))
        base = "%s-%s-%s" % (tool, proto, user)
        for old in out.glob(base + ".out*"):
            old.unlink()
        outfile = out / (base + ".out")
        # valgrind creates its output file while still root and writes it
        # at exit, after the process became the mail user: let that user
        # own it from the start
        outfile.touch()
        os.chown(outfile, inst.uid, inst.gid)
        # Standalone Dovecot binaries re-exec themselves through doveconf
        # to read their settings; start them the way that ends, with the
        # settings already there, so valgrind sees the mail process itself:
        # 2.3 puts them in the environment (doveconf -e), 2.4 passes a
        # config fd (doveconf -F, service named in DOVECONF_SERVICE).
        svc = "altpop" if proto == "altpop" else "pop3"
        env = dict(os.environ, USER=user)
        valgrind = shutil.which("valgrind") or "valgrind"
        if harness.IS_24:
            argv = [harness.DOVECONF, "-c", str(inst.conf), "-F", valgrind]
            env["DOVECONF_SERVICE"] = svc
        else:
            argv = [harness.DOVECONF, "-f", "service=%s" % svc, "-c", str(inst.conf),
                    "-m", svc, "-m", "ssl", "-e", valgrind]
        argv += ["--tool=%s" % tool, "--%s-out-file=%s" % (tool, outfile)]
        if tool == "massif":
            argv += ["--pages-as-heap=no", "--threshold=0.5"]
        argv += [binary, "-c", str(inst.conf), "-u", user]
        t0 = time.monotonic()
        res = subprocess.run(inst.ns_command(argv), input=stdin.encode(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        wall = time.monotonic() - t0
        head = res.stdout[:300].decode("utf-8", "replace")
        print("==== %s %s (%.1fs, exit %d): %d bytes of output, starts %r"
              % (tool, proto, wall, res.returncode, len(res.stdout), head[:120]))
        if res.returncode != 0 or not outfile.exists():
            print(res.stderr.decode()[-3000:])
            continue
        if tool == "callgrind":
            ann = subprocess.run(["callgrind_annotate", "--inclusive=no",
                                  str(outfile)], stdout=subprocess.PIPE,
                                 text=True).stdout
            txt = outfile.with_suffix(".txt")
            txt.write_text(ann)
            print("\n".join(ann.splitlines()[:45]))
        elif tool == "massif":
            ms = subprocess.run(["ms_print", str(outfile)], stdout=subprocess.PIPE,
                                text=True).stdout
            txt = outfile.with_suffix(".txt")
            txt.write_text(ms)
            print("\n".join(ms.splitlines()[:90]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--perf", choices=("bulk", "bulktls", "big", "login"))
    ap.add_argument("--comm", choices=("post-login", "login"), default="post-login")
    ap.add_argument("--valgrind", choices=("callgrind", "massif"))
    ap.add_argument("--user", default="big",
                    help="maildrop for --valgrind: big, bigraw, bulk, idle0000, login000")
    ap.add_argument("--commands", default="LIST,UIDL,QUIT",
                    help="commands for --valgrind, comma separated, '_' for space")
    ap.add_argument("--proto", default="pop3,altpop")
    ap.add_argument("--quick", action="store_true", help="run.py's quick sizes")
    ap.add_argument("--big-messages", type=int)
    ap.add_argument("--out", help="directory for the profiles")
    ap.add_argument("--tree", metavar="DIR", help="stage altpop from this build tree")
    args = ap.parse_args()
    if not args.perf and not args.valgrind:
        ap.error("--perf or --valgrind")
    target = args.perf or args.user
    only = next((w for w in ("bulktls", "bulk", "big", "login", "idle")
                 if target.startswith(w)), None)
    if only is None:
        ap.error("unknown maildrop %r" % target)
    out = Path(args.out or tempfile.mkdtemp(prefix="altpop-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    # the profiled processes write their output after dropping to the
    # mail user (valgrind opens its output file at exit)
    os.chmod(out, 0o1777)

    ns = argparse.Namespace(quick=args.quick, only=[only], lock_session="yes",
                            login_min_avail=0, window=8, no_sizes_in_names=False,
                            keep=False, rounds=None, tree=args.tree)
    prof = dict(bench_run.PROFILES["quick" if args.quick else "full"])
    if args.big_messages:
        prof["big_messages"] = args.big_messages
    bench = bench_run.Bench(ns, prof)
    try:
        bench.setup()
        protos = args.proto.split(",")
        if args.perf:
            perf_profile(bench, args.perf, out, args.comm, protos)
        else:
            valgrind_profile(bench, args.valgrind, args.user, args.commands, out, protos)
    finally:
        bench.close()
    print("profiles in %s" % out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
