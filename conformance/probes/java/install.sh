#!/usr/bin/env bash
# Builds the fdk-java probe function into target/ (git-ignored):
#   target/classes      the probe (src/main/java), compiled by Maven
#   target/dependency   fdk-java's api and runtime jars, as pinned in pom.xml,
#                       with their dependencies (httpcore, Jackson, ...)
#   target/native       libfnunixsocket.so, the JNI half of the runtime's
#                       unix-socket transport, compiled from src/main/c (the
#                       runtime jar on Maven Central does not carry it; see
#                       README.md)
# Idempotent; needs java, javac, mvn and a C compiler. Maven Central is needed
# on the first run only: later runs work offline from the local repository.
set -euo pipefail
cd "$(dirname "$0")"

for tool in java javac mvn cc; do
    command -v "$tool" >/dev/null || { echo "install.sh: $tool is not installed" >&2; exit 1; }
done

fdk_version=$(sed -n 's:.*<fdk.version>\(.*\)</fdk.version>.*:\1:p' pom.xml)
goals=(-q -B -Dstyle.color=never compile dependency:copy-dependencies)
# Offline first (no network once the local repository has it all), then
# online for a first run. Maven's output is shown only if it fails.
# Copied afresh each time, so that a version change leaves no stale jar.
rm -rf target/dependency
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fetched="from the local Maven repository"
if ! mvn -o "${goals[@]}" >"$log" 2>&1; then
    fetched="downloaded from Maven Central"
    if ! mvn "${goals[@]}" >"$log" 2>&1; then
        cat "$log" >&2
        echo "install.sh: mvn failed" >&2
        exit 1
    fi
fi

# JNI headers: from JAVA_HOME if it has them, else the JDK javac belongs to.
jdk=${JAVA_HOME:-}
if [ -z "$jdk" ] || [ ! -f "$jdk/include/jni.h" ]; then
    jdk=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
fi
[ -f "$jdk/include/jni.h" ] || { echo "install.sh: no jni.h under $jdk/include" >&2; exit 1; }
mkdir -p target/native
lib=target/native/libfnunixsocket.so
if [ ! -f "$lib" ] || [ src/main/c/fnunixsocket.c -nt "$lib" ]; then
    cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Wno-unused-parameter -shared -fPIC \
        -I"$jdk/include" -I"$jdk/include/linux" -o "$lib" src/main/c/fnunixsocket.c
fi

echo "java probe: built $(pwd)/target: classes, dependency/ (fdk-java ${fdk_version} and its dependencies, ${fetched}), native/libfnunixsocket.so (JNI headers of $jdk)"
