#!/usr/bin/env bash
# How much does ttfa add to the WebRTC first-audio time? (An independent clock: tshark.)
#
# Runs `ttfa run --transport webrtc` against `ttfa serve` (first_audio_ms=300), warm and cold,
# while tshark captures loopback (the calls' UDP: ICE host candidates on this machine travel
# over lo). SRTP encrypts the payload but not the RTP header, so every packet of the answer
# track is found in the capture by its sequence number and RTP timestamp — the pair ttfa stores
# for every packet it received (trial_events kind `rtp`). Per trial, the offset between the two
# clocks is the smallest (stored arrival − capture time) over the trial's packets; the harness
# overhead of the first audio is its (stored arrival − capture time) minus that offset: how much
# later than its fastest packet ttfa stamped the packet that decided the TTFA. See README.md.
#
# Usage: Benchmarks/HarnessOverhead/measure-webrtc.sh [TRIALS]   (needs root or capture rights)
set -euo pipefail
cd "$(dirname "$0")/../.."
trials=${1:-5}
port=18412
work=$(mktemp -d)
trap 'kill $serve_pid $tshark_pid 2>/dev/null || true; rm -rf "$work"' EXIT

if ! command -v tshark >/dev/null; then
  echo "installing tshark" >&2
  sudo=$([ "$(id -u)" -eq 0 ] || echo sudo)
  $sudo apt-get update -q && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q tshark >/dev/null
fi
make --no-print-directory build >&2
ttfa=.build/release/ttfa

$ttfa serve --port $port > "$work/serve.out" 2>&1 & serve_pid=$!
tshark -i lo -f "udp" -w "$work/cap.pcapng" -q > "$work/tshark.out" 2>&1 & tshark_pid=$!
sleep 3
for connection in warm cold; do
  echo "measuring $connection calls ($trials trials per recording)" >&2
  $ttfa run --transport webrtc --trials "$trials" --warmup 1 --quiet --json --db "$work/run.sqlite" \
    --connection $connection --url "webrtc=http://127.0.0.1:$port/v1/realtime/calls?first_audio_ms=300" \
    > "$work/run-$connection.json" || [ $? -eq 3 ]
done
sleep 2
kill -INT $tshark_pid; wait $tshark_pid 2>/dev/null || true
tshark -r "$work/cap.pcapng" -o rtp.heuristic_rtp:TRUE -T fields -e frame.time_epoch -e rtp.seq -e rtp.timestamp \
  -Y "rtp" > "$work/rtp.tsv" 2>/dev/null
python3 Benchmarks/HarnessOverhead/analyze-webrtc.py "$work/rtp.tsv" "$work/run.sqlite"
