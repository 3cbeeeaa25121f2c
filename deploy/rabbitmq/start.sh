#!/bin/sh
# RabbitMQ's start in docker-compose.yml, as root before the server drops to the rabbitmq user: the
# secrets secrets-setup made (/run/guichet/rabbitmq: the Erlang cookie, the server's certificate;
# /run/guichet/broker-admin: the administrator's password) are copied where the server reads them,
# owned by rabbitmq; the Erlang cookie goes to its .erlang.cookie (0400), never on a command line.
# The administrator of its own replaces guest, which is never created; the only AMQP listener is
# TLS (5671), and every client shows a certificate of the stack's authority.
set -eu
secrets=/run/guichet/rabbitmq admin=/run/guichet/broker-admin
for file in "$secrets/erlang.cookie" "$secrets/server.crt" "$secrets/server.key" "$secrets/ca.crt" "$admin/password"; do
  if [ ! -s "$file" ]; then
    echo "rabbitmq: $file is missing: secrets-setup makes it (docker compose up runs it first)" >&2
    exit 1
  fi
done
home=${HOME:-/var/lib/rabbitmq}
install -d -o rabbitmq -g rabbitmq -m 700 /etc/rabbitmq/tls "$home"
install -o rabbitmq -g rabbitmq -m 400 "$secrets/erlang.cookie" "$home/.erlang.cookie"
install -o rabbitmq -g rabbitmq -m 644 "$secrets/server.crt" "$secrets/ca.crt" /etc/rabbitmq/tls/
install -o rabbitmq -g rabbitmq -m 600 "$secrets/server.key" /etc/rabbitmq/tls/
mkdir -p /etc/rabbitmq/conf.d
(umask 077 && cat > /etc/rabbitmq/conf.d/90-guichet.conf <<CONF
default_user = guichet-admin
default_pass = $(cat "$admin/password")
default_user_tags.administrator = true
listeners.tcp = none
listeners.ssl.default = 5671
ssl_options.cacertfile = /etc/rabbitmq/tls/ca.crt
ssl_options.certfile = /etc/rabbitmq/tls/server.crt
ssl_options.keyfile = /etc/rabbitmq/tls/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = true
ssl_options.versions.1 = tlsv1.3
ssl_options.versions.2 = tlsv1.2
# Half of the container's memory limit (docker-compose.yml): the broker slows publishers down
# before the kernel kills it.
vm_memory_high_watermark.absolute = ${GUICHET_RABBITMQ_MEMORY_WATERMARK:-536870912}
CONF
)
chown rabbitmq:rabbitmq /etc/rabbitmq/conf.d/90-guichet.conf
exec setpriv --reuid=rabbitmq --regid=rabbitmq --init-groups rabbitmq-server
