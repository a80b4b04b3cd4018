#!/usr/bin/env bash
# Starts the probe the way the Node FDK expects to be started: `node` on the
# module that calls `fdk.handle` (`node func.js` in the FDK's images). Run
# install.sh first.
dir="$(cd "$(dirname "$0")" && pwd)"
exec node "$dir/probe.js"
