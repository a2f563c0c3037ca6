#!/usr/bin/env bash
# Puts ttfa on a CI machine and prints its path (the only line on stdout; progress on stderr).
#
#   TTFA=$(examples/ci/install-ttfa.sh)
#
# With TTFA_ARCHIVE_URL set: the release archive (https://… or file://…), checked against
# TTFA_ARCHIVE_SHA256 when given, unpacked into TTFA_PREFIX (default: $HOME/.local/ttfa), with the
# runtime libraries it needs from apt (libcurl, OpenSSL, SQLite, libsndfile, libsoxr) — no Swift,
# no build, seconds. Without it: built from this checkout (`make build`: needs Swift 6.1+).
# On GitHub Actions the path also goes to $GITHUB_ENV as TTFA, for the steps after this one.
set -euo pipefail

sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"

# The shared libraries a release binary links at run time, with the Debian and Ubuntu packages
# that provide them (Ubuntu 24.04 renamed some with a t64 suffix).
runtime_packages() {
  local binary=$1 missing
  missing=$(ldd "$binary" 2>/dev/null | awk '/not found/ {print $1}')
  for lib in $missing; do
    case "$lib" in
      libcurl.so.4) echo "libcurl4t64 libcurl4" ;;
      libssl.so.3|libcrypto.so.3) echo "libssl3t64 libssl3" ;;
      libsqlite3.so.0) echo "libsqlite3-0" ;;
      libsndfile.so.1) echo "libsndfile1" ;;
      libsoxr.so.0) echo "libsoxr0" ;;
      *) echo "install-ttfa: $binary needs $lib, which no package here is known to provide" >&2; return 1 ;;
    esac
  done | sort -u
}

if [ -n "${TTFA_ARCHIVE_URL:-}" ]; then
  prefix=${TTFA_PREFIX:-$HOME/.local/ttfa}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  echo "install-ttfa: fetching $TTFA_ARCHIVE_URL" >&2
  curl -fsSL --retry 3 -o "$work/ttfa.tar.gz" "$TTFA_ARCHIVE_URL"
  if [ -n "${TTFA_ARCHIVE_SHA256:-}" ]; then
    echo "$TTFA_ARCHIVE_SHA256  $work/ttfa.tar.gz" | sha256sum -c --quiet - >&2 ||
      { echo "install-ttfa: the archive's SHA-256 is not TTFA_ARCHIVE_SHA256 ($TTFA_ARCHIVE_SHA256)" >&2; exit 2; }
  fi
  rm -rf "$prefix" && mkdir -p "$prefix"
  tar -xzf "$work/ttfa.tar.gz" -C "$prefix" --strip-components=1
  ttfa="$prefix/bin/ttfa"
  # Each line offers alternatives: the first this system knows is installed.
  needed=$(runtime_packages "$ttfa")
  if [ -n "$needed" ]; then
    $sudo apt-get update -q >&2
    while read -r choices; do
      for package in $choices; do
        if apt-cache show "$package" >/dev/null 2>&1; then
          echo "install-ttfa: installing $package" >&2
          DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$package" >&2
          break
        fi
      done
    done <<< "$needed"
  fi
else
  echo "install-ttfa: no TTFA_ARCHIVE_URL: building ttfa from this checkout (make build)" >&2
  make build >&2
  ttfa="$PWD/.build/release/ttfa"
fi

"$ttfa" --version >&2
if [ -n "${GITHUB_ENV:-}" ]; then echo "TTFA=$ttfa" >> "$GITHUB_ENV"; fi
echo "$ttfa"
