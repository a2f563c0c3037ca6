#!/usr/bin/env python3
"""Stamps a ttfa binary with the commit it was built from and the build date.

    scripts/stamp-build.py BINARY COMMIT DATE

ttfa keeps a writable area in its data section that begins with a marker and is otherwise
zero (Sources/CBuildStamp). This writes "COMMIT DATE" after the marker, in place, so the stamp
travels with the binary wherever it is copied; `ttfa --version` reads it. Nothing is rebuilt
or relinked. Exit 2 when the marker is missing, ambiguous or the stamp does not fit.
"""
import sys

MARKER = b"@(#)ttfa-build-stamp:"
AREA = 128  # the size of the C array, marker included


def main() -> int:
    if len(sys.argv) != 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path, commit, date = sys.argv[1:]
    data = bytearray(open(path, "rb").read())
    at = data.find(MARKER)
    if at < 0 or data.find(MARKER, at + 1) >= 0:
        print(f"stamp-build: {path}: {'no' if at < 0 else 'more than one'} build stamp area (is it ttfa?)", file=sys.stderr)
        return 2
    stamp = f"{commit} {date}".encode()
    room = AREA - len(MARKER) - 1
    if len(stamp) > room:
        print(f"stamp-build: the stamp is {len(stamp)} bytes, the area holds {room}", file=sys.stderr)
        return 2
    start = at + len(MARKER)
    data[start:start + room + 1] = stamp + bytes(room + 1 - len(stamp))
    with open(path, "r+b") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
