#!/bin/sh
# Gives each agency its own PostgreSQL account, owner of the agency's schema in the `guichet`
# database and allowed nothing else, and writes that account's password to
# /register-secrets/<agency>.pgpass (libpq's password file, PGPASSFILE), readable by the services'
# user alone. A second run keeps the passwords and changes nothing.
# Runs in the postgres image, as the superuser, against PGHOST/PGDATABASE over TLS: the password
# and the stack's authority are the ones secrets-setup wrote to /run/guichet/postgres-admin.
set -eu
admin=/run/guichet/postgres-admin
for file in "$admin/superuser-password" "$admin/ca.crt"; do
  if [ ! -s "$file" ]; then
    echo "register-setup: $file is missing: secrets-setup makes it (docker compose up runs it first)" >&2
    exit 1
  fi
done
PGPASSWORD=$(cat "$admin/superuser-password")
export PGUSER="${POSTGRES_USER:-postgres}" PGPASSWORD PGSSLMODE=verify-full PGSSLROOTCERT="$admin/ca.crt"
owner="${GUICHET_UID:-10001}"   # the `guichet` user of the services' image

psql -v ON_ERROR_STOP=1 -q -v database="$PGDATABASE" <<'SQL'
-- Nobody but the accounts granted below connects, creates schemas or writes in `public`.
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
SQL

for agency in ofii smoe consulat prefecture; do
  file="/register-secrets/$agency.pgpass"
  if [ ! -s "$file" ]; then
    password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    (umask 077 && printf '*:*:%s:%s:%s\n' "$PGDATABASE" "$agency" "$password" > "$file.new")
    mv "$file.new" "$file"
  fi
  chown "$owner:$owner" "$file"
  chmod 600 "$file"
  password=$(cut -d: -f5 "$file")
  psql -v ON_ERROR_STOP=1 -q -v agency="$agency" -v password="$password" -v database="$PGDATABASE" <<'SQL'
SELECT format('CREATE ROLE %I', :'agency') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'agency')
\gexec
ALTER ROLE :"agency" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
GRANT CONNECT ON DATABASE :"database" TO :"agency";
CREATE SCHEMA IF NOT EXISTS :"agency" AUTHORIZATION :"agency";
ALTER SCHEMA :"agency" OWNER TO :"agency";
SQL
  echo "register-setup: $agency owns schema $agency of $PGDATABASE"
done

# The supervision service has a database of its own (`supervision`), owned by its own account: it
# never has an account on the agencies' schemas, and they none on its store.
file=/register-secrets/supervision.pgpass
if [ ! -s "$file" ]; then
  password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
  (umask 077 && printf '*:*:supervision:supervision:%s\n' "$password" > "$file.new")
  mv "$file.new" "$file"
fi
chown "$owner:$owner" "$file"
chmod 600 "$file"
password=$(cut -d: -f5 "$file")
psql -v ON_ERROR_STOP=1 -q -v password="$password" <<'SQL'
SELECT 'CREATE ROLE supervision' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'supervision')
\gexec
ALTER ROLE supervision WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
SELECT 'CREATE DATABASE supervision OWNER supervision' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'supervision')
\gexec
REVOKE ALL ON DATABASE supervision FROM PUBLIC;
GRANT CONNECT, CREATE ON DATABASE supervision TO supervision;
SQL
echo "register-setup: supervision owns the database supervision"
