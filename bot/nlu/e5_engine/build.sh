#!/usr/bin/env bash
# Builds the sentence encoder's engine for this machine (README.md beside this file).
#   build.sh DIR     builds DIR/<name> unless it is there (and removes older builds from DIR)
#   build.sh --name  prints <name>: libe5-<hash>.so, the hash of the source, this script and the CPU's
#                    flags, so that an edited source, other flags or another CPU never load an old build
#                    (bot/nlu/engine.py computes the same name)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cpu="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)"
name="libe5-$({ cat "$here/e5.c" "$here/e5.h" "$here/build.sh"; printf '%s\n' "$cpu"; } | sha256sum | cut -c1-16).so"
if [ "${1:-}" = "--name" ]; then
  echo "$name"
  exit 0
fi
out="$1"
[ -f "$out/$name" ] && exit 0
echo "==> building the sentence encoder's engine ($out/$name)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# -ffast-math when compiling only: linked into the library it would add start-up code that makes the whole
# process flush subnormal numbers to zero (numpy, scikit-learn and TensorFlow included).
gcc -O3 -march=native -ffast-math -fopenmp -fPIC -c "$here/e5.c" -o "$work/e5.o"
gcc -shared -fopenmp "$work/e5.o" -o "$work/$name" -lm
mkdir -p "$out"
rm -f "$out"/libe5-*.so
mv "$work/$name" "$out/$name"
