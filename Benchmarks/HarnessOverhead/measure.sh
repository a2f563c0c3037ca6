#!/usr/bin/env bash
# How much does ttfa itself add to the TTFA it reports? (An independent clock: tshark.)
#
# Runs `ttfa run` against `ttfa serve` (first_audio_ms=300) twice — warm and cold connections,
# every bundled recording, both transports — while tshark captures loopback. Then, trial by
# trial, it compares ttfa's stored TTFA with the wire: from the packet carrying the end of
# speech (WebSocket: the input_audio_buffer.commit frame; SSE: the POST's first packet) to the
# first packet carrying that trial's own answer's audio (matched by the answer's id, which ttfa
# stores). The difference, minus the client's own stored encode phase (work a real client does
# too, reported apart), is what the harness adds: the replay clock's lateness plus the time from
# a packet's arrival to ttfa's timestamp. See README.md beside this script.
#
# Usage: Benchmarks/HarnessOverhead/measure.sh [TRIALS]     (needs root or capture rights for tshark)
#        IO_PRIORITY=normal Benchmarks/HarnessOverhead/measure.sh   (ttfa run --io-priority; default auto)
set -euo pipefail
cd "$(dirname "$0")/../.."
trials=${1:-5}
port=18411
work=$(mktemp -d)
trap 'kill $serve_pid $tshark_pid 2>/dev/null || true; rm -rf "$work"' EXIT

if ! command -v tshark >/dev/null; then
  echo "installing tshark" >&2
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q tshark >/dev/null
fi
make --no-print-directory build >&2   # the release binary, as users build it (static Swift runtime)
ttfa=.build/release/ttfa

$ttfa serve --port $port > "$work/serve.out" 2>&1 & serve_pid=$!
tshark -i lo -f "tcp port $port" -w "$work/cap.pcapng" -q > "$work/tshark.out" 2>&1 & tshark_pid=$!
sleep 3
for connection in warm cold; do
  echo "measuring $connection connections ($trials trials per transport and recording)" >&2
  # Exit code 3 (some trials failed) does not stop the check: failed trials are skipped.
  $ttfa run --trials "$trials" --warmup 1 --quiet --json --db "$work/run.sqlite" --connection $connection --io-priority "${IO_PRIORITY:-auto}" \
    --ws-url "ws://127.0.0.1:$port/v1/realtime?first_audio_ms=300" \
    --sse-url "http://127.0.0.1:$port/v1/chat/completions?first_audio_ms=300" > "$work/run-$connection.json" || [ $? -eq 3 ]
done
sleep 2
kill -INT $tshark_pid; wait $tshark_pid 2>/dev/null || true
tshark -r "$work/cap.pcapng" -T fields -e frame.time_epoch -e tcp.stream -e tcp.srcport -e tcp.len -e tcp.payload \
  -Y "tcp.len > 0" > "$work/packets.tsv" 2>/dev/null
python3 Benchmarks/HarnessOverhead/analyze.py "$work/packets.tsv" "$work/run.sqlite" $port
