#!/bin/sh
# Gives the supervision console what it needs before its first start, once: the key its sessions'
# CSRF tokens are signed with, and a first administrator (`admin`) with a random password, both in
# /console-secrets readable by the services' user alone. A second run keeps both and changes nothing.
# Runs in the guichet image, with the store's URL in GUICHET_CONSOLE_STORE.
set -eu
umask 077
if [ ! -s /console-secrets/session-secret ]; then
  od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > /console-secrets/session-secret.new
  mv /console-secrets/session-secret.new /console-secrets/session-secret
fi
if [ ! -s /console-secrets/admin-password ]; then
  od -An -N18 -tx1 /dev/urandom | tr -d ' \n' > /console-secrets/admin-password.new
  guichet console account add admin --name "Administrateur de la console" --role administrateur \
    --store "$GUICHET_CONSOLE_STORE" < /console-secrets/admin-password.new
  mv /console-secrets/admin-password.new /console-secrets/admin-password
fi
echo "console-setup: session key and the account admin ready"
