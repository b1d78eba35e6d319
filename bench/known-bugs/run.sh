#!/usr/bin/env bash
# Known-bugs benchmark: recall of freerace on real, public concurrency lifetime bugs (cases.toml),
# each checked on the last sdist before its fix (found?) and the first after it (quiet?).
#
#   bench/known-bugs/run.sh              # build, fetch (cached), check, print the table and totals
#   bench/known-bugs/run.sh --json       # also write bench/out/known-bugs.json
#   ONLY=multidict bench/known-bugs/run.sh   # some cases (ids or projects, comma-separated)
#
# Settings (environment variables), as in bench/run.sh:
#   CACHE=.corpus/known-bugs   download cache (sdists/) and unpacked sources (src/); git-ignored
#   BUILD_DIR=.build-bench     SwiftPM scratch path for the release build
#   SKIP_BUILD=1               use $FREERACE or BUILD_DIR/release/freerace as it is
#   FREERACE=path              freerace binary to score
#   JOBS=N                     freerace --jobs (default: all cores)
#   TIMEOUT=900                seconds per freerace run before it counts as an error
#   OUT=bench/out              where --json writes known-bugs.json
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/../.." && pwd))
cd "$repo"

CACHE=${CACHE:-.corpus/known-bugs}
BUILD_DIR=${BUILD_DIR:-.build-bench}
SKIP_BUILD=${SKIP_BUILD:-0}
TIMEOUT=${TIMEOUT:-900}
OUT=${OUT:-$repo/bench/out}
JSON=0
for arg in "$@"; do
  case $arg in
    --json) JSON=1 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "known-bugs: unknown argument $arg" >&2; exit 2 ;;
  esac
done

if [ -n "${FREERACE:-}" ]; then
  SKIP_BUILD=1
else
  FREERACE=$BUILD_DIR/release/freerace
fi
if [ "$SKIP_BUILD" != 1 ]; then
  echo "== building freerace (release, scratch path $BUILD_DIR)" >&2
  swift build -c release --scratch-path "$BUILD_DIR" >&2
fi
[ -x "$FREERACE" ] || { echo "known-bugs: no freerace binary at $FREERACE" >&2; exit 2; }

args=(--freerace "$FREERACE" --cache "$CACHE" --cases "$here/cases.toml" --timeout "$TIMEOUT")
[ -n "${JOBS:-}" ] && args+=(--jobs "$JOBS")
[ -n "${ONLY:-}" ] && args+=(--only "$ONLY")
if [ "$JSON" = 1 ]; then
  mkdir -p "$OUT"
  args+=(--json "$OUT/known-bugs.json")
fi
echo "== scoring $(grep -c '^\[\[case\]\]' "$here/cases.toml") cases (downloads cached in $CACHE)" >&2
start=$(date +%s)
python3 "$here/score.py" "${args[@]}"
echo "known-bugs: $(( $(date +%s) - start )) s" >&2
