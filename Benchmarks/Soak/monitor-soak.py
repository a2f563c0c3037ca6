#!/usr/bin/env python3
"""Soak: `ttfa monitor --every 10s` against the embedded reference server for a while (30 min by
default), scraped like Prometheus would, sampling the monitor's resident memory, open descriptors
and threads once a round. Prints a row per sample and the growth from the end of the first round
to the end; exits 1 when resident memory or descriptors grew by more than 5%. The samples are
taken at the same point of every round: when the monitor's debug log says it has released the
store's caches and trimmed the heap, before the next round starts.

    Benchmarks/Soak/monitor-soak.py [--minutes 30] [--ttfa .build/release/ttfa] [ttfa monitor options…]

Options after the known ones go to `ttfa monitor` (default: --quick, the four transports).
Every sample is written to --out's soak.csv as it is taken (nothing is lost when the soak is
stopped early) and, at the end, soak.svg plots resident memory, anonymous memory, descriptors,
threads and the database size against time."""

import argparse
import csv
import sqlite3
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


def trial_counts(database):
    """Stored trials by status ("warmup" for warm-ups, whatever their status)."""
    try:
        connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        rows = connection.execute(
            "SELECT CASE WHEN warmup THEN 'warmup' ELSE status END, count(*) FROM trials GROUP BY 1").fetchall()
        connection.close()
        return dict(rows)
    except sqlite3.Error as error:
        print(f"soak: could not read the trials from {database}: {error}")
        return {}


def plot(samples, path):
    """An SVG of the samples against time: one panel per measure, each scaled from zero."""
    if not samples:
        return
    panels = [("resident memory (MB)", 2, 1024), ("anonymous memory (MB)", 3, 1024), ("open descriptors", 4, 1),
              ("threads", 5, 1), ("database (MB)", 6, 1e6)]
    width, height, left, top = 720, 150, 70, 30
    end = max(s[0] for s in samples) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width + 30}" height="{len(panels) * (height + top) + 40}"'
             ' font-family="sans-serif" font-size="12">',
             f'<text x="{left}" y="18" font-size="14">ttfa monitor soak: {len(samples)} samples over {end:.0f} min</text>']
    for n, (title, column, scale) in enumerate(panels):
        y0 = 40 + n * (height + top)
        values = [s[column] / scale for s in samples]
        high = max(values) * 1.1 or 1
        points = " ".join(f"{left + s[0] / end * (width - left):.1f},{y0 + height - v / high * height:.1f}"
                          for s, v in zip(samples, values))
        parts += [f'<text x="{left}" y="{y0 - 4}">{title}: {values[0]:.1f} → {values[-1]:.1f}</text>',
                  f'<rect x="{left}" y="{y0}" width="{width - left}" height="{height}" fill="none" stroke="#999"/>',
                  f'<text x="{left - 6}" y="{y0 + 10}" text-anchor="end">{high:.0f}</text>',
                  f'<text x="{left - 6}" y="{y0 + height}" text-anchor="end">0</text>',
                  f'<text x="{width}" y="{y0 + height + 14}" text-anchor="end">{end:.0f} min</text>',
                  f'<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{points}"/>']
    parts.append("</svg>")
    with open(path, "w") as out:
        out.write("\n".join(parts) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--ttfa", default=".build/release/ttfa")
    parser.add_argument("--every", default="10s")
    parser.add_argument("--out", help="folder for the database, soak.csv and soak.svg (default: a new temporary one)")
    args, rest = parser.parse_known_args()
    folder = args.out or tempfile.mkdtemp(prefix="ttfa-soak-")
    os.makedirs(folder, exist_ok=True)
    table = open(os.path.join(folder, "soak.csv"), "w", newline="")
    writer = csv.writer(table)
    writer.writerow(["minutes", "rounds", "rss_kb", "anon_kb", "descriptors", "threads", "db_bytes"])
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
            size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder)
                   if f.startswith("soak.sqlite"))
            breakdowns.append((rounds[0], anonymous_breakdown(monitor.pid), descriptor_kinds(monitor.pid)))
        except OSError:
            return
        row = ((time.monotonic() - start) / 60, rounds[0], rss, anon, fds, threads, size)
        samples.append(row)
        writer.writerow([f"{row[0]:.3f}", *row[1:]])
        table.flush()

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
    table.close()
    plot(samples, os.path.join(folder, "soak.svg"))
    trials = trial_counts(database)
    failed = [l for l in lines if "no ok trial" in l or "nothing measured" in l]

    def growth(a, b):
        return (b - a) / a * 100

    print(f"soak: {last[1]} rounds in {last[0]:.1f} min, {scrapes[0]} scrapes, monitor exit {code}; "
          f"rounds with a transport without an ok trial: {len(failed)}")
    print(f"soak: after round 1 -> end: RSS {first[2] / 1024:.1f} -> {last[2] / 1024:.1f} MB "
          f"({growth(first[2], last[2]):+.1f}%), anonymous {first[3] / 1024:.1f} -> {last[3] / 1024:.1f} MB "
          f"({growth(first[3], last[3]):+.1f}%), descriptors {first[4]} -> {last[4]} "
          f"({growth(first[4], last[4]):+.1f}%), threads {first[5]} -> {last[5]}, database {last[6] / 1e6:.1f} MB")
    total = sum(trials.values())
    measured = {k: v for k, v in trials.items() if k != "warmup"}
    not_ok = sum(v for k, v in measured.items() if k != "ok")
    print(f"soak: {total} trials stored ({', '.join(f'{k} {v}' for k, v in sorted(trials.items()))}); "
          f"measured trials not ok: {not_ok} of {sum(measured.values())} "
          f"({not_ok / max(1, sum(measured.values())) * 100:.2f}%)")
    later = [s for s in samples if s[0] >= 10]
    ok = code == 0
    if len(later) >= 2:
        a, b = later[0], later[-1]
        print(f"soak: from {a[0]:.0f} min -> end: RSS {a[2] / 1024:.1f} -> {b[2] / 1024:.1f} MB "
              f"({growth(a[2], b[2]):+.1f}%), anonymous {growth(a[3], b[3]):+.1f}%, descriptors {a[4]} -> {b[4]} "
              f"({growth(a[4], b[4]):+.1f}%), threads {a[5]} -> {b[5]}")
        ok = ok and growth(a[2], b[2]) <= 5 and growth(a[4], b[4]) <= 5
    # The measure: resident memory and descriptors after the first round (and after the
    # first ten minutes) against the end. The anonymous part (the heap, where a leak would show)
    # is printed beside it.
    ok = ok and abs(growth(first[2], last[2])) <= 5 and abs(growth(first[4], last[4])) <= 5
    print(f"soak: samples in {os.path.join(folder, 'soak.csv')}, plot in {os.path.join(folder, 'soak.svg')}")
    print("soak: " + ("resident memory and descriptors within 5% of the first round's" if ok else
                      "GREW by more than 5% (or the monitor failed)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
