#!/usr/bin/env bash
# How does ttfa hold up with many sessions at once? For 1, 100, 1,000 and 5,000 concurrent
# sessions per transport (closed model: each session runs TRIALS trials back to back) against
# `ttfa serve` with first_audio_ms=100 on this machine, it prints per transport:
#   pacing lag p50/p99 (every chunk and end of speech: how late the replay clock sent it),
#   over the measured trials (each session's first trial is a warm-up, as in every ttfa run),
#   TTFA p50/p99 minus the configured 100 ms, the share of invalid trials, failed trials,
#   ttfa's CPU (share of one core) and peak memory, and the reference server's CPU and its
#   memory per connection (peak RSS minus idle RSS, divided by the sessions).
# Figures come from the stored trials (pacing lag from every chunk event), not from progress.
# The sessions start spread evenly over RAMP_UP (default 2s: about one turn of the short
# recording, 1.1 s of speech and 0.85 s of answer), so their turns end evenly spread; with
# RAMP_UP=1ms-apart they start 1 ms apart (ttfa's default) and their turns end in waves of
# twice the average rate, half of every turn's length.
#
# Usage: Benchmarks/Load/measure.sh [SESSIONS...]      (default: 1 100 1000 5000)
#        TRIALS=3 CHUNK_MS=50 RAMP_UP=2s TRANSPORTS="websocket sse" Benchmarks/Load/measure.sh 1000
set -euo pipefail
cd "$(dirname "$0")/../.."
sessions=("${@:-1 100 1000 5000}")
read -r -a sessions <<< "${sessions[*]}"
trials=${TRIALS:-3}
chunk_ms=${CHUNK_MS:-50}
ramp_up=${RAMP_UP:-2s}
ramp=(--ramp-up "$ramp_up"); [ "$ramp_up" = 1ms-apart ] && ramp=()
transports=${TRANSPORTS:-websocket sse}
port=${PORT:-18500}
work=$(mktemp -d)
trap 'kill $serve_pid $sampler_pid 2>/dev/null || true; rm -rf "$work"' EXIT

make --no-print-directory build >&2   # the release binary, as users build it (static Swift runtime)
ttfa=.build/release/ttfa
ulimit -n "$(ulimit -Hn)"
audio=Sources/Replay/Resources/recordings/short.wav

printf '%-10s %6s %8s %19s %21s %8s %7s %13s %9s %11s %12s\n' transport sessions trials "lag p50/p99 ms" "TTFA-100 p50/p99 ms" invalid failed "ttfa CPU" "ttfa MB" "server CPU" "server KB/conn"
for transport in $transports; do
  for n in "${sessions[@]}"; do
    $ttfa serve --port $port > "$work/serve.out" 2>&1 & serve_pid=$!
    sleep 1.5
    idle_kb=$(awk '/VmRSS/ {print $2}' /proc/$serve_pid/status)
    server_ticks_before=$(awk '{print $14 + $15}' /proc/$serve_pid/stat)
    # Peak server memory, sampled every 200 ms while the run lasts.
    ( peak=0; while kill -0 $serve_pid 2>/dev/null; do
        kb=$(awk '/VmRSS/ {print $2}' /proc/$serve_pid/status 2>/dev/null || echo 0)
        [ "${kb:-0}" -gt "$peak" ] && peak=$kb && echo "$peak" > "$work/peak"
        sleep 0.2; done ) & sampler_pid=$!
    case $transport in
      websocket) url=(--ws-url "ws://127.0.0.1:$port/v1/realtime?first_audio_ms=100") ;;
      sse) url=(--sse-url "http://127.0.0.1:$port/v1/chat/completions?first_audio_ms=100") ;;
      sse-stream) url=(--sse-url "http://127.0.0.1:$port/v1/chat/completions/stream?first_audio_ms=100") ;;
    esac
    db="$work/$transport-$n.sqlite"
    start=$(date +%s.%N)
    /usr/bin/time -f '%U %S %e %M' -o "$work/time" $ttfa run --transport "$transport" "${url[@]}" --audio $audio \
      --concurrency "$n" --trials $((n * trials)) --warmup "$n" --chunk-ms "$chunk_ms" "${ramp[@]}" --max-invalid 100% --db "$db" --quiet --json \
      > "$work/run.json" 2> "$work/run.err" || echo "ttfa run exited $? ($(tail -1 "$work/run.err"))" >&2
    server_ticks_after=$(awk '{print $14 + $15}' /proc/$serve_pid/stat)
    kill $sampler_pid 2>/dev/null || true; wait $sampler_pid 2>/dev/null || true
    kill $serve_pid; wait $serve_pid 2>/dev/null || true
    peak_kb=$(cat "$work/peak" 2>/dev/null || echo "$idle_kb"); rm -f "$work/peak"
    read -r user sys elapsed max_kb < <(tail -1 "$work/time")
    python3 - "$db" "$transport" "$n" "$user" "$sys" "$elapsed" "$max_kb" "$idle_kb" "$peak_kb" \
      "$server_ticks_before" "$server_ticks_after" "$(getconf CLK_TCK)" <<'PY'
import sqlite3, sys
db, transport, n, user, sys_, elapsed, max_kb, idle_kb, peak_kb, t0, t1, hz = sys.argv[1:]
c = sqlite3.connect(db)
def pct(values, p):
    if not values: return float('nan')
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]
# Measured trials only, as ttfa's own statistics: each session's first trial is a warm-up
# (it rides the start-up of every connection at once).
lags = [r[0] / 1e6 for r in c.execute("select e.value from trial_events e join trials t on t.id = e.trial_id where not t.warmup and e.kind in ('chunk', 'speech.end') and e.value is not null")]
ttfa = [r[0] / 1e6 - 100 for r in c.execute("select ttfa_ns from trials where status = 'ok' and not warmup")]
total = c.execute("select count(*) from trials where not warmup").fetchone()[0]
invalid = c.execute("select count(*) from trials where status = 'invalid' and not warmup").fetchone()[0]
failed = c.execute("select count(*) from trials where status not in ('ok', 'invalid') and not warmup").fetchone()[0]
elapsed = float(elapsed)
cpu = (float(user) + float(sys_)) / elapsed * 100 if elapsed else 0
server_cpu = (int(t1) - int(t0)) / int(hz) / elapsed * 100 if elapsed else 0
per_conn = (int(peak_kb) - int(idle_kb)) / int(n)
print(f"{transport:<10} {int(n):>6} {total:>8} {pct(lags, 50):>9.3f}/{pct(lags, 99):<9.3f} {pct(ttfa, 50):>10.2f}/{pct(ttfa, 99):<10.2f}"
      f" {100 * invalid / max(total, 1):>7.2f}% {failed:>7} {cpu:>12.0f}% {int(max_kb) / 1024:>9.0f} {server_cpu:>10.0f}% {per_conn:>12.1f}")
PY
  done
done
echo "(CPU: share of one core over the run, $(nproc) cores here; lag over every chunk and end of speech; TTFA of ok trials; chunk ${chunk_ms} ms, ${trials} trials per session, sessions started over ${ramp_up})" >&2
