#!/bin/sh
# Temporal's namespace job, one file for both deployments: docker-compose.yml runs it in Temporal's
# admin-tools image (temporal-namespace), scripts/temporal-server.sh with the Temporal CLI of
# scripts/setup.sh. Waits until the server answers, then registers the namespace
# (TEMPORAL_NAMESPACE, 7 days' retention) and the account workflow's search attributes
# (MAILPULL_SEARCH_ATTRIBUTES, all Keyword) that are missing.
# The CLI (TEMPORAL_CLI, `temporal` by default) reads the server's address and TLS settings from
# the variables mailpull reads too: TEMPORAL_ADDRESS, TEMPORAL_TLS_CLIENT_CERT_PATH, ...
set -eu
cli=${TEMPORAL_CLI:-temporal}
namespace=${TEMPORAL_NAMESPACE:-default}
tries=0
until "$cli" operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 120 ]; then
    "$cli" operator cluster health
    exit 1
  fi
  sleep 1
done
"$cli" operator namespace describe -n "$namespace" >/dev/null 2>&1 ||
  "$cli" operator namespace create -n "$namespace" --retention 7d
# a new namespace reaches the services' caches within some seconds
tries=0
until "$cli" operator search-attribute list -n "$namespace" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    "$cli" operator search-attribute list -n "$namespace"
    exit 1
  fi
  sleep 1
done
for name in $MAILPULL_SEARCH_ATTRIBUTES; do
  "$cli" operator search-attribute list -n "$namespace" | grep -qw "$name" ||
    "$cli" operator search-attribute create -n "$namespace" --name "$name" --type Keyword
done
