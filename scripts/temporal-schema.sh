#!/bin/sh
# Temporal's schema job, one file for both deployments: docker-compose.yml runs it in Temporal's
# admin-tools image (temporal-schema), scripts/temporal-server.sh with the temporal-sql-tool that
# scripts/setup.sh builds. Creates Temporal's two databases on PostgreSQL when missing and brings
# their schema up to the server's version; it can run again at every start.
# Reads the variables of the server's configuration template: POSTGRES_SEEDS, DB_PORT,
# POSTGRES_USER, POSTGRES_PWD, DBNAME, VISIBILITY_DBNAME. TEMPORAL_SQL_TOOL and
# TEMPORAL_SCHEMA_DIR name the tool and the schema files (by default the admin-tools image's).
set -eu
tool=${TEMPORAL_SQL_TOOL:-temporal-sql-tool}
schema=${TEMPORAL_SCHEMA_DIR:-/etc/temporal/schema/postgresql/v12}
# the tool reads these itself; the password stays out of the process list
export SQL_PLUGIN=postgres12 SQL_HOST="$POSTGRES_SEEDS" SQL_PORT="${DB_PORT:-5432}" SQL_USER="$POSTGRES_USER" SQL_PASSWORD="$POSTGRES_PWD"
setup() {
  db=$1 versioned=$2
  # fails when the database exists, which is the normal case after the first start
  "$tool" --quiet --db "$db" create-database >/dev/null 2>&1 || true
  "$tool" --quiet --db "$db" setup-schema -v 0.0
  "$tool" --quiet --db "$db" update-schema -d "$versioned"
}
setup "${DBNAME:-temporal}" "$schema/temporal/versioned"
setup "${VISIBILITY_DBNAME:-temporal_visibility}" "$schema/visibility/versioned"
