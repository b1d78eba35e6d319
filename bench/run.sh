#!/usr/bin/env bash
# freerace benchmark: throughput, CPU, peak memory and linearity on a pinned corpus of real
# Python native-extension sources, side by side with `cat` (the I/O floor) and cppcheck.
#
#   bench/run.sh                      # from anywhere; prints tables, writes bench/out/latest.json
#
# Settings (environment variables):
#   RUNS=3                 timed runs per measurement; the best (lowest wall time) is reported
#   DIR=.corpus            corpus directory (relative to the repository root); sources in DIR/src
#   JOBS=$(nproc)          jobs for the "all cores" rows (freerace --jobs, cppcheck -j)
#   CPPCHECK_TIMEOUT=600   seconds before a cppcheck run is stopped and reported as "timed out"
#   CPPCHECK_MAX_CONFIGS=1 cppcheck --max-configs (1: one #ifdef configuration, like freerace)
#   SKIP_CPPCHECK=1        skip cppcheck
#   SKIP_SCALE=1           skip the linearity runs (1x, 2x, 4x copies of the corpus)
#   SCALES="1 2 4"         copies for the linearity runs
#   EXCLUDE="glob ..."     leave matching files out of the freerace check, cppcheck and scale runs
#                          (freerace --exclude glob syntax, space-separated), e.g. to step around a
#                          file that crashes freerace; reported in the output
#   LONG_RUN=120           a measurement whose first run takes longer than this is not repeated
#   BUILD_DIR=.build-bench SwiftPM scratch path for the release build
#   BUILD_RETRIES=3        build attempts (60 s apart) when the build fails, e.g. sources mid-edit
#   SKIP_BUILD=1           do not build; use $FREERACE or BUILD_DIR/release/freerace as is
#   FREERACE=path          freerace binary to benchmark (implies nothing about building)
#   FETCH=path             corpus fetch script (default: <repo>/../shared/corpus/fetch.sh)
#   CPYTHON_TREE=path      CPython snapshot script (default: <repo>/../shared/corpus/cpython-tree.sh)
#   SKIP_CPYTHON=1         skip the CPython rows
#   OUT=bench/out          where logs, runs.jsonl and latest.json go
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(git -C "$here" rev-parse --show-toplevel 2>/dev/null || (cd "$here/.." && pwd))
cd "$repo"

RUNS=${RUNS:-3}
DIR=${DIR:-.corpus}
JOBS=${JOBS:-$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN)}
CPPCHECK_TIMEOUT=${CPPCHECK_TIMEOUT:-600}
CPPCHECK_MAX_CONFIGS=${CPPCHECK_MAX_CONFIGS:-1}
SKIP_CPPCHECK=${SKIP_CPPCHECK:-0}
SKIP_SCALE=${SKIP_SCALE:-0}
SCALES=${SCALES:-1 2 4}
EXCLUDE=${EXCLUDE:-}
LONG_RUN=${LONG_RUN:-120}
BUILD_DIR=${BUILD_DIR:-.build-bench}
SKIP_BUILD=${SKIP_BUILD:-0}
BUILD_RETRIES=${BUILD_RETRIES:-3}
FETCH=${FETCH:-$repo/../shared/corpus/fetch.sh}
CPYTHON_TREE=${CPYTHON_TREE:-$repo/../shared/corpus/cpython-tree.sh}
SKIP_CPYTHON=${SKIP_CPYTHON:-0}
OUT=${OUT:-$repo/bench/out}
start=$(date +%s)

say() { printf '\n== %s\n' "$*"; }
die() { printf 'bench: %s\n' "$*" >&2; exit 2; }

# ---- 1. build ---------------------------------------------------------------------------
if [ -n "${FREERACE:-}" ]; then
  SKIP_BUILD=1
else
  FREERACE=$BUILD_DIR/release/freerace
fi
if [ "$SKIP_BUILD" != 1 ]; then
  say "building freerace (release, scratch path $BUILD_DIR)"
  mkdir -p "$OUT/logs"
  # Sources edited during the build ("was modified during the build") are retried after a pause.
  attempt=1
  until swift build -c release --scratch-path "$BUILD_DIR" >"$OUT/logs/build.log" 2>&1; do
    if [ "$attempt" -ge "$BUILD_RETRIES" ]; then
      tail -n 30 "$OUT/logs/build.log" >&2
      die "swift build failed $attempt times (full log: $OUT/logs/build.log); if someone is mid-edit, retry later"
    fi
    echo "  build failed (attempt $attempt of $BUILD_RETRIES): $(grep -m 1 'error:' "$OUT/logs/build.log" || tail -n 1 "$OUT/logs/build.log")"
    echo "  retrying in 60 s"
    sleep 60
    attempt=$((attempt + 1))
  done
  tail -n 1 "$OUT/logs/build.log"
fi
[ -x "$FREERACE" ] || die "no freerace binary at $FREERACE"
FREERACE=$(cd "$(dirname "$FREERACE")" && pwd)/$(basename "$FREERACE")

# ---- 2. corpus --------------------------------------------------------------------------
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
say "corpus in $DIR"
if [ -f "$FETCH" ]; then
  bash "$FETCH" "$DIR" || die "corpus fetch failed ($FETCH)"
elif [ -n "$(ls -A "$DIR/src" 2>/dev/null)" ]; then
  echo "bench: no fetch script at $FETCH; using $DIR/src as it is" >&2
else
  die "no fetch script at $FETCH and no corpus in $DIR/src"
fi
SRC=$DIR/src

# ---- 3. file list -----------------------------------------------------------------------
mkdir -p "$OUT/logs"
rm -f "$OUT/runs.jsonl" "$OUT/parse-stats.json" "$OUT/check-report.json" "$OUT/latest.json"
exclude_args=()
for g in $EXCLUDE; do exclude_args+=(--exclude "$g"); done
say "file list (as freerace's SourceSet walks it)"
python3 "$here/corpus.py" "$SRC" "$OUT" "${exclude_args[@]}"
json_get() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval("d"+sys.argv[2]))' "$OUT/corpus.json" "$1"; }
bytes_read=$(json_get '["read"]["bytes"]')
bytes_analyzed=$(json_get '["analyzed"]["bytes"]')
bytes_check=$(json_get '["check"]["bytes"]')
bytes_check_cfamily=$(json_get '["checkCfamily"]["bytes"]')

# Inputs of `freerace check`. Without EXCLUDE: the corpus directory, as a user would run it.
# With EXCLUDE: the filtered file list as arguments (freerace's --exclude globs cost CPU per
# directory entry and pattern, which would blur the numbers), or --exclude if the list is too long.
arg_max=$(getconf ARG_MAX 2>/dev/null || echo 131072)
fits_argv() { # LIST0: can its paths be passed as arguments?
  python3 -c 'import os,sys; d=open(sys.argv[1],"rb").read(); n=d.count(b"\0")
env=sum(len(k)+len(v)+10 for k,v in os.environ.items())
sys.exit(0 if len(d)+9*n+env+65536 < int(sys.argv[2]) else 1)' "$1" "$arg_max"
}
check_input=("$SRC")
check_input_kind=directory
if [ -n "$EXCLUDE" ]; then
  if fits_argv "$OUT/check.list0"; then
    mapfile -d '' -t check_input <"$OUT/check.list0"
    check_input_kind="file arguments (EXCLUDE applied by bench/corpus.py)"
  else
    check_input=("$SRC" "${exclude_args[@]}")
    check_input_kind="directory with --exclude globs (file list too long for argv)"
  fi
fi
if fits_argv "$OUT/check-cfamily.list0"; then
  mapfile -d '' -t cfamily_input <"$OUT/check-cfamily.list0"
else
  cfamily_input=("$SRC" "${exclude_args[@]}" --exclude '*.py' --exclude '*.pyx' --exclude '*.pxd' --exclude '*.pxi')
fi

# ---- timing -----------------------------------------------------------------------------
if [ ! -x /usr/bin/time ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "bench: installing GNU time (apt-get install -y time)" >&2
  apt-get install -y time >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1) || true
fi
if [ -x /usr/bin/time ] && /usr/bin/time -o /dev/null -f '%e' true 2>/dev/null; then
  TIMER="GNU time"
  timed() { local f=$1; shift; /usr/bin/time -o "$f" -f '%e %U %S %M' "$@"; }
else
  TIMER="python getrusage"
  timed() { local f=$1; shift; python3 "$here/rtime.py" "$f" "$@"; }
fi

# measure NAME LABEL GROUP JOBS BYTES TIMEOUT -- CMD...
# Runs CMD up to RUNS times (stdout to /dev/null, stderr to OUT/logs/NAME.stderr) and appends one
# JSON line per run to OUT/runs.jsonl. Stops repeating after a failed run or one over LONG_RUN s.
measure() {
  local name=$1 label=$2 group=$3 jobs=$4 bytes=$5 timeout=$6; shift 7
  local i status wall user sys rss
  for ((i = 1; i <= RUNS; i++)); do
    status=0
    timed "$OUT/time.txt" "$@" >/dev/null 2>"$OUT/logs/$name.stderr" || status=$?
    read -r wall user sys rss < <(tail -n 1 "$OUT/time.txt")
    printf '{"name":"%s","label":"%s","group":"%s","jobs":%s,"bytes":%s,"timeout":%s,"run":%d,"wall":%s,"user":%s,"sys":%s,"maxrss_kb":%s,"status":%d}\n' \
      "$name" "$label" "$group" "$jobs" "$bytes" "$timeout" "$i" "$wall" "$user" "$sys" "$rss" "$status" >>"$OUT/runs.jsonl"
    printf '  %-44s run %d: wall %6ss  cpu %6ss  rss %7s KB  exit %d\n' "$label, jobs $jobs" "$i" "$wall" \
      "$(python3 -c "print('%.2f' % ($user + $sys))")" "$rss" "$status"
    if [ "$status" -ne 0 ]; then
      echo "  -> $label exited $status; stderr tail (full: $OUT/logs/$name.stderr):"
      grep -v '^\s*$' "$OUT/logs/$name.stderr" | head -n 12 | sed 's/^/     | /' || true
      break
    fi
    python3 -c "import sys; sys.exit(0 if float('$wall') <= float('$LONG_RUN') else 1)" || { echo "  -> longer than LONG_RUN=$LONG_RUN s: not repeated"; break; }
  done
}
skip() { # NAME LABEL GROUP JOBS BYTES REASON
  printf '{"name":"%s","label":"%s","group":"%s","jobs":%s,"bytes":%s,"timeout":0,"skipped":"%s"}\n' "$1" "$2" "$3" "$4" "$5" "$6" >>"$OUT/runs.jsonl"
  echo "  $2: skipped ($6)"
}

# Whether two runs' JSON reports are byte-identical: --jobs must not change them.
same_output() {
  python3 - "$@" <<'PY'
import json, sys
name, a, b = sys.argv[1:4]
try:
    x, y = (json.load(open(p)) for p in (a, b))
except (OSError, ValueError) as e:
    print(f"  {name}: cannot compare --jobs 1 and --jobs N reports ({e})")
    sys.exit(0)
same = open(a, "rb").read() == open(b, "rb").read()
print(f"  {name}: reports at --jobs 1 and --jobs N are {'byte-identical' if same else 'DIFFERENT'} ({len(x.get('findings', []))} findings)")
PY
}

# Warm the page cache and the binary; keep parse-stats' and check's own reports.
say "warm-up (untimed)"
xargs -0 -a "$OUT/all.list0" cat -- >/dev/null
"$FREERACE" parse-stats "$SRC" --jobs "$JOBS" --json >"$OUT/parse-stats.json" 2>"$OUT/logs/parse-stats-warmup.stderr" \
  || echo "  parse-stats warm-up exited $?"
check_ok=1
status=0
"$FREERACE" check "${check_input[@]}" --exit-zero --format json -o "$OUT/check-report.json" --jobs "$JOBS" \
  >/dev/null 2>"$OUT/logs/check-warmup.stderr" || status=$?
if [ "$status" -ne 0 ]; then
  check_ok=0
  rm -f "$OUT/check-report.json"
  echo "  freerace check exited $status on $SRC; stderr tail (full: $OUT/logs/check-warmup.stderr):"
  grep -E 'crashed|Fatal error|error:|Thread [0-9]+ crashed' -A 4 "$OUT/logs/check-warmup.stderr" | head -n 20 | sed 's/^/     | /' || true
  echo "  -> check rows are timed once (to show the crash); linearity runs skipped. EXCLUDE='glob ...' steps around crashing files."
fi
[ -s "$OUT/parse-stats.json" ] || rm -f "$OUT/parse-stats.json"

# ---- 4. timed runs ----------------------------------------------------------------------
load_start=$(cut -d ' ' -f 1 /proc/loadavg 2>/dev/null || true)
say "timed runs (RUNS=$RUNS, JOBS=$JOBS, timer: $TIMER, load average ${load_start:-?})"
measure cat "cat (floor: read every file)" main 1 "$bytes_read" 0 -- xargs -0 -a "$OUT/all.list0" cat --
measure parse-stats-j1 "freerace parse-stats" main 1 "$bytes_analyzed" 0 -- "$FREERACE" parse-stats "$SRC" --jobs 1
measure parse-stats-jN "freerace parse-stats" main "$JOBS" "$bytes_analyzed" 0 -- "$FREERACE" parse-stats "$SRC" --jobs "$JOBS"
saved_runs=$RUNS
[ "$check_ok" = 1 ] || RUNS=1
measure check-j1 "freerace check" main 1 "$bytes_check" 0 -- \
  "$FREERACE" check "${check_input[@]}" --exit-zero --format json -o "$OUT/check-j1.json" --jobs 1
measure check-jN "freerace check" main "$JOBS" "$bytes_check" 0 -- \
  "$FREERACE" check "${check_input[@]}" --exit-zero --format json -o "$OUT/check-jN.json" --jobs "$JOBS"
same_output corpus "$OUT/check-j1.json" "$OUT/check-jN.json"
# C/C++ only: exactly the files cppcheck gets, as arguments.
measure check-cfamily-jN "freerace check (C/C++ only)" main "$JOBS" "$bytes_check_cfamily" 0 -- \
  "$FREERACE" check "${cfamily_input[@]}" --exit-zero --format json -o /dev/null --jobs "$JOBS"
RUNS=$saved_runs

# universal-ctags tagging the same files: a fast, well-known reader of C (one core)
if command -v ctags >/dev/null 2>&1 && ctags --version 2>/dev/null | grep -q Universal; then
  measure ctags "universal-ctags (tag every file)" main 1 "$bytes_read" 0 -- \
    xargs -0 -a "$OUT/all.list0" ctags -f -
else
  skip ctags "universal-ctags (tag every file)" main 1 "$bytes_read" "universal-ctags not installed (apt-get install universal-ctags)"
fi

cppcheck_label="cppcheck --max-configs=$CPPCHECK_MAX_CONFIGS (C/C++)"
if [ "$SKIP_CPPCHECK" = 1 ]; then
  skip cppcheck "$cppcheck_label" main "$JOBS" "$bytes_check_cfamily" "SKIP_CPPCHECK=1"
else
  if ! command -v cppcheck >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "bench: installing cppcheck (apt-get install -y cppcheck)" >&2
    apt-get install -y cppcheck >/dev/null 2>&1 || (apt-get update >/dev/null 2>&1 && apt-get install -y cppcheck >/dev/null 2>&1) || true
  fi
  if command -v cppcheck >/dev/null 2>&1; then
    measure cppcheck "$cppcheck_label" main "$JOBS" "$bytes_check_cfamily" "$CPPCHECK_TIMEOUT" -- \
      timeout -k 10 "$CPPCHECK_TIMEOUT" cppcheck -j "$JOBS" --quiet --max-configs="$CPPCHECK_MAX_CONFIGS" \
      --file-list="$OUT/cfamily.list"
  else
    skip cppcheck "$cppcheck_label" main "$JOBS" "$bytes_check_cfamily" "cppcheck not installed"
  fi
fi

# ---- 4b. CPython snapshot (one project of ~24 MB of C: the call graph of an interpreter) --------
if [ "$SKIP_CPYTHON" != 1 ] && [ -f "$CPYTHON_TREE" ]; then
  say "CPython snapshot ($CPYTHON_TREE)"
  bash "$CPYTHON_TREE" "$DIR" >/dev/null || die "CPython snapshot failed ($CPYTHON_TREE)"
  CPY=$DIR/cpython
  find "$CPY" -type f \( -name '*.c' -o -name '*.h' \) -print0 | sort -z >"$OUT/cpython.list0"
  cpy_bytes=$(python3 -c 'import os,sys; print(sum(os.path.getsize(p) for p in open(sys.argv[1],"rb").read().split(b"\0") if p))' "$OUT/cpython.list0")
  xargs -0 -a "$OUT/cpython.list0" cat -- >/dev/null
  measure cpython-cat "cat (floor)" cpython 1 "$cpy_bytes" 0 -- xargs -0 -a "$OUT/cpython.list0" cat --
  measure cpython-check-j1 "freerace check" cpython 1 "$cpy_bytes" 0 -- \
    "$FREERACE" check "$CPY" --exit-zero --format json -o "$OUT/cpython-j1.json" --jobs 1
  measure cpython-check-jN "freerace check" cpython "$JOBS" "$cpy_bytes" 0 -- \
    "$FREERACE" check "$CPY" --exit-zero --format json -o "$OUT/cpython-jN.json" --jobs "$JOBS"
  same_output cpython "$OUT/cpython-j1.json" "$OUT/cpython-jN.json"
  if command -v ctags >/dev/null 2>&1 && ctags --version 2>/dev/null | grep -q Universal; then
    measure cpython-ctags "universal-ctags" cpython 1 "$cpy_bytes" 0 -- xargs -0 -a "$OUT/cpython.list0" ctags -f -
  fi
else
  skip cpython-check-jN "freerace check" cpython "$JOBS" 0 "SKIP_CPYTHON=1 or no $CPYTHON_TREE"
fi

# ---- 5. linearity -----------------------------------------------------------------------
if [ "$SKIP_SCALE" = 1 ] || [ "$check_ok" != 1 ]; then
  why="SKIP_SCALE=1"; [ "$check_ok" = 1 ] || why="freerace check failed on the corpus"
  for n in $SCALES; do skip "scale-x$n" "x$n" scale 1 $((n * bytes_check)) "$why"; done
else
  say "linearity (freerace check --jobs 1 on N hard-linked copies of the corpus)"
  stamp="$(json_get '["check"]') exclude=[$EXCLUDE] src=$SRC"
  if [ "$(cat "$DIR/scale/.stamp" 2>/dev/null || true)" != "$stamp" ]; then
    rm -rf "$DIR/scale"
  fi
  for n in $SCALES; do
    for ((k = 1; k <= n; k++)); do
      d=$DIR/scale/x$n/copy$k
      [ -d "$d" ] && continue
      mkdir -p "$(dirname "$d")"
      if [ -z "$EXCLUDE" ]; then
        cp -al "$SRC/." "$d" 2>/dev/null || { rm -rf "$d"; cp -r "$SRC/." "$d"; }
      else # only the files left after EXCLUDE, so no --exclude globs are needed
        python3 "$here/corpus.py" --farm "$OUT/check.list0" "$SRC" "$d" >/dev/null
      fi
    done
  done
  printf '%s' "$stamp" >"$DIR/scale/.stamp"
  for n in $SCALES; do
    measure "scale-x$n" "x$n" scale 1 $((n * bytes_check)) 0 -- \
      "$FREERACE" check "$DIR/scale/x$n" --exit-zero --format json -o /dev/null --jobs 1
  done
fi

# ---- 6. report --------------------------------------------------------------------------
BENCH_REPO=$repo BENCH_FREERACE=$FREERACE BENCH_JOBS=$JOBS BENCH_RUNS=$RUNS BENCH_START=$start BENCH_LOAD_START=${load_start:-} BENCH_CHECK_INPUT="$check_input_kind" \
BENCH_CPPCHECK_TIMEOUT=$CPPCHECK_TIMEOUT BENCH_CPPCHECK_MAX_CONFIGS=$CPPCHECK_MAX_CONFIGS BENCH_TIMER=$TIMER \
  python3 "$here/report.py" "$OUT" | tee "$OUT/latest.txt"
