#!/bin/sh
# PostgreSQL's start in docker-compose.yml, as root before the image's entry point drops to the
# postgres user: the server's certificate and the superuser's password that secrets-setup made
# (/run/guichet/postgres, /run/guichet/postgres-admin) are copied where the server reads them, owned
# by postgres (it refuses a key others can read). The server speaks TLS alone over the network
# (deploy/postgres/pg_hba.conf: hostssl lines only); on its Unix socket the postgres user only.
set -eu
secrets=/run/guichet/postgres admin=/run/guichet/postgres-admin
for file in "$secrets/server.crt" "$secrets/server.key" "$admin/superuser-password"; do
  if [ ! -s "$file" ]; then
    echo "postgres: $file is missing: secrets-setup makes it (docker compose up runs it first)" >&2
    exit 1
  fi
done
tls=/var/lib/postgresql/tls
install -d -o postgres -g postgres -m 700 "$tls"
install -o postgres -g postgres -m 644 "$secrets/server.crt" "$tls/"
install -o postgres -g postgres -m 600 "$secrets/server.key" "$admin/superuser-password" "$tls/"
export POSTGRES_PASSWORD_FILE="$tls/superuser-password"
exec docker-entrypoint.sh postgres -c ssl=on -c "ssl_cert_file=$tls/server.crt" -c "ssl_key_file=$tls/server.key" \
  -c ssl_min_protocol_version=TLSv1.2 -c hba_file=/etc/guichet/pg_hba.conf "$@"
