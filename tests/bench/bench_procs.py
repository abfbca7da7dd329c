# SPDX-License-Identifier: LGPL-2.1-only
"""The processes of the benchmark's instance: PIDs, memory, CPU time
(tests/bench/run.py)."""

import os


def instance_pids(inst, comm):
    """Pids of the instance (its mount namespace) whose comm is comm."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/ns/mnt" % entry) != inst.ns:
                continue
            with open("/proc/%s/comm" % entry) as f:
                if f.read().strip() != comm:
                    continue
        except OSError:
            continue
        out.append(int(entry))
    return out


def proc_memory(pid):
    """dict with pss, rss, uss (Private_Clean + Private_Dirty, from
    smaps_rollup) and hwm (VmHWM), in KiB."""
    mem = {"uss": 0}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Pss", "Rss"):
                    mem[key.lower()] = int(rest.split()[0])
                elif key in ("Private_Clean", "Private_Dirty"):
                    mem["uss"] += int(rest.split()[0])
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    mem["hwm"] = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return mem


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """CPU seconds of a process (user + system), or None when it is gone:
    from /proc/PID/schedstat (nanoseconds), else utime + stime of
    /proc/PID/stat (clock ticks)."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is the state (field 3): utime and stime are fields 14, 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_snapshot(inst, comms):
    """{pid: cpu seconds} of the instance's processes named in comms."""
    out = {}
    for comm in comms:
        for pid in instance_pids(inst, comm):
            cpu = proc_cpu(pid)
            if cpu is not None:
                out[pid] = cpu
    return out


def cpu_used(before, after):
    """CPU seconds spent between two snapshots by the processes of after
    (a process new in after counts from zero)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())
