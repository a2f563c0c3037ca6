#!/usr/bin/env bash
# Regenerates the bundled recordings (needs espeak-ng and sox). Each utterance is synthesised,
# converted to PCM16 mono 24 kHz, trimmed of silence and padded with exactly 150 ms of silence
# on both sides, so speech starts at 150 ms and ends 150 ms before the end (see manifest.json).
set -euo pipefail
cd "$(dirname "$0")"
make() {
  local name=$1 rate=$2 text=$3 tmp
  tmp=$(mktemp -d)
  espeak-ng -v en-us -s "$rate" -w "$tmp/raw.wav" "$text"
  sox "$tmp/raw.wav" -r 24000 -c 1 -b 16 -e signed-integer "$tmp/trimmed.wav" \
    silence 1 0.01 0.5% reverse silence 1 0.01 0.5% reverse
  sox "$tmp/trimmed.wav" "$name.wav" pad 0.15 0.15
  rm -rf "$tmp"
}
make short 175 "What time is it?"
make medium 160 "Can you tell me what the weather will be like in Berlin tomorrow afternoon?"
make long 150 "I am planning a trip next month. Which train connections between Paris and Amsterdam are the fastest, and should I book my tickets early to get a better price?"
