"""Compares ttfa's stored RTP arrival times with the capture (see measure-webrtc.sh).

Every packet ttfa received is stored (trial_events kind 'rtp', detail 'seq=S ts=T loud=L',
t_ns since the trial's start); the capture has the same packets by (sequence, RTP timestamp).
Per trial: offset = min over its packets of (stored - captured); the first audio's overhead =
(stored - captured) of the packet that set first_audio_ns, minus the offset.
"""
import re
import sqlite3
import sys

capture_path, database = sys.argv[1], sys.argv[2]
captured = {}
for line in open(capture_path):
    f = line.rstrip('\n').split('\t')
    if len(f) < 3 or not f[1] or not f[2]:
        continue
    for seq, ts in zip(f[1].split(','), f[2].split(',')):
        captured.setdefault((int(seq), int(ts)), float(f[0]))

db = sqlite3.connect(database)
trials = db.execute("""
    SELECT t.id, t.connection, t.status, t.first_audio_ns FROM trials t
    WHERE t.warmup = 0 AND t.transport = 'webrtc' ORDER BY t.id""").fetchall()

groups = {}
skipped = {}
pattern = re.compile(r'seq=(\d+) ts=(\d+) loud=(\d)')
for trial_id, connection, status, first_audio_ns in trials:
    if status != 'ok' or first_audio_ns is None:
        skipped[connection] = skipped.get(connection, 0) + 1
        continue
    deltas = []
    first = None
    for t_ns, detail in db.execute(
            "SELECT t_ns, detail FROM trial_events WHERE trial_id = ? AND kind = 'rtp' ORDER BY seq", (trial_id,)):
        m = pattern.match(detail or '')
        if not m:
            continue
        at = captured.get((int(m.group(1)), int(m.group(2))))
        if at is None:
            continue
        delta = t_ns / 1e9 - at
        deltas.append(delta)
        if t_ns == first_audio_ns and m.group(3) == '1' and first is None:
            first = delta
    if first is None or not deltas:
        skipped[connection] = skipped.get(connection, 0) + 1
        continue
    groups.setdefault(connection, []).append((first - min(deltas)) * 1000)


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


print("connection  trials skipped   first audio stamped after the capture, beyond the trial's fastest packet, ms: p50    p90    max")
worst = 0.0
for connection in sorted(groups):
    values = groups[connection]
    worst = max(worst, pct(values, 0.9))
    print(f"{connection:<10} {len(values):>7} {skipped.get(connection, 0):>7}   {'':>72}{pct(values, 0.5):6.3f} {pct(values, 0.9):6.3f} {max(values):6.3f}")
for connection in sorted(set(skipped) - set(groups)):
    print(f"{connection:<10} {0:>7} {skipped[connection]:>7}   (no trial matched)")
if not groups:
    sys.exit("no trial could be matched with the capture")
print(f"worst p90: {worst:.3f} ms")
