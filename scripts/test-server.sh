#!/usr/bin/env bash
# Fetches Temporal's time-skipping test server (the Java SDK's, from Maven Central) into the cache
# once, and prints the path of a launcher that @temporalio/testing can start as an existing binary
# (it passes the port as the only argument).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

version="$(sed -n 's:.*<version>\(1\.[0-9.]*\)</version>.*:\1:p' "$ROOT/scripts/temporal-test-server/pom.xml")"
dir="$CACHE_DIR/temporal-test-server-$version"
launcher="$dir/temporal-test-server"
if [ ! -x "$launcher" ]; then
  command -v mvn >/dev/null && command -v java >/dev/null || { log "Java and Maven are required for the workflow tests"; exit 1; }
  log "fetching the Temporal test server $version from Maven Central (cached in $dir)"
  rm -rf "$dir.tmp"
  mvn -q -B -f "$ROOT/scripts/temporal-test-server/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$dir.tmp/lib" >&2
  printf '#!/bin/sh\nexec java -cp "%s/lib/*" io.temporal.testserver.TestServer "$@"\n' "$dir" > "$dir.tmp/temporal-test-server"
  chmod +x "$dir.tmp/temporal-test-server"
  rm -rf "$dir"; mv "$dir.tmp" "$dir"
fi
echo "$launcher"
