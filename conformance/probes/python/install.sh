#!/usr/bin/env bash
# Installs the Python FDK the probe runs on, pinned, into .venv beside this
# script (gitignored). Idempotent: a second run with nothing changed does
# nothing. Needs only python3 (3.9 or later) and pip.
set -euo pipefail
cd "$(dirname "$0")"

FDK_VERSION=0.1.128
VENV=.venv
# What the install depends on: a change to either means reinstalling.
STAMP="fdk==$FDK_VERSION $(sha256sum constraints.txt | cut -c1-16) $(python3 -c 'import sys; print(sys.version.split()[0])')"

if [ -x "$VENV/bin/fdk" ] && [ "$(cat "$VENV/.probe-install" 2>/dev/null)" = "$STAMP" ]; then
  echo "python probe: fdk $FDK_VERSION already installed in $PWD/$VENV (nothing to do)"
  exit 0
fi

echo "python probe: creating $PWD/$VENV with $(python3 --version)"
rm -rf "$VENV"
if python3 -m venv "$VENV" 2>/dev/null; then
  pip=("$VENV/bin/python" -m pip)
else
  # Debian's python3 without python3-venv has no ensurepip: make the venv
  # without pip and install into it with the system's pip (22.3 or later).
  echo "python probe: no ensurepip; using the system pip with --python"
  rm -rf "$VENV"
  python3 -m venv --without-pip "$VENV"
  pip=(python3 -m pip --python "$VENV/bin/python")
fi

echo "python probe: pip install fdk==$FDK_VERSION (dependencies pinned by constraints.txt)"
"${pip[@]}" install --quiet --disable-pip-version-check --no-input \
  -c constraints.txt "fdk==$FDK_VERSION"

"$VENV/bin/python" - "$FDK_VERSION" <<'PY'
import sys
from importlib.metadata import version
got = version("fdk")
if got != sys.argv[1]:
    sys.exit("python probe: installed fdk %s, expected %s" % (got, sys.argv[1]))
PY
echo "$STAMP" > "$VENV/.probe-install"
echo "python probe: installed: $("${pip[@]}" freeze --disable-pip-version-check 2>/dev/null | tr '\n' ' ')"
