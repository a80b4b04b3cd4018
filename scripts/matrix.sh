#!/usr/bin/env bash
# Regenerates docs/conformance-matrix.md from the committed verdicts.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -q -p fdk-conformance
cols=()
for dir in conformance/probes/*/; do
  lang=$(basename "$dir")
  [ -f "${dir}expected.txt" ] && cols+=("$lang=${dir}expected.txt")
  [ -f "${dir}expected-image.txt" ] && cols+=("$lang (image)=${dir}expected-image.txt")
done
{
  echo "# Conformance matrix"
  echo
  echo "Every case of \`fdk-conformance run --probe\` against each FDK's probe, from the committed"
  echo "verdicts (CI fails when a verdict changes). Each probe's README says why each failure happens."
  echo "Regenerate with \`bash scripts/matrix.sh\`. Two kinds of column:"
  echo
  echo "* \`<fdk>\`, command mode (\`conformance/probes/<fdk>/expected.txt\`): the probe started as a"
  echo "  command on this machine, as this user, by \`scripts/peers.sh\` (Rust: \`scripts/main-job.sh\`)."
  echo "* \`<fdk> (image)\`, image mode (\`conformance/probes/<fdk>/expected-image.txt\`): the probe"
  echo "  packaged as a function image the way the FDK's official Dockerfile packages it, and run with"
  echo "  \`--image\` in the server's container: uid 1000, read-only root, tmpfs \`/tmp\`, no network,"
  echo "  50 processes, 350 files (\`scripts/peer-images.sh\`; Rust: \`scripts/image-suite.sh\`). Go and"
  echo "  Rust are FROM-scratch images of a static binary; Python, Node and Java are root file"
  echo "  systems made from this machine's Debian packages (Debian's Python 3.11; the \`nodejs\`"
  echo "  package and the OpenJDK 17 JRE that command mode runs too), with the function layer on top"
  echo "  (nothing is pulled)."
  echo
  echo "The two modes differ in two cases. \`env.long-path\`: in the container the socket path is"
  echo "always \`/tmp/iofs/lsnr.sock\` (the harness's 107-byte directory is bound there), so the long"
  echo "path the case makes never reaches the function: the case is \`n/a\` there, as the defect can"
  echo "never show on the real server; in command mode the path reaches the function, and fdk-go,"
  echo "fdk-java, the Python and the Node FDK fail it."
  echo "\`life.unprivileged\`: it passes in image mode, where the function always runs as uid 1000 under"
  echo "a read-only root and the case checks a fresh start there; in command mode it needs \`--uid 1000\`"
  echo "as root (below)."
  echo
  echo "\`n/a\`: the case cannot be judged for that FDK (its README says why). \`skip\`: not checked in"
  echo "these runs: \`life.unprivileged\` needs \`--uid 1000\` as root, which \`scripts/main-job.sh\` gives"
  echo "the Rust probe, while the peers run without it so that their verdicts do not depend on the"
  echo "machine."
  echo
  echo "The level is what the real server (fnserver 0.3.753) does with a function that fails the case"
  echo "(\`protocol-spec/http-stream.md\`, \"Levels\"): MUST, it would fail a call or kill the container;"
  echo "SHOULD, only a good FDK does it (the server never exercises it or does not care); MAY,"
  echo "informational (\`req.wrong-path\` sends requests the server never sends). By default only MUST"
  echo "failures fail a run (\`--fail-on should\` asks for more; CI asks it of the Rust FDK). Some MUST"
  echo "cases fail at SHOULD when only a minor check failed (\`resp.error-502\` with a 502 whose body is"
  echo "not JSON, \`life.keep-alive\` and \`life.no-leaks\` when the function closed the connection"
  echo "itself, \`gw.request\` when a header is only also seen with its prefix, \`env.server-vars\` when"
  echo "only \`FN_LISTENER\` or \`FN_FORMAT\` is hidden): a run's report shows each failure's level, this"
  echo "table only the case's."
  echo
  echo "The stdin/stdout formats (\`run --format json|http|default|cloudevent\`, 87 cases) are run"
  echo "against the Rust probe only, which passes all of them (\`scripts/main-job.sh\`): the pinned"
  echo "official FDKs speak http-stream only (the formats left the server in 0.3.603, 2018)."
  echo
  target/debug/fdk-conformance matrix "${cols[@]}"
} > docs/conformance-matrix.md
echo "wrote docs/conformance-matrix.md (${cols[*]})"
