#!/bin/sh
# Runs the fdk-go probe function (build it first with install.sh).
exec "$(dirname "$0")/probe" "$@"
