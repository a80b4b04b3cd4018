#!/bin/sh
# Runs the fdk-java probe function (build it first with install.sh) the way
# fdk-java's images start a function: the runtime's EntryPoint with
# Class::method, the JNI library on java.library.path, System.out sent to
# stderr by the runtime itself. JVM options as in the official images.
dir=$(cd "$(dirname "$0")" && pwd)
exec java -XX:-UsePerfData -XX:+UseSerialGC -Djava.awt.headless=true \
    -Djava.library.path="$dir/target/native" \
    -cp "$dir/target/classes:$dir/target/dependency/*" \
    com.fnproject.fn.runtime.EntryPoint conformance.Probe::handleRequest
