#!/bin/sh
# The compose job "migrate": deploy the schema, load the seed data once, set the API role's
# password and create the admin account. Idempotent: run it again and it changes nothing.
# The database steps are the commands of migrate()/seed()/bootstrap_admin() in ../techmart.
# Environment: PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE (libpq), TECHMART_API_DB_PASSWORD,
#              TECHMART_SEED (1 = load data/*.csv into an empty database, default 1),
#              TECHMART_ADMIN_EMAIL / TECHMART_ADMIN_PASSWORD (optional).
set -eu
: "${PGDATABASE:?}" "${TECHMART_API_DB_PASSWORD:?set TECHMART_API_DB_PASSWORD}"
export HOME="${HOME:-/tmp}"

echo "migrate: waiting for $PGHOST:${PGPORT:-5432}"
i=0
until pg_isready -q -d postgres; do
  i=$((i + 1)); [ $i -lt 60 ] || { echo "migrate: database not reachable" >&2; exit 1; }
  sleep 1
done

echo "migrate: sqitch deploy"
(cd /opt/techmart/migrations && sqitch --quiet deploy "db:pg:$PGDATABASE" >/dev/null)  # stdout: what the scripts' queries print

if [ "${TECHMART_SEED:-1}" = 1 ]; then
  n="$(psql -tAXc "SELECT count(*) FROM transactions")"
  if [ "$n" != 0 ]; then
    echo "migrate: seed data already loaded ($n transactions)"
  else
    echo "migrate: loading seed data (one transaction)"
    (cd /opt/techmart/data && psql -X -q -1 -v ON_ERROR_STOP=1 -f load.sql)
  fi
fi

# the service logs in over TCP: give its role a password (scram-sha-256)
printf '%s\n' "ALTER ROLE techmart_api PASSWORD :'pw';" | psql -qX -v ON_ERROR_STOP=1 -v pw="$TECHMART_API_DB_PASSWORD"

if [ -n "${TECHMART_ADMIN_EMAIL:-}" ] && [ -n "${TECHMART_ADMIN_PASSWORD:-}" ]; then
  printf '%s\n' "SELECT api.bootstrap_admin(:'email', :'pw');" \
    | psql -qtAX -v ON_ERROR_STOP=1 -v email="$TECHMART_ADMIN_EMAIL" -v pw="$TECHMART_ADMIN_PASSWORD" >/dev/null
  echo "migrate: admin account $TECHMART_ADMIN_EMAIL"
fi
echo "migrate: done"
