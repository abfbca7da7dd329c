# SPDX-License-Identifier: LGPL-2.1-only
"""Ports for throw-away servers: free ports below the kernel's ephemeral
range (a slice of its own for each pytest-xdist worker), what listens
now."""

import collections
import os
import random
import socket


# Test servers listen on ports below the kernel's ephemeral range: a port
# from that range (what bind(0) hands out) can be taken as the source port of
# some client connection between our check and Dovecot's bind.
PORT_RANGE_LOW = 20000


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _port_range():
    """[low, high) for this process: below the ephemeral range; when the
    suite runs in parallel (pytest-xdist), each worker gets a slice of its
    own, so that two workers never pick the same port between one's check
    and Dovecot's bind."""
    low, high = PORT_RANGE_LOW, max(_ephemeral_low(), PORT_RANGE_LOW + 1000)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    try:
        index = int(worker.lstrip("gw"))
        workers = int(os.environ["PYTEST_XDIST_WORKER_COUNT"])
    except (KeyError, ValueError):
        return low, high
    size = (high - low) // max(workers, 1)
    return low + index * size, low + (index + 1) * size


# Ports handed out lately by this process: a test that picks a port for a
# server of its own (a stats listener, a KDC) and then starts an instance
# must not get the same port twice, although the first is not bound yet.
HANDED_OUT_MAX = 512
_handed_out = collections.deque(maxlen=HANDED_OUT_MAX)


def free_ports(count, host="127.0.0.1"):
    """Distinct ports that were free on host, picked at random below the
    ephemeral range (all held at once while checking), none of them handed
    out by an earlier call lately."""
    low, high = _port_range()
    avoid = _handed_out if len(_handed_out) < (high - low) // 2 else ()
    socks = []
    try:
        while len(socks) < count:
            port = random.randrange(low, high)
            if port in avoid:
                continue
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host, port))
            except OSError:
                s.close()
                continue
            socks.append(s)
        ports = [s.getsockname()[1] for s in socks]
        _handed_out.extend(ports)
        return ports
    finally:
        for s in socks:
            s.close()


def port_is_free(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def listening_tcp_sockets():
    """{(ip, port): socket inode} of the TCP sockets in LISTEN state, read
    from /proc (no connection made)."""
    result = {}
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] != "0A":
                        continue
                    addr, port = parts[1].split(":")
                    if len(addr) == 8:
                        ip = socket.inet_ntoa(bytes.fromhex(addr)[::-1])
                    else:
                        ip = addr
                    result[(ip, int(port, 16))] = int(parts[9])
        except FileNotFoundError:
            pass
    return result


def listening_tcp_ports():
    """Set of (ip, port) in LISTEN state."""
    return set(listening_tcp_sockets())


def socket_inodes(pid):
    """Inodes of the sockets process pid holds open (empty when it is
    gone)."""
    inodes = set()
    try:
        fds = os.listdir("/proc/%d/fd" % pid)
    except OSError:
        return inodes
    for fd in fds:
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes
