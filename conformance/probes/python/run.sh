#!/usr/bin/env bash
# Starts the probe the way the Python FDK expects to be started: its `fdk`
# console script with the module file and the handler's name
# (`fdk /function/func.py handler` in the FDK's images). Run install.sh first.
dir="$(cd "$(dirname "$0")" && pwd)"
exec "$dir/.venv/bin/fdk" "$dir/probe.py" handler
