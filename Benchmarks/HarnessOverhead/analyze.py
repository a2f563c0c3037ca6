"""Compares ttfa's stored TTFA with packet timing (see measure.sh)."""
import sqlite3
import sys

packets_path, database, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
packets = []  # (time s, stream, from_server, length, payload)
for line in open(packets_path):
    f = line.rstrip('\n').split('\t')
    payload = bytes.fromhex(f[4]) if len(f) > 4 and f[4] else b''
    packets.append((float(f[0]), int(f[1]), int(f[2]) == port, int(f[3]), payload))

trials = sqlite3.connect(database).execute(
    "SELECT transport, warmup, ttfa_ns FROM trials WHERE run_id = 1 ORDER BY seq").fetchall()
ws_streams = {p[1] for p in packets if not p[2] and b'Upgrade: websocket' in p[4]}
sse_streams = {p[1] for p in packets if not p[2] and p[4].startswith(b'POST ')}


def first_after(sequence, start, predicate):
    for q in sequence[start:]:
        if predicate(q):
            return q
    return None


def websocket_turns():
    # Client frames are masked, but {"type":"input_audio_buffer.commit"} is 36 bytes: its frame
    # starts 81 a4. Server frames are not masked: audio deltas are readable.
    seq = [p for p in packets if p[1] in ws_streams]
    out = []
    for i, p in enumerate(seq):
        if not p[2] and p[4][:2] == b'\x81\xa4':
            audio = first_after(seq, i + 1, lambda q: q[2] and b'response.output_audio.delta' in q[4])
            if audio:
                out.append((audio[0] - p[0]) * 1000)
    return out


def sse_turns():
    seq = [p for p in packets if p[1] in sse_streams]
    out = []
    for i, p in enumerate(seq):
        if not p[2] and p[4].startswith(b'POST '):
            audio = first_after(seq, i + 1, lambda q: q[2] and b'"data":"' in q[4])
            if audio:
                out.append((audio[0] - p[0]) * 1000)
    return out


print("transport   trials  harness overhead (ttfa - wire), ms: median   p90     max")
for transport, wire in (("websocket", websocket_turns()), ("sse", sse_turns())):
    rows = [t for t in trials if t[0] == transport]
    if len(rows) != len(wire):
        sys.exit(f"{transport}: {len(rows)} stored trials but {len(wire)} turns on the wire")
    overhead = sorted(t[2] / 1e6 - w for t, w in zip(rows, wire) if not t[1])
    p = lambda q: overhead[min(len(overhead) - 1, int(q * (len(overhead) - 1) + 0.5))]
    print(f"{transport:<10} {len(overhead):>6}  {'':>33}{p(0.5):6.3f}  {p(0.9):6.3f}  {overhead[-1]:6.3f}")
