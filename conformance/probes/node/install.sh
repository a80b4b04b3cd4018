#!/usr/bin/env bash
# Installs the Node FDK the probe runs on, pinned by package.json and
# package-lock.json, into node_modules beside this script (gitignored).
# Idempotent: a second run with nothing changed does nothing. Needs only node
# and npm.
#
# `npm ci`, not `npm install`: it installs exactly what the lockfile says,
# fails if package.json and the lockfile disagree, and never rewrites the
# lockfile (`npm install` does, e.g. dropping the `resolved` URLs when the
# machine's npm config has omit-lockfile-registry-resolved), so a run never
# leaves the checkout dirty.
set -euo pipefail
cd "$(dirname "$0")"

FDK_VERSION=0.0.76
STAMP="$(sha256sum package.json package-lock.json | cut -c1-16 | tr '\n' ' ')node $(node --version)"
installed() {
  node -p "require('./node_modules/@fnproject/fdk/package.json').version" 2>/dev/null || true
}

if [ "$(installed)" = "$FDK_VERSION" ] && [ "$(cat node_modules/.probe-install 2>/dev/null)" = "$STAMP" ]; then
  echo "node probe: @fnproject/fdk $FDK_VERSION already installed in $PWD/node_modules (nothing to do)"
  exit 0
fi

echo "node probe: npm ci (node $(node --version), npm $(npm --version)): @fnproject/fdk $FDK_VERSION as package-lock.json pins it"
npm ci --no-audit --no-fund --loglevel=error

got="$(installed)"
if [ "$got" != "$FDK_VERSION" ]; then
  echo "node probe: installed @fnproject/fdk $got, expected $FDK_VERSION" >&2
  exit 1
fi
echo "$STAMP" > node_modules/.probe-install
echo "node probe: installed: $(npm ls --all --parseable --long 2>/dev/null | sed -n 's/.*:\(.*@[^:]*\)$/\1/p' | sed 1d | tr '\n' ' ')"
