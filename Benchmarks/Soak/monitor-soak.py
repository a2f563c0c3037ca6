#!/usr/bin/env python3
"""Soak: `ttfa monitor --every 10s` against the embedded reference server for a while (30 min by
default), scraped like Prometheus would, sampling the monitor's resident memory, open descriptors
and threads once a round. Prints a row per sample and the growth from the end of the first round
to the end; exits 1 when memory or descriptors grew by more than 5%.

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
    monitor = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines = []
    url = [None]
    rounds = [0]

    def read():
        for line in monitor.stderr:
            lines.append(line.rstrip("\n"))
            found = re.search(r"serving (http://\S+)", line)
            if found:
                url[0] = found.group(1)
            if re.search(r"round \d+ \(run \d+\)", line):
                rounds[0] += 1

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
    start = time.monotonic()
    samples = []  # (minutes, rounds, rss_kb, anon_kb, fds, threads, db_bytes)
    seen = 0
    header = f"{'min':>6} {'rounds':>6} {'RSS MB':>8} {'anon MB':>8} {'fds':>5} {'threads':>7} {'db MB':>7}"
    print(header, flush=True)

    def show(row):
        print(f"{row[0]:6.1f} {row[1]:6d} {row[2] / 1024:8.1f} {row[3] / 1024:8.1f} {row[4]:5d} {row[5]:7d} "
              f"{row[6] / 1e6:7.2f}", flush=True)

    while time.monotonic() - start < args.minutes * 60 and monitor.poll() is None:
        time.sleep(1)
        if rounds[0] > seen:
            seen = rounds[0]
            rss, anon, fds, threads = sample(monitor.pid)
            size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
            row = ((time.monotonic() - start) / 60, seen, rss, anon, fds, threads, size)
            samples.append(row)
            if seen <= 3 or seen % 10 == 0:
                show(row)
    if monitor.poll() is None:
        monitor.send_signal(signal.SIGTERM)
    code = monitor.wait(timeout=120)
    time.sleep(0.5)
    if len(samples) < 2:
        print("soak: fewer than two rounds measured; monitor said:\n" + "\n".join(lines[-20:]))
        return 1
    first, last = samples[0], samples[-1]
    show(last)
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
    # A leak shows in the heap and in descriptors. Total RSS also counts the binary's code pages,
    # faulted in (clean, shared, reclaimable) as code paths run for the first time.
    ok = abs(growth(first[3], last[3])) <= 5 and abs(growth(first[4], last[4])) <= 5 and code == 0
    print("soak: " + ("anonymous memory and descriptors within 5%" if ok else
                      "GREW by more than 5% (or the monitor failed)"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
