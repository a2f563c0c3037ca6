#!/usr/bin/env python3
"""Soak: `ttfa monitor --every 10s` against the embedded reference server for a while (30 min by
default), scraped like Prometheus would, sampling the monitor's resident memory, open descriptors
and threads once a round. Prints a row per sample and the growth from the end of the first round
to the end; exits 1 when resident memory or descriptors grew by more than 5%. The samples are
taken at the same point of every round: when the monitor's debug log says it has released the
store's caches and trimmed the heap, before the next round starts.

    Benchmarks/Soak/monitor-soak.py [--minutes 30] [--ttfa .build/release/ttfa] [ttfa monitor options…]

Options after the known ones go to `ttfa monitor` (default: --quick, the four transports)."""

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def sample(pid):
    """Resident memory (all, and anonymous: the heap, where a leak shows), descriptors, threads."""
    status = open(f"/proc/{pid}/status").read()
    rss_kb = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
    anon_kb = int(re.search(r"RssAnon:\s+(\d+)", status).group(1))
    threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    return rss_kb, anon_kb, fds, threads


def anonymous_breakdown(pid):
    """Where the anonymous resident memory lies, from /proc/PID/smaps, in kB: the main heap,
    the malloc arenas of other threads (a read-write part of a 64 MiB reservation followed by its
    inaccessible rest), thread stacks (read-write, right above a 4 kB guard page: live threads'
    and those glibc keeps cached for the next thread) and the rest (large allocations mapped on
    their own, the Swift runtime's, GStreamer's and SQLite's own)."""
    maps = []
    current = None
    for line in open(f"/proc/{pid}/smaps"):
        head = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \d+\s*(.*)$", line)
        if head:
            current = {"start": int(head.group(1), 16), "end": int(head.group(2), 16),
                       "perms": head.group(3), "path": head.group(4).strip(), "rss": 0, "anon": 0}
            maps.append(current)
        elif line.startswith("Anonymous:") and current is not None:
            current["anon"] = int(line.split()[1])
    parts = {"heap": 0, "arenas": 0, "stacks": 0, "other": 0}
    for i, m in enumerate(maps):
        if not m["anon"]:
            continue
        before = maps[i - 1] if i > 0 else None
        after = maps[i + 1] if i + 1 < len(maps) else None
        if m["path"] == "[heap]":
            parts["heap"] += m["anon"]
        elif (m["path"] == "" and after and after["perms"].startswith("---") and after["start"] == m["end"]
              and m["start"] % (64 << 20) == 0 and after["end"] - m["start"] == 64 << 20):
            parts["arenas"] += m["anon"]
        elif (m["path"] == "" and before and before["perms"].startswith("---") and before["end"] == m["start"]
              and before["end"] - before["start"] == 4096):
            parts["stacks"] += m["anon"]
        else:
            parts["other"] += m["anon"]
    return parts


TCP_STATES = {"01": "established", "02": "syn-sent", "06": "time-wait", "07": "close", "08": "close-wait",
              "0A": "listen"}


def socket_kinds(pid):
    """Socket inode -> "tcp listen", "tcp established", "udp", "unix", … from /proc/PID/net."""
    kinds = {}
    for table in ("tcp", "tcp6", "udp", "udp6", "unix"):
        try:
            rows = open(f"/proc/{pid}/net/{table}").read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if table == "unix":
                if len(fields) >= 7:
                    kinds[fields[6]] = "unix"
            elif len(fields) >= 10:
                state = TCP_STATES.get(fields[3], fields[3]) if table.startswith("tcp") else ""
                kinds[fields[9]] = (table.rstrip("6") + " " + state).strip()
    return kinds


def descriptor_kinds(pid):
    """The open descriptors by kind: sockets (by protocol and state), pipes, epoll/event/timer
    descriptors, files."""
    sockets = socket_kinds(pid)
    kinds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        inode = re.match(r"socket:\[(\d+)\]$", target)
        kind = re.sub(r":\[?\d+\]?$", "", target)  # socket:[123] -> socket, anon_inode:[eventfd]
        if inode:
            kind = "socket " + sockets.get(inode.group(1), "other")
        if kind.startswith("/"):
            kind = "file " + re.sub(r"^.*/", "", kind)
        kinds[kind] = kinds.get(kind, 0) + 1
    return kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--ttfa", default=".build/release/ttfa")
    parser.add_argument("--every", default="10s")
    args, rest = parser.parse_known_args()
    folder = tempfile.mkdtemp(prefix="ttfa-soak-")
    database = os.path.join(folder, "soak.sqlite")
    command = [args.ttfa, "monitor", "--every", args.every, "--metrics-listen", "127.0.0.1:0", "--db", database]
    command += rest or ["--quick"]
    print("soak:", " ".join(command), f"for {args.minutes:g} min", flush=True)
    # The debug log has a line at the point between rounds where the samples are taken.
    monitor = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                               env={**os.environ, "TTFA_LOG_LEVEL": "debug"})
    start = time.monotonic()
    lines = []
    url = [None]
    rounds = [0]

    breakdowns = []  # (round, {kind: kB}, {descriptor kind: count})
    samples = []  # (minutes, rounds, rss_kb, anon_kb, fds, threads, db_bytes)

    stopping = [False]

    def take_sample():
        """At the same point of every round: the monitor has just released the store's caches
        and trimmed the heap (its debug line says so), before the next round starts. Not once
        the monitor has been told to stop: it is letting go of everything then."""
        if stopping[0]:
            return
        try:
            rss, anon, fds, threads = sample(monitor.pid)
            size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
            breakdowns.append((rounds[0], anonymous_breakdown(monitor.pid), descriptor_kinds(monitor.pid)))
        except OSError:
            return
        samples.append(((time.monotonic() - start) / 60, rounds[0], rss, anon, fds, threads, size))

    def read():
        for line in monitor.stderr:
            if "debug" in line and "between rounds" not in line:
                continue  # the rest of the debug log is not kept
            lines.append(line.rstrip("\n"))
            found = re.search(r"serving (http://\S+)", line)
            if found:
                url[0] = found.group(1)
            if re.search(r"round \d+ \(run \d+\)", line):
                rounds[0] += 1
            if "between rounds" in line:
                take_sample()

    threading.Thread(target=read, daemon=True).start()
    scrapes = [0]

    def scrape():
        while monitor.poll() is None:
            if url[0]:
                try:
                    urllib.request.urlopen(urllib.request.Request(url[0], headers={
                        "Accept": "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"}),
                        timeout=5).read()
                    scrapes[0] += 1
                except OSError:
                    pass
            time.sleep(5)

    threading.Thread(target=scrape, daemon=True).start()
    shown = 0
    header = f"{'min':>6} {'rounds':>6} {'RSS MB':>8} {'anon MB':>8} {'fds':>5} {'threads':>7} {'db MB':>7}"
    print(header, flush=True)

    def show(row):
        print(f"{row[0]:6.1f} {row[1]:6d} {row[2] / 1024:8.1f} {row[3] / 1024:8.1f} {row[4]:5d} {row[5]:7d} "
              f"{row[6] / 1e6:7.2f}", flush=True)

    while time.monotonic() - start < args.minutes * 60 and monitor.poll() is None:
        time.sleep(1)
        while shown < len(samples):
            row = samples[shown]
            shown += 1
            if row[1] <= 3 or row[1] % 10 == 0:
                show(row)
    if monitor.poll() is None:
        stopping[0] = True
        monitor.send_signal(signal.SIGTERM)
    code = monitor.wait(timeout=120)
    time.sleep(0.5)
    if len(samples) < 2:
        print("soak: fewer than two rounds measured; monitor said:\n" + "\n".join(lines[-20:]))
        return 1
    first, last = samples[0], samples[-1]
    show(last)
    if breakdowns:
        names = list(breakdowns[0][1])
        print("soak: anonymous memory by kind (MB): " + ", ".join(
            f"{name} {breakdowns[0][1][name] / 1024:.1f} -> {breakdowns[-1][1][name] / 1024:.1f}" for name in names)
            + f" (after round {breakdowns[0][0]} -> after round {breakdowns[-1][0]})")
        kinds = sorted(set(breakdowns[0][2]) | set(breakdowns[-1][2]))
        print("soak: descriptors by kind: " + ", ".join(
            f"{kind} {breakdowns[0][2].get(kind, 0)} -> {breakdowns[-1][2].get(kind, 0)}" for kind in kinds))
    failed = [l for l in lines if "no ok trial" in l or "nothing measured" in l]

    def growth(a, b):
        return (b - a) / a * 100

    print(f"soak: {last[1]} rounds in {last[0]:.1f} min, {scrapes[0]} scrapes, monitor exit {code}; "
          f"rounds with a transport without an ok trial: {len(failed)}")
    print(f"soak: after round 1 -> end: RSS {first[2] / 1024:.1f} -> {last[2] / 1024:.1f} MB "
          f"({growth(first[2], last[2]):+.1f}%), anonymous {first[3] / 1024:.1f} -> {last[3] / 1024:.1f} MB "
          f"({growth(first[3], last[3]):+.1f}%), descriptors {first[4]} -> {last[4]} "
          f"({growth(first[4], last[4]):+.1f}%), threads {first[5]} -> {last[5]}, database {last[6] / 1e6:.1f} MB")
    later = [s for s in samples if s[0] >= 10]
    if len(later) >= 2:
        a, b = later[0], later[-1]
        print(f"soak: from {a[0]:.0f} min -> end: RSS {growth(a[2], b[2]):+.1f}%, anonymous "
              f"{growth(a[3], b[3]):+.1f}%, descriptors {growth(a[4], b[4]):+.1f}%")
    # The measure: resident memory and descriptors after the first round against the
    # end. The anonymous part (the heap, where a leak would show) is printed beside it.
    ok = abs(growth(first[2], last[2])) <= 5 and abs(growth(first[4], last[4])) <= 5 and code == 0
    print("soak: " + ("resident memory and descriptors within 5% of the first round's" if ok else
                      "GREW by more than 5% (or the monitor failed)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
