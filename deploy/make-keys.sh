#!/bin/sh
# make-keys.sh: the CURVE keypairs of the bus and the services for docker
# compose, and the directory of principals listing them.
#
#   deploy/make-keys.sh [CRM_KEYS_PROGRAM]
#
# Writes deploy/secrets/<name>_key for bus, sales, marketing, support,
# analytics, bridge (crm-bridge-nats, profile "nats"), webhooks and api (crm-api, kind
# gateway: it acts for the staff behind its HTTP callers); an existing key is
# kept, so rerunning is harmless; and adds their public keys to
# deploy/principals/directory, keeping every other line.
# CRM_KEYS_PROGRAM is crm-keys (default: build/bin/crm-keys, else crm-keys on
# PATH, e.g. inside the image:
#   docker compose run --rm --no-deps -v "$PWD/deploy:/deploy" --entrypoint /deploy/make-keys.sh bus crm-keys
# ). The key files get mode 0644 so the containers can read them: keep
# deploy/secrets itself at mode 0700.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
keys=${1:-}
if [ -z "$keys" ]; then
    if [ -x "$here/../build/bin/crm-keys" ]; then keys=$here/../build/bin/crm-keys; else keys=crm-keys; fi
fi
dir=$here/principals/directory
mkdir -p "$here/secrets" "$here/principals"
[ -e "$dir" ] || printf '# public-key name kind teams roles (docs/operations.md)\n' >"$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for name in bus sales marketing support analytics bridge webhooks api; do
    key=$here/secrets/${name}_key
    if [ ! -e "$key" ]; then
        "$keys" new "$name" --dir "$tmp" >/dev/null
        mv "$tmp/$name.key" "$key"
        chmod 0644 "$key"
    fi
    pub=$("$keys" public "$key")
    kind=service roles=-
    # crm-api's own role, gateway, lets it pass on tracking links.
    [ "$name" = api ] && kind=gateway roles=gateway
    grep -q -F "$pub" "$dir" || printf '%s %s %s - %s\n' "$pub" "$name" "$kind" "$roles" >>"$dir"
done
echo "keys in $here/secrets, directory $dir"
