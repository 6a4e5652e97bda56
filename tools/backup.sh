#!/usr/bin/env bash
# Backup and restore of a TechMart database, with what a database dump does not hold
# (docs/operations.md, "Backup and restore"). Against the cluster of the PG* environment, as a
# superuser (./techmart backup / restore set it to the local cluster):
#
#   tools/backup.sh backup DB [FILE]                   (default FILE: $TECHMART_BACKUP_DIR/DB-<UTC time>.tar)
#   tools/backup.sh restore FILE DB [--replace]
#
# The backup is one tar file:
#   manifest.tsv   what it holds: format, time, source database, server, techmart extension and
#                  last sqitch change, the database's encoding and locale, the roles, the row count
#                  of every dumped table, and the dump's size and sha256
#   database.dump  pg_dump -Fc of the database, taken in the snapshot the counts were taken in
#                  (exported by a REPEATABLE READ READ ONLY transaction: no lock beyond pg_dump's
#                  ACCESS SHARE; the API keeps writing)
#   roles.sql      the roles the database refers to (owners, grantees of its objects and of the
#                  database, its per-role settings, the product roles techmart_api/techmart_bi),
#                  their members and the roles they are members of: attributes, password hashes
#                  (never a superuser's), settings, comments, memberships. Run at restore, it
#                  creates only the roles that are missing (existing ones are left as they are)
#   database.sql   what pg_dump keeps only with --create: ALTER DATABASE ... SET (e.g.
#                  analytics.business_timezone), ALTER ROLE ... IN DATABASE ... SET, the owner,
#                  the connection limit, CONNECT/TEMP privileges and the comment of the database
#
# restore: refuses an existing DB unless --replace; creates the missing roles, restores into a
# new database under a temporary name (CREATE EXTENSION techmart at the backup's version, then
# pg_restore --exit-on-error), applies database.sql, then
# verifies: every table's row count equals the manifest, the extension version and the last
# migration are those of the manifest, analytics.rollup_check(), customers_spent_check(),
# customer_months_check(), product_daily_check(), alert_counts_check() and techmart.entity_check() are empty. Only then is the database renamed
# to DB; with --replace the old one is renamed away in the same transaction (its sessions
# ended first) and kept as DB_before_restore_<time>. Any failure (a truncated or altered
# file, an error of pg_restore, a count that differs) drops the temporary database and the
# roles created, and leaves DB as it was.
set -Eeuo pipefail

say()  { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
fail() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }
q() { psql -X -q -tA -v ON_ERROR_STOP=1 "$@"; }
FORMAT="techmart-backup 1"

# the tables whose rows the dump holds: every table outside the system schemas that belongs to no
# extension, and the extensions' configuration tables (pg_extension_config_dump); a partitioned
# table (docs/scaling.md) is counted as a whole and by partition
TABLES_SQL="
SELECT format('%I.%I', n.nspname, c.relname)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
   AND (NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                       AND d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e')
        OR c.oid IN (SELECT unnest(extconfig) FROM pg_extension))
 ORDER BY 1"

# the roles the current database refers to, closed over memberships (members of a role of the
# set, e.g. a BI login IN ROLE techmart_bi, except members of predefined roles and superusers;
# and the roles a role of the set is a member of)
ROLES_SQL="
WITH RECURSIVE db AS (SELECT oid, datdba, datacl FROM pg_database WHERE datname = current_database()),
base AS (
  SELECT refobjid AS r FROM pg_shdepend, db WHERE dbid = db.oid AND refclassid = 'pg_authid'::regclass
  UNION SELECT datdba FROM db
  UNION SELECT 10::oid
  UNION SELECT (aclexplode(datacl)).grantee FROM db WHERE datacl IS NOT NULL
  UNION SELECT setrole FROM pg_db_role_setting, db WHERE setdatabase = db.oid AND setrole <> 0
  UNION SELECT oid FROM pg_roles WHERE rolname IN ('techmart_api', 'techmart_bi')),
closure(r) AS (
  SELECT r FROM base WHERE r <> 0
  UNION
  SELECT CASE WHEN m.roleid = c.r THEN m.member ELSE m.roleid END
    FROM closure c JOIN pg_roles cr ON cr.oid = c.r
    JOIN pg_auth_members m ON m.member = c.r
                           OR (m.roleid = c.r AND NOT cr.rolsuper AND cr.rolname NOT LIKE 'pg\_%'))
SELECT a.oid FROM pg_authid a JOIN closure c ON c.r = a.oid WHERE a.rolname NOT LIKE 'pg\_%'"

# ALTER ... SET from a setconfig entry 'name=value' (list settings such as search_path as they
# are stored: quoting them as one literal would make one element of the list)
SETTING_SQL="format('SET %I = %s', split_part(s, '=', 1),
                    CASE WHEN lower(split_part(s, '=', 1)) IN ('search_path', 'temp_tablespaces', 'session_preload_libraries',
                                                                'local_preload_libraries', 'shared_preload_libraries')
                         THEN substr(s, strpos(s, '=') + 1) ELSE quote_literal(substr(s, strpos(s, '=') + 1)) END)"

roles_script() {
  q <<EOF
SELECT 'CREATE TEMP TABLE tm_created (r text);';
SELECT format(\$f\$DO \$tm\$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = %L) THEN EXECUTE %L; %s%s INSERT INTO tm_created VALUES (%L); END IF; END \$tm\$;\$f\$,
              a.rolname,
              format('CREATE ROLE %I WITH %s %s %s %s %s %s %s CONNECTION LIMIT %s%s%s', a.rolname,
                     CASE WHEN a.rolsuper THEN 'SUPERUSER' ELSE 'NOSUPERUSER' END,
                     CASE WHEN a.rolinherit THEN 'INHERIT' ELSE 'NOINHERIT' END,
                     CASE WHEN a.rolcreaterole THEN 'CREATEROLE' ELSE 'NOCREATEROLE' END,
                     CASE WHEN a.rolcreatedb THEN 'CREATEDB' ELSE 'NOCREATEDB' END,
                     CASE WHEN a.rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END,
                     CASE WHEN a.rolreplication THEN 'REPLICATION' ELSE 'NOREPLICATION' END,
                     CASE WHEN a.rolbypassrls THEN 'BYPASSRLS' ELSE 'NOBYPASSRLS' END,
                     a.rolconnlimit,
                     CASE WHEN a.rolpassword IS NOT NULL AND NOT a.rolsuper THEN ' PASSWORD ' || quote_literal(a.rolpassword) ELSE '' END,
                     CASE WHEN a.rolvaliduntil IS NOT NULL THEN ' VALID UNTIL ' || quote_literal(a.rolvaliduntil::text) ELSE '' END),
              (SELECT string_agg(format('EXECUTE %L;', format('ALTER ROLE %I ', a.rolname) || $SETTING_SQL), ' ')
                 FROM pg_db_role_setting d, unnest(d.setconfig) s WHERE d.setrole = a.oid AND d.setdatabase = 0),
              (SELECT format(' EXECUTE %L;', format('COMMENT ON ROLE %I IS %L', a.rolname, shobj_description(a.oid, 'pg_authid')))
                WHERE shobj_description(a.oid, 'pg_authid') IS NOT NULL),
              a.rolname)
  FROM pg_authid a WHERE a.oid IN ($ROLES_SQL) ORDER BY a.rolname;
-- memberships where the role or the member was created now (an existing role is left alone)
SELECT format(\$f\$DO \$tm\$ BEGIN IF EXISTS (SELECT FROM tm_created WHERE r IN (%L, %L)) AND NOT EXISTS (SELECT FROM pg_catalog.pg_auth_members WHERE roleid = %L::regrole AND member = %L::regrole) THEN EXECUTE %L; END IF; END \$tm\$;\$f\$,
              r.rolname, m.rolname, quote_ident(r.rolname), quote_ident(m.rolname),
              format('GRANT %I TO %I%s', r.rolname, m.rolname, CASE WHEN am.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END))
  FROM pg_auth_members am JOIN pg_roles r ON r.oid = am.roleid JOIN pg_roles m ON m.oid = am.member
 WHERE am.member IN ($ROLES_SQL) AND (am.roleid IN ($ROLES_SQL) OR r.rolname LIKE 'pg\_%')
 ORDER BY r.rolname, m.rolname;
SELECT 'SELECT r FROM tm_created ORDER BY r;';
EOF
}

database_script() {
  q <<EOF
SELECT 'ALTER DATABASE :"db" ' || $SETTING_SQL || ';'
  FROM pg_db_role_setting d, unnest(d.setconfig) s
 WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database()) AND d.setrole = 0;
SELECT format('ALTER ROLE %I IN DATABASE :"db" ', r.rolname) || $SETTING_SQL || ';'
  FROM pg_db_role_setting d JOIN pg_roles r ON r.oid = d.setrole, unnest(d.setconfig) s
 WHERE d.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database());
SELECT format('ALTER DATABASE :"db" OWNER TO %I;', pg_get_userbyid(datdba)) FROM pg_database WHERE datname = current_database();
SELECT format('ALTER DATABASE :"db" CONNECTION LIMIT %s;', datconnlimit) FROM pg_database WHERE datname = current_database();
SELECT format('COMMENT ON DATABASE :"db" IS %L;', shobj_description(oid, 'pg_database'))
  FROM pg_database WHERE datname = current_database() AND shobj_description(oid, 'pg_database') IS NOT NULL;
SELECT 'REVOKE ALL ON DATABASE :"db" FROM PUBLIC;' FROM pg_database WHERE datname = current_database() AND datacl IS NOT NULL;
SELECT format('GRANT %s ON DATABASE :"db" TO %s%s;', a.privilege_type,
              CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
              CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
  FROM pg_database d, aclexplode(d.datacl) a WHERE d.datname = current_database() AND d.datacl IS NOT NULL;
EOF
}

# the last sqitch change deployed in DB (none without a sqitch registry)
last_migration() {
  [ "$(q -d "$1" -c "SELECT to_regclass('sqitch.changes') IS NOT NULL")" = t ] || return 0
  q -d "$1" -c "SELECT change FROM sqitch.changes WHERE project = 'techmart' ORDER BY committed_at DESC LIMIT 1"
}

# the manifest's value of KEY (first field), or every line of KEY with several values
mf() { awk -F'\t' -v k="$1" '$1 == k { sub(/^[^\t]*\t/, ""); print }' "$2"; }

# -------------------------------------------------------------------------------- backup
do_backup() {
  local db="$1" file="${2:-}"
  [ -n "$db" ] || fail "no database"
  [ "$(q -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '${db//\'/\'\'}'")" = 1 ] \
    || fail "database $db does not exist"
  [ "$(q -d "$db" -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] \
    || fail "a backup reads the roles' password hashes: connect as a superuser"
  if [ -z "$file" ]; then
    mkdir -p "${TECHMART_BACKUP_DIR:?}"
    file="$TECHMART_BACKUP_DIR/$db-$(date -u +%Y%m%dT%H%M%SZ).tar"
  fi
  [ ! -e "$file" ] || fail "$file exists: give another file name (a backup never overwrites one)"
  local work; work="$(mktemp -d "$(dirname "$file")/.backup.XXXXXX")" || fail "cannot write in $(dirname "$file")"
  # shellcheck disable=SC2064
  trap "rm -rf '$work'; [ -n \"\${snap_pid:-}\" ] && kill \$snap_pid 2>/dev/null; true" EXIT

  # one snapshot for the dump and the counts: a session holds it open until both are done
  coproc SNAP { psql -X -q -tA -v ON_ERROR_STOP=1 -d "$db" 2>&1; }
  snap_pid=$SNAP_PID
  echo "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY; SELECT pg_export_snapshot();" >&"${SNAP[1]}"
  local snap; IFS= read -r -t 60 snap <&"${SNAP[0]}" || fail "could not export a snapshot"
  [[ "$snap" =~ ^[0-9A-F-]+$ ]] || fail "could not export a snapshot: $snap"
  local t0; t0=$(date +%s%N)
  say "dumping $db (pg_dump -Fc, snapshot $snap)"
  pg_dump -Fc -d "$db" --snapshot="$snap" -f "$work/database.dump" || fail "pg_dump failed (nothing written)"
  local tables counts
  tables="$(q -d "$db" -c "$TABLES_SQL")"
  counts="$(
    { echo "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY;"
      echo "SET TRANSACTION SNAPSHOT '$snap';"
      printf '%s\n' "$tables" | awk -v sq="'" 'NF { printf "SELECT %s || E%s\\t%s || count(*) FROM %s;\n", sq $0 sq, sq, sq, $0 }'
      echo "COMMIT;"; } | q -d "$db")" || fail "could not count the tables"
  echo "COMMIT;" >&"${SNAP[1]}"; eval "exec ${SNAP[1]}>&-"; wait "$snap_pid" 2>/dev/null || true; snap_pid=

  PGDATABASE="$db" roles_script >"$work/roles.sql" || fail "could not read the roles"
  PGDATABASE="$db" database_script >"$work/database.sql" || fail "could not read the database's settings"
  local ext mig size sha
  ext="$(q -d "$db" -c "SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'techmart'), '')")"
  mig="$(last_migration "$db")"
  size=$(stat -c %s "$work/database.dump")
  sha=$(sha256sum "$work/database.dump" | cut -d' ' -f1)
  {
    printf 'format\t%s\n' "$FORMAT"
    printf 'created\t%s\n' "$(date -u +%FT%TZ)"
    printf 'database\t%s\n' "$db"
    printf 'server\t%s\n' "$(q -d "$db" -c "SHOW server_version")"
    printf 'extension\t%s\n' "$ext"
    printf 'migration\t%s\n' "$mig"
    q -d "$db" -c "SELECT format(E'encoding\t%s\nlocale\t%s\t%s', pg_encoding_to_char(encoding), datcollate, datctype) FROM pg_database WHERE datname = current_database()"
    q -d "$db" -c "SELECT E'role\t' || rolname FROM pg_authid WHERE oid IN ($ROLES_SQL) ORDER BY 1"
    printf '%s\n' "$counts" | awk -F'\t' 'NF == 2 { print "table\t" $1 "\t" $2 }'
    printf 'dump\t%s\t%s\n' "$size" "$sha"
  } >"$work/manifest.tsv"
  tar -C "$work" -cf "$work/backup.tar" manifest.tsv database.dump roles.sql database.sql
  sync -f "$work/backup.tar" 2>/dev/null || true
  mv "$work/backup.tar" "$file"
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  local m="$work/manifest.tsv" main="" t
  for t in public.transactions public.customers public.products public.suppliers public.alerts public.transaction_labels \
           public.users techmart.customer_state techmart.shadow_config techmart.entity_counts; do
    local n; n="$(awk -F'\t' -v t="$t" '$1 == "table" && $2 == t { print $3 }' "$m")"
    [ -z "$n" ] || main+="${main:+, }${t#public.} $n"
  done
  echo "wrote $file ($(numfmt --to=iec-i --suffix=B "$(stat -c %s "$file")" 2>/dev/null || stat -c %s "$file") in $((ms / 1000)).$(( (ms % 1000) / 100 )) s)"
  echo "  database $db: $(mf table "$m" | wc -l) tables; $main"
  echo "  techmart extension ${ext:-(none)}, last migration ${mig:-(none)}, PostgreSQL $(mf server "$m")"
  echo "  roles: $(mf role "$m" | paste -sd' ')"
  echo "  database settings: $(grep -c '' "$work/database.sql") statements ($(grep -o 'SET "[^"]*"\|SET [a-z_.]*' "$work/database.sql" | sed 's/SET //; s/"//g' | sort -u | paste -sd' '))"
}

# ------------------------------------------------------------------------------- restore
do_restore() {
  local file="$1" db="$2" replace="${3:-}"
  [ -r "$file" ] || fail "cannot read $file"
  [ -n "$db" ] && [ ${#db} -le 63 ] || fail "bad database name: $db"
  # (globals: the EXIT trap reads them after the function has returned)
  work="$(mktemp -d)" tmp="" created="" done=0 target="$db"
  cleanup() {
    local rc=$?
    if [ $done = 0 ]; then
      if [ -n "$tmp" ]; then
        psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$tmp\" WITH (FORCE)" >/dev/null 2>&1 \
          && say "dropped the temporary database $tmp" || say "could not drop the temporary database $tmp: drop it by hand"
      fi
      local r
      for r in $created; do
        psql -X -q -d postgres -c "DROP ROLE IF EXISTS \"$r\"" >/dev/null 2>&1 && say "dropped role $r (created by this restore)" || true
      done
      [ $rc = 0 ] || printf '\033[1;31mrestore failed:\033[0m %s is as it was\n' "$target" >&2
    fi
    rm -rf "$work"
  }
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  tar -C "$work" -xf "$file" manifest.tsv database.dump roles.sql database.sql 2>"$work/tar.err" \
    || fail "$file is not a complete backup: $(head -2 "$work/tar.err" | paste -sd' ')"
  local m="$work/manifest.tsv"
  [ "$(mf format "$m")" = "$FORMAT" ] || fail "$file: unknown format '$(mf format "$m")' (expected $FORMAT)"
  local size sha
  read -r size sha <<<"$(mf dump "$m" | tr '\t' ' ')"
  [ "$(stat -c %s "$work/database.dump")" = "$size" ] && [ "$(sha256sum "$work/database.dump" | cut -d' ' -f1)" = "$sha" ] \
    || fail "$file: the dump is not the one the manifest describes (size or sha256 differ): damaged file"
  pg_restore -l "$work/database.dump" >/dev/null || fail "$file: pg_restore cannot read the dump"
  [ "$(q -d postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ] \
    || fail "restore creates roles and the techmart extension: connect as a superuser"
  local exists; exists="$(q -d postgres -v d="$db" <<<"SELECT count(*) FROM pg_database WHERE datname = :'d';")"
  if [ "$exists" = 1 ] && [ "$replace" != --replace ]; then
    fail "database $db exists: restore into another (--db NAME) or replace it (--replace; the old one is kept under another name)"
  fi
  say "restoring $file (database $(mf database "$m") of $(mf created "$m"), techmart $(mf extension "$m")) into $db"

  # roles first: the dump's owners and grants name them
  local out
  out="$(q -d postgres -f "$work/roles.sql")" || fail "could not create the missing roles"
  created="$(printf '%s\n' "$out" | grep -v '^$' | paste -sd' ' || true)"
  [ -z "$created" ] && say "roles: all $(mf role "$m" | wc -l) present" || say "created roles: $created"

  local ts enc lc_collate lc_ctype
  ts="$(date -u +%Y%m%d%H%M%S)"
  tmp="${db:0:32}_restoring_$ts"
  enc="$(mf encoding "$m")"
  IFS=$'\t' read -r lc_collate lc_ctype <<<"$(mf locale "$m")"
  q -d postgres -v t="$tmp" -v e="$enc" -v c="$lc_collate" -v y="$lc_ctype" \
    <<<'CREATE DATABASE :"t" TEMPLATE template0 ENCODING :'"'e'"' LC_COLLATE :'"'c'"' LC_CTYPE :'"'y'"';' \
    || fail "could not create the database $tmp"
  local t0; t0=$(date +%s%N)
  # the extension at the backup's version: pg_dump writes CREATE EXTENSION without one, which
  # would install the newest here; an older backup comes back as it was (./techmart up or sqitch
  # deploy upgrade it). Its schema (made by the migrations) is created first, and left out of
  # pg_restore's list.
  local extv list=() schema_line; extv="$(mf extension "$m")"
  if [ -n "$extv" ]; then
    pg_restore -l "$work/database.dump" >"$work/toc" || fail "pg_restore cannot read the dump"
    schema_line="$(grep -E '^[0-9]+; [0-9]+ [0-9]+ SCHEMA - techmart ' "$work/toc" || true)"
    if [ -n "$schema_line" ]; then
      grep -vxF "$schema_line" "$work/toc" >"$work/toc.rest"
      list=(-L "$work/toc.rest")
      q -d "$tmp" -v o="${schema_line##* }" <<<'CREATE SCHEMA techmart AUTHORIZATION :"o";' || fail "could not create the schema techmart"
    fi
    q -d "$tmp" -v v="$extv" <<<"SET client_min_messages = warning; CREATE EXTENSION techmart VERSION :'v' SCHEMA techmart;" \
      || fail "cannot create the techmart extension $extv of the backup here (installed: $(q -d postgres -c "SELECT string_agg(version, ' ' ORDER BY version) FROM pg_available_extension_versions WHERE name = 'techmart'"))"
  fi
  pg_restore --exit-on-error "${list[@]}" -d "$tmp" "$work/database.dump" || fail "pg_restore failed"
  q -d "$tmp" -v db="$tmp" -f "$work/database.sql" || fail "could not apply the database's settings"

  # verification
  say "verifying $tmp against the manifest"
  local bad=0 t n got
  while IFS=$'\t' read -r t n; do
    got="$(q -d "$tmp" -c "SELECT count(*) FROM $t" 2>&1)" || got="missing ($got)"
    [ "$got" = "$n" ] || { echo "  $t: $got rows, the backup has $n" >&2; bad=1; }
  done < <(mf table "$m")
  local ext mig
  ext="$(q -d "$tmp" -c "SELECT coalesce((SELECT extversion FROM pg_extension WHERE extname = 'techmart'), '')")"
  mig="$(last_migration "$tmp")"
  [ "$ext" = "$(mf extension "$m")" ] || { echo "  techmart extension $ext, the backup has $(mf extension "$m")" >&2; bad=1; }
  [ "$mig" = "$(mf migration "$m")" ] || { echo "  last migration $mig, the backup has $(mf migration "$m")" >&2; bad=1; }
  local checks="" f
  for f in analytics.rollup_check analytics.customers_spent_check analytics.customer_months_check analytics.product_daily_check analytics.alert_counts_check techmart.entity_check; do
    [ "$(q -d "$tmp" -c "SELECT count(*) FROM pg_proc WHERE proname = split_part('$f', '.', 2) AND pronamespace::regnamespace::text = split_part('$f', '.', 1)")" != 0 ] || continue
    n="$(q -d "$tmp" -c "SELECT count(*) FROM $f()")"
    [ "$n" = 0 ] || { echo "  $f(): $n rows (must be empty)" >&2; bad=1; }
    checks+="${checks:+, }$f()"
  done
  [ $bad = 0 ] || fail "the restored database differs from the backup"

  # the swap: the new database takes the name; the old one (sessions ended, no new ones
  # meanwhile) is renamed away in the same transaction
  local old=""
  if [ "$exists" = 1 ]; then
    old="${db:0:32}_before_restore_$ts"
    q -d postgres -v d="$db" <<<'ALTER DATABASE :"d" ALLOW_CONNECTIONS false;' || fail "could not close $db to new sessions"
    local ok=0
    for _ in 1 2 3 4 5; do
      q -d postgres -v d="$db" <<<"SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity WHERE datname = :'d' AND pid <> pg_backend_pid();" >/dev/null || true
      if q -d postgres -v d="$db" -v o="$old" -v t="$tmp" \
           <<<'BEGIN; ALTER DATABASE :"d" RENAME TO :"o"; ALTER DATABASE :"t" RENAME TO :"d"; COMMIT;' 2>"$work/swap.err"; then
        ok=1; break
      fi
      sleep 1
    done
    q -d postgres -v o="$old" -v d="$db" <<<"ALTER DATABASE :\"$( [ $ok = 1 ] && echo o || echo d )\" ALLOW_CONNECTIONS true;" >/dev/null 2>&1 || true
    [ $ok = 1 ] || fail "could not swap the databases: $(cat "$work/swap.err")"
  else
    q -d postgres -v d="$db" -v t="$tmp" <<<'ALTER DATABASE :"t" RENAME TO :"d";' || fail "could not rename $tmp to $db"
  fi
  done=1
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "restored $db from $file in $((ms / 1000)).$(( (ms % 1000) / 100 )) s"
  echo "  $(mf table "$m" | wc -l) tables with the row counts of the backup; techmart extension $ext, last migration ${mig:-(none)}"
  echo "  empty: ${checks:-(no check functions)}"
  echo "  roles: ${created:+created $created; }$(mf role "$m" | wc -l) in the backup, all present"
  echo "  database settings: $(grep -c '' "$work/database.sql") statements applied"
  [ -z "$old" ] || echo "  the previous database is kept as $old (DROP DATABASE \"$old\" once satisfied)"
}

case "${1:-}" in
  backup)  shift; [ $# -ge 1 ] && [ $# -le 2 ] || fail "usage: $0 backup DB [FILE]"; do_backup "$@" ;;
  restore) shift; [ $# -ge 2 ] && [ $# -le 3 ] || fail "usage: $0 restore FILE DB [--replace]"; do_restore "$@" ;;
  *) fail "usage: $0 backup DB [FILE] | restore FILE DB [--replace]" ;;
esac
