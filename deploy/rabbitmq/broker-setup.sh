#!/bin/sh
# broker-setup in docker-compose.yml: `guichet broker setup` as the administrator of the stack's
# own (guichet-admin, whose password secrets-setup wrote to /run/guichet/broker-admin), over TLS
# with its client certificate; the password goes in the environment, never on a command line.
# A broker whose data predates it may still have `guest`: it is deleted. Arguments are passed on
# to `guichet broker setup`.
set -eu
admin=/run/guichet/broker-admin
for file in "$admin/password" "$admin/ca.crt" "$admin/client.crt" "$admin/client.key"; do
  if [ ! -s "$file" ]; then
    echo "broker-setup: $file is missing: secrets-setup makes it (docker compose up runs it first)" >&2
    exit 1
  fi
done
password=$(cat "$admin/password")
export GUICHET_BROKER_ADMIN_URL="amqps://guichet-admin:$password@${GUICHET_BROKER_HOST:-rabbitmq}:5671//"
export GUICHET_MANAGEMENT_URL="http://guichet-admin:$password@${GUICHET_BROKER_HOST:-rabbitmq}:15672/"
python - <<'PY'
import base64, os, urllib.error, urllib.parse, urllib.request
url = urllib.parse.urlsplit(os.environ["GUICHET_MANAGEMENT_URL"])
token = base64.b64encode(f"{url.username}:{url.password}".encode()).decode()
request = urllib.request.Request(
    f"http://{url.hostname}:{url.port}/api/users/guest", method="DELETE", headers={"Authorization": f"Basic {token}"}
)
try:
    urllib.request.urlopen(request, timeout=30)
    print("broker-setup: the guest account is deleted")
except urllib.error.HTTPError as exc:
    if exc.code != 404:
        raise
PY
exec guichet broker setup --tls-ca "$admin/ca.crt" --tls-cert "$admin/client.crt" --tls-key "$admin/client.key" "$@"
