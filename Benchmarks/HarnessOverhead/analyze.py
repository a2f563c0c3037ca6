"""Compares ttfa's stored TTFA with packet timing (see measure.sh and README.md).

Every measured ok trial names the answer its first audio came from (trials.response_id). The
first server packet carrying that answer's audio marks first audio on the wire; the last client
packet of the same TCP stream before it that carries the end of speech marks the end of speech
on the wire. Overhead = (stored TTFA - stored encode phase) - wire time.
"""
import sqlite3
import statistics
import sys

packets_path, database, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
packets = []  # (time s, stream, from_server, payload)
for line in open(packets_path):
    f = line.rstrip('\n').split('\t')
    payload = bytes.fromhex(f[4]) if len(f) > 4 and f[4] else b''
    packets.append((float(f[0]), int(f[1]), int(f[2]) == port, payload))

db = sqlite3.connect(database)
rows = db.execute("""
    SELECT r.id, t.connection, t.transport, t.recording, t.status, t.ttfa_ns, t.encode_ns, t.response_id
    FROM trials t JOIN runs r ON r.id = t.run_id WHERE t.warmup = 0 ORDER BY r.id, t.seq""").fetchall()


def is_end_of_speech(transport, payload):
    if transport == 'websocket':
        # Client frames are masked, but {"type":"input_audio_buffer.commit"} is 36 bytes: its
        # frame starts 81 a4 (text, FIN, masked, length 36).
        return payload[:2] == b'\x81\xa4'
    return payload.startswith(b'POST ')


def audio_of(transport, answer, payload):
    if transport == 'websocket':
        return b'response.output_audio.delta' in payload and answer in payload
    return answer in payload and b'"data":"' in payload


def wire_ms(transport, answer):
    key = answer.encode()
    for i, (t, stream, from_server, payload) in enumerate(packets):
        if from_server and audio_of(transport, key, payload):
            for (t0, s0, from_server0, payload0) in reversed(packets[:i]):
                if s0 == stream and not from_server0 and is_end_of_speech(transport, payload0):
                    return (t - t0) * 1000
            return None
    return None


groups = {}
skipped = {}
reasons = {}
for run_id, connection, transport, recording, status, ttfa_ns, encode_ns, answer in rows:
    key = (connection, transport)
    if status != 'ok' or not answer:
        skipped[key] = skipped.get(key, 0) + 1
        reasons[status] = reasons.get(status, 0) + 1
        continue
    wire = wire_ms(transport, answer)
    if wire is None:
        skipped[key] = skipped.get(key, 0) + 1
        reasons['no packet match'] = reasons.get('no packet match', 0) + 1
        continue
    overhead = (ttfa_ns - (encode_ns or 0)) / 1e6 - wire
    groups.setdefault(key, []).append((overhead, (encode_ns or 0) / 1e6, recording))


def pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * (len(values) - 1) + 0.5))]


print("connection transport  trials skipped   harness overhead (ttfa - encode - wire), ms: p50   p90    max   encode p50 ms")
worst = 0.0
for key in sorted(groups):
    values = [g[0] for g in groups[key]]
    encodes = [g[1] for g in groups[key]]
    worst = max(worst, pct(values, 0.9))
    print(f"{key[0]:<10} {key[1]:<10} {len(values):>6} {skipped.get(key, 0):>7}   {'':>38}{pct(values, 0.5):6.3f} {pct(values, 0.9):6.3f} {max(values):6.3f}   {statistics.median(encodes):8.3f}")
for key in sorted(set(skipped) - set(groups)):
    print(f"{key[0]:<10} {key[1]:<10} {0:>6} {skipped[key]:>7}   (no ok trial to check)")
if reasons:
    print("skipped: " + ", ".join(f"{n} {r}" for r, n in sorted(reasons.items())))
by_recording = {}
for key, items in groups.items():
    for overhead, _, recording in items:
        by_recording.setdefault(recording, []).append(overhead)
print("per recording (all connections and transports): " + ", ".join(
    f"{r} p90 {pct(v, 0.9):.3f} ms" for r, v in sorted(by_recording.items())))
verdict = "PASS" if groups and worst <= 2.0 else "FAIL"
print(f"{verdict}: the harness adds at most {worst:.3f} ms (p90 of any connection/transport) to TTFA; the budget is 2 ms")
sys.exit(0 if verdict == "PASS" else 1)
