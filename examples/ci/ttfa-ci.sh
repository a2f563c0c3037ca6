#!/usr/bin/env bash
# The measuring steps of examples/ci/github-actions.yml and examples/ci/gitlab-ci.yml as a plain
# script, for any CI system: measure, export, compare against the committed baseline, and leave
# files a CI system reads.
#
#   examples/ci/ttfa-ci.sh [OUT_DIR]        (default OUT_DIR: ci-out)
#
# Environment (all optional):
#   TTFA               the ttfa binary (default: ttfa on PATH, else .build/release/ttfa, built
#                      with `make build` if missing; examples/ci/install-ttfa.sh sets it)
#   TTFA_BASELINE      the committed baseline (default: results/baseline.json)
#   TTFA_ARGS          extra `ttfa run` arguments: your endpoints, --threshold …, --trials …
#   TTFA_COMPARE_ARGS  extra `ttfa compare` arguments, e.g. --tolerance '10%,50ms'
#   TTFA_SECRET_VARS   names of the environment variables TTFA_ARGS needs (e.g. OPENAI_API_KEY).
#                      When one is empty — a pull request from a fork gets no secrets — the job
#                      measures the embedded reference server instead of your endpoints (with
#                      TTFA_FALLBACK_ARGS, default --quick), says so, and compares nothing.
#   GITHUB_STEP_SUMMARY  where the Markdown goes (default: OUT_DIR/summary.md)
#
# Leaves in OUT_DIR: run.json (the summary), trials.csv (every trial), report.html (the charts),
# run.xml and compare.xml (JUnit), compare.json, ttfa.sqlite; Markdown in the job summary.
# Exit code: 1 a threshold failed or a metric regressed; 2 usage or input (a corrupt baseline
# included); 3 trials failed; 0 otherwise. A missing baseline is not a failure: the summary
# says how to create one.
set -uo pipefail

out=${1:-ci-out}
ttfa=${TTFA:-$(command -v ttfa || echo .build/release/ttfa)}
baseline=${TTFA_BASELINE:-results/baseline.json}
mkdir -p "$out"
summary=${GITHUB_STEP_SUMMARY:-$out/summary.md}
# Shell words, quotes honoured: TTFA_ARGS="--threshold 'sse.ttfa.p50 < 2s' --header 'Authorization: Bearer \$KEY'".
# The $KEY stays a literal: ttfa expands it itself, so the key never appears in any argv.
eval "extra=(${TTFA_ARGS:-})"
eval "compare_extra=(${TTFA_COMPARE_ARGS:-})"

missing=""
for name in ${TTFA_SECRET_VARS:-}; do
  [ -n "${!name:-}" ] || missing="$missing $name"
done
if [ -n "$missing" ]; then
  echo "ttfa-ci: no value for$missing (a pull request from a fork gets no secrets): measuring the embedded reference server instead" >&2
  eval "extra=(${TTFA_FALLBACK_ARGS:---quick})"
  printf '\n> **No secrets in this job** (%s): measured the embedded reference server, not your endpoints; no baseline comparison.\n' \
    "${missing# }" >> "$summary"
  baseline=/nonexistent/ttfa-baseline-not-used
fi

if [ ! -x "$ttfa" ]; then
  make build || exit 2
fi
db="$out/ttfa.sqlite"

# 1. Measure (a fixed seed: the verdict's bootstrap is reproducible from the stored trials).
"$ttfa" run --db "$db" --seed 1 --json --quiet --markdown "$summary" --junit "$out/run.xml" --report "$out/report.html" \
  "${extra[@]}" > "$out/run.json"
run_status=$?
if [ "$run_status" -eq 2 ] || [ "$run_status" -eq 130 ]; then
  echo "ttfa run could not measure (exit $run_status)" >&2
  exit "$run_status"
fi

# 2. Every trial as CSV, for the artifact.
"$ttfa" export --db "$db" --run latest --out "$out/trials.csv" || exit 2

# 3. Compare against the committed baseline.
compare_status=0
if [ -n "$missing" ]; then
  :
elif [ -f "$baseline" ]; then
  "$ttfa" compare --db "$db" --baseline "$baseline" --candidate latest --json \
    --markdown "$summary" --junit "$out/compare.xml" "${compare_extra[@]}" > "$out/compare.json"
  compare_status=$?
else
  printf '\n> No baseline at `%s` yet: create one from a good run with\n> `ttfa baseline save --run latest --db %s --out %s` and commit it.\n' \
    "$baseline" "$db" "$baseline" >> "$summary"
fi

# 1 (a threshold or a regression) goes first, then usage errors, then failed trials.
for status in "$run_status" "$compare_status"; do [ "$status" -eq 1 ] && exit 1; done
[ "$compare_status" -eq 2 ] && exit 2
[ "$run_status" -ne 0 ] && exit "$run_status"
[ "$compare_status" -ne 0 ] && exit "$compare_status"
exit 0
