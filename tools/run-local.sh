#!/usr/bin/env bash
# run-local.sh: the whole system on this machine, in the foreground.
#
# Starts (1) PostgreSQL: an embedded cluster under .local/pg owned by this
# checkout, or the server named by CRM_PG_ADMIN_URL; (2) one database and two
# roles (owner, runtime) per service on it; (3) crm-bus; (4) every service binary that has
# been built. Logs go to stdout prefixed with the process name and to
# .local/logs/<name>.log. Ctrl-C or SIGTERM stops the services, then the bus,
# then the embedded cluster; data is kept for the next run.
#
# A process that dies on its own is reported and the others keep running
# (restart everything with Ctrl-C and `make run`); when none is left the
# script stops the cluster and exits 1. A failure while starting up stops
# whatever was already started.
#
# Environment (all optional):
#   CRM_PG_ADMIN_URL    libpq URL of a superuser (or CREATEROLE+CREATEDB role) on an
#                       existing server: no embedded cluster; roles and databases are
#                       created there. Roles get no password: let the server
#                       authenticate them (e.g. peer/trust on its socket) or put the
#                       passwords in ~/.pgpass.
#   CRM_LOCAL_PG_PORT   port of the embedded cluster (default 54329)
#   CRM_DEMO            1 (default): load the demo data set into sales on the first
#                       run (crmctl demo load); 0: never
#   CRM_*               any service or bus setting; a value in the environment wins
#                       over the defaults below and applies to every service
# shellcheck disable=SC2317  # functions called from traps
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

BIN=$ROOT/build/bin
LOGS=$ROOT/.local/logs
SERVICES=(sales marketing support analytics webhooks)
declare -A CMD_PORT=([sales]=7410 [marketing]=7420 [support]=7430 [analytics]=7440 [webhooks]=7460)
declare -A HTTP_PORT=([sales]=9410 [marketing]=9420 [support]=9430 [analytics]=9440 [webhooks]=9460)
# crm-api, the HTTP/JSON gateway: a database of its own, a key of kind
# gateway, and not a peer of the services (it publishes no stream).
API_DB=api

say() { printf '[run-local] %s\n' "$*"; }
die() {
    printf '[run-local] error: %s\n' "$1" >&2
    [[ -n ${2:-} ]] && printf '[run-local] hint: %s\n' "$2" >&2
    exit 1
}

[[ -x $BIN/crm-bus ]] || die "$BIN/crm-bus not found" "run \`make build\` first"
mkdir -p "$LOGS"

# ---- state that cleanup needs ---------------------------------------------
PG_STARTED=0
declare -A PIDS=()   # name -> pid of everything we started and still run

s_alive() { kill -0 "$1" 2>/dev/null; }

# s_stop_procs NAME...: SIGTERM, wait up to 10 s, then SIGKILL.
s_stop_procs() {
    local name pid deadline=$((SECONDS + 10))
    for name in "$@"; do
        if [[ -n ${PIDS[$name]:-} ]]; then
            kill -TERM "${PIDS[$name]}" 2>/dev/null || true
        fi
    done
    for name in "$@"; do
        pid=${PIDS[$name]:-}
        [[ -n $pid ]] || continue
        while s_alive "$pid" && ((SECONDS < deadline)); do
            sleep 0.1
        done
        if s_alive "$pid"; then
            say "$name did not stop within 10 s of SIGTERM; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
        unset "PIDS[$name]"
    done
}

s_cleanup() {
    local rc=$?
    # Stop whatever happens, even if our stdout is gone (`make run | tee` and
    # Ctrl-C kill tee first).
    trap '' INT TERM HUP PIPE
    set +e
    local name svcs=()
    for name in "${SERVICES[@]}"; do
        [[ -n ${PIDS[$name]:-} ]] && svcs+=("$name")
    done
    if ((${#svcs[@]})); then
        say "stopping ${svcs[*]}"
        s_stop_procs "${svcs[@]}"
    fi
    if [[ -n ${PIDS[bus]:-} ]]; then
        say "stopping bus"
        s_stop_procs bus
    fi
    if [[ $PG_STARTED == 1 ]]; then
        say "stopping PostgreSQL (data kept in $PG_DATA)"
        s_as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null ||
            say "pg_ctl stop failed; see $PG_LOG"
    fi
    sleep 0.2 # let the log prefixers print the last lines
    exit "$rc"
}
trap s_cleanup EXIT
trap 'exit 0' INT TERM HUP

# ---- PostgreSQL ------------------------------------------------------------
# s_psql ARGS...: psql that stops on the first error and reads no ~/.psqlrc.
s_psql() { "$PSQL" -X -q -v ON_ERROR_STOP=1 "$@" </dev/null; }

# s_as_pg CMD...: runs CMD as the owner of the cluster, from / (the postgres
# user may not be able to enter the current directory).
s_as_pg() { (cd / && "${RUN_AS[@]}" "$@"); }

s_pg_bindir() {
    local d out
    out=$(pg_config --bindir 2>/dev/null || true)
    for d in "$out" /usr/lib/postgresql/15/bin; do
        if [[ -n $d && -x $d/initdb && -x $d/pg_ctl ]]; then
            echo "$d"
            return 0
        fi
    done
    return 1
}

# Picks PG_BASE (data, socket and log of the embedded cluster). The checkout
# is used unless the postgres user cannot reach it or the socket path would
# be too long for a unix socket; then a directory under /var/tmp named after
# the checkout's path.
s_pg_base() {
    PG_BASE=$ROOT/.local/pg
    local why=""
    if [[ ${#PG_BASE} -gt 80 ]]; then
        why="the path is too long for a unix socket"
    elif [[ $(id -u) == 0 ]] && ! runuser -u postgres -- test -x "$ROOT/."; then
        why="the postgres user cannot reach $ROOT"
    fi
    if [[ -n $why ]]; then
        local hash
        hash=$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
        mkdir -p "/var/tmp/crm-$hash"
        if [[ $(stat -c %u "/var/tmp/crm-$hash") != $(id -u) ]]; then
            die "/var/tmp/crm-$hash belongs to another user" "remove it or run as its owner"
        fi
        PG_BASE=/var/tmp/crm-$hash/pg
        say "$why: the database lives in $PG_BASE"
    fi
}

s_embedded_pg() {
    PG_BIN=$(s_pg_bindir) ||
        die "PostgreSQL server programs (initdb, pg_ctl) not found" "run \`make deps\` (installs postgresql-15)"
    PSQL=$PG_BIN/psql
    PG_PORT=${CRM_LOCAL_PG_PORT:-54329}
    RUN_AS=()
    if [[ $(id -u) == 0 ]]; then
        # initdb refuses to run as root: the cluster belongs to postgres.
        id postgres >/dev/null 2>&1 || die "user postgres does not exist" "install postgresql-15"
        RUN_AS=(runuser -u postgres --)
    fi
    s_pg_base
    PG_DATA=$PG_BASE/data
    PG_RUN=$PG_BASE/run
    PG_LOG=$PG_BASE/postgresql.log
    mkdir -p "$PG_BASE" "$PG_RUN"
    chmod 0700 "$PG_BASE" "$PG_RUN"
    if [[ $(id -u) == 0 ]]; then
        chown postgres: "$PG_BASE" "$PG_RUN"
    fi

    if [[ ! -f $PG_DATA/PG_VERSION ]]; then
        if [[ -e $PG_DATA ]] && [[ -n $(ls -A "$PG_DATA" 2>/dev/null) ]]; then
            die "$PG_DATA exists but holds no cluster" "remove it to start afresh"
        fi
        say "creating the PostgreSQL cluster in $PG_DATA (first run only)"
        local out
        # trust on the private socket (directory mode 0700), passwords over TCP
        if ! out=$(s_as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U postgres -E UTF8 \
            --locale=C.UTF-8 --auth-local=trust --auth-host=scram-sha-256 2>&1); then
            printf '%s\n' "$out" >&2
            die "initdb failed"
        fi
        local sock=${PG_RUN//\'/\'\'}
        s_as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null <<EOF

# tools/run-local.sh: only loopback and the private socket directory
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
unix_socket_permissions = 0700
EOF
    fi

    if s_as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1; then
        say "PostgreSQL is already running on $PG_DATA (left from an earlier run); using it"
        PG_PORT=$(sed -n 4p "$PG_DATA/postmaster.pid")
    else
        if ! s_as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
            -o "-p $PG_PORT" start >/dev/null; then
            tail -n 5 "$PG_LOG" >&2 || true
            die "PostgreSQL did not start (log: $PG_LOG)" \
                "is port $PG_PORT taken? set CRM_LOCAL_PG_PORT to another port"
        fi
    fi
    PG_STARTED=1
    PG_HOST=$PG_RUN
    ADMIN=(-h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres)
    PG_WHERE="embedded PostgreSQL, data $PG_DATA, socket $PG_RUN, 127.0.0.1:$PG_PORT (log $PG_LOG)"
}

s_external_pg() {
    PSQL=$(command -v psql) || die "psql not found" "run \`make deps\` (installs postgresql-client-15)"
    ADMIN=("$CRM_PG_ADMIN_URL")
    local where
    where=$(s_psql "${ADMIN[@]}" -At -c '\echo :HOST :PORT') ||
        die "could not connect with CRM_PG_ADMIN_URL" "check the URL with: psql \"\$CRM_PG_ADMIN_URL\""
    PG_HOST=${where% *}
    PG_PORT=${where##* }
    PG_WHERE="PostgreSQL at $PG_HOST:$PG_PORT (CRM_PG_ADMIN_URL)"
}

# Per service, a database and two roles (docs/operations.md, "Database
# roles"): crm_<svc>_owner owns the database and its schema and applies the
# migrations (CRM_PG_MIGRATE_USER); crm_<svc>, the role the service runs as,
# reads and writes rows, which the migrations grant it. Neither may create
# roles or databases nor connect to another service's database. A database
# from before the owner role existed (owned by crm_<svc>) is handed over to
# it once.
s_provision() {
    local svc sql="" attrs="LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    for svc in "${SERVICES[@]}" ${API_DB:-}; do
        sql+="SELECT 'CREATE ROLE crm_$svc $attrs'
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_$svc') \\gexec
SELECT 'CREATE ROLE crm_${svc}_owner $attrs'
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'crm_${svc}_owner') \\gexec
SELECT 'CREATE DATABASE crm_$svc OWNER crm_${svc}_owner'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'crm_$svc') \\gexec
SELECT 'ALTER DATABASE crm_$svc OWNER TO crm_${svc}_owner' FROM pg_database
  WHERE datname = 'crm_$svc' AND datdba <> 'crm_${svc}_owner'::regrole \\gexec
REVOKE ALL ON DATABASE crm_$svc FROM PUBLIC;
GRANT CONNECT ON DATABASE crm_$svc TO crm_$svc;
"
    done
    for svc in "${SERVICES[@]}" ${API_DB:-}; do
        sql+="\\connect crm_$svc
SELECT 'REASSIGN OWNED BY crm_$svc TO crm_${svc}_owner'
  WHERE EXISTS (SELECT 1 FROM pg_class WHERE relowner = 'crm_$svc'::regrole)
     OR EXISTS (SELECT 1 FROM pg_proc WHERE proowner = 'crm_$svc'::regrole) \\gexec
"
    done
    if [[ -z ${CRM_PG_ADMIN_URL:-} ]]; then
        # Our own cluster: the service roles reach no other database either.
        sql+="REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC;
"
    fi
    printf '%s' "$sql" | "$PSQL" -X -q -v ON_ERROR_STOP=1 "${ADMIN[@]}" -f - >/dev/null ||
        die "could not create the service roles and databases"
}

s_pg_url() {
    local host=$PG_HOST
    [[ $host == *' '* ]] && host="'$host'"
    printf 'host=%s port=%s user=crm_%s dbname=crm_%s' "$host" "$PG_PORT" "$1" "$1"
}

if [[ -n ${CRM_PG_ADMIN_URL:-} ]]; then
    s_external_pg
else
    s_embedded_pg
fi
s_provision

# ---- processes ---------------------------------------------------------------
# s_start NAME CMD...: runs CMD in the background in its own session, so
# that Ctrl-C reaches only this script, which then stops the services before
# the bus and the bus before the database. Its output goes to the terminal
# prefixed with [NAME] and to $LOGS/NAME.log; the prefixer ignores SIGINT so
# that it prints the last lines of a process stopping on Ctrl-C.
s_start() {
    local name=$1
    shift
    local log=$LOGS/$name.log
    printf '{"time":"%s","level":"info","service":"run-local","event":"run-local.start","msg":"starting %s"}\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)" "$name" >>"$log"
    setsid "$@" </dev/null > >(
        trap '' INT
        tee -a "$log" | sed -u "s/^/[$name] /"
    ) 2>&1 &
    PIDS[$name]=$!
}

# tcp://*:7400 (a bind address) -> tcp://127.0.0.1:7400 (one to connect to)
s_connectable() { sed -e 's#://\*:#://127.0.0.1:#' -e 's#://0\.0\.0\.0:#://127.0.0.1:#' <<<"$1"; }

XSUB_BIND=${CRM_BUS_XSUB_BIND:-tcp://127.0.0.1:7400}
XPUB_BIND=${CRM_BUS_XPUB_BIND:-tcp://127.0.0.1:7401}
PUB_EP=${CRM_BUS_PUB_ENDPOINT:-$(s_connectable "$XSUB_BIND")}
SUB_EP=${CRM_BUS_SUB_ENDPOINT:-$(s_connectable "$XPUB_BIND")}

# ---- keys ----------------------------------------------------------------------
# Every link speaks CURVE. The first run makes a keypair for the bus and each
# service under .local/keys, one for you (the local user, an admin) where
# crmctl looks by default ($XDG_CONFIG_HOME/crm/key, i.e. ~/.config/crm/key),
# and the directory of principals listing them (.local/keys/directory, linked
# from ~/.config/crm/directory when that is free). Later runs reuse them; add
# people or teams by editing the directory (docs/operations.md), no restart:
# `kill -HUP` the processes, or Ctrl-C and `make run`.
KEYS=${CRM_LOCAL_KEYS:-$ROOT/.local/keys}
USER_CONF=${XDG_CONFIG_HOME:-$HOME/.config}/crm
DIRECTORY=$KEYS/directory
[[ -x $BIN/crm-keys ]] || die "$BIN/crm-keys not found" "run \`make build\` first"
mkdir -p "$KEYS" "$USER_CONF"
chmod 700 "$KEYS"
s_key() { # s_key NAME DIR: makes DIR/NAME.key once; prints its public key
    [[ -e $2/$1.key ]] || "$BIN/crm-keys" new "$1" --dir "$2" >/dev/null
    "$BIN/crm-keys" public "$2/$1.key"
}
ME=${USER:-$(id -un)}
{
    echo "# The directory of principals of \`make run\` (docs/operations.md)."
    echo "# public-key                              name  kind  teams  roles"
    for name in bus "${SERVICES[@]}"; do
        printf '%s %s service - -\n' "$(s_key "$name" "$KEYS")" "$name"
    done
    printf '%s api gateway - gateway\n' "$(s_key api "$KEYS")"
    printf '%s %s staff - admin\n' "$(s_key key "$USER_CONF")" "$ME"
} >"$DIRECTORY.new"
# Keep principals added by hand: rewrite only the generated lines.
if [[ -e $DIRECTORY ]]; then
    grep -v -F -f <(awk '!/^#/ {print $1}' "$DIRECTORY.new") "$DIRECTORY" |
        grep -v '^# The directory of principals of\|^# public-key' >>"$DIRECTORY.new" || true
fi
mv "$DIRECTORY.new" "$DIRECTORY"
[[ -e $USER_CONF/directory ]] || ln -s "$DIRECTORY" "$USER_CONF/directory"
export CRM_DIRECTORY_FILE=${CRM_DIRECTORY_FILE:-$DIRECTORY}
say "keys in $KEYS; you are \"$ME\" (admin), key $USER_CONF/key"

s_start bus env CRM_BUS_XSUB_BIND="$XSUB_BIND" CRM_BUS_XPUB_BIND="$XPUB_BIND" \
    CRM_KEY_FILE="$KEYS/bus.key" "$BIN/crm-bus"
deadline=$((SECONDS + 10))
until CRM_BUS_XPUB_BIND="$XPUB_BIND" "$BIN/crm-bus" healthcheck 2>/dev/null; do
    s_alive "${PIDS[bus]}" || die "crm-bus exited while starting (log: $LOGS/bus.log)" \
        "is another \`make run\` using ports 7400/7401/9400?"
    ((SECONDS < deadline)) || die "crm-bus is not ready (its /readyz on port ${CRM_HTTP_PORT:-9400})"
    sleep 0.1
done

peers=""
for svc in "${SERVICES[@]}"; do
    peers+="${peers:+,}$svc=tcp://127.0.0.1:${CMD_PORT[$svc]}"
done
PEERS=${CRM_PEERS:-$peers}

started=()
for svc in "${SERVICES[@]}"; do
    [[ -x $BIN/crm-$svc ]] || continue
    s_start "$svc" env \
        CRM_PG_URL="${CRM_PG_URL:-$(s_pg_url "$svc")}" \
        CRM_PG_MIGRATE_USER="${CRM_PG_MIGRATE_USER-crm_${svc}_owner}" \
        CRM_BIND="${CRM_BIND:-tcp://127.0.0.1:${CMD_PORT[$svc]}}" \
        CRM_HTTP_PORT="${CRM_HTTP_PORT:-${HTTP_PORT[$svc]}}" \
        CRM_BUS_PUB_ENDPOINT="$PUB_EP" \
        CRM_BUS_SUB_ENDPOINT="$SUB_EP" \
        CRM_PEERS="$PEERS" \
        CRM_KEY_FILE="$KEYS/$svc.key" \
        "$BIN/crm-$svc"
    started+=("$svc")
done

if [[ -x $BIN/crm-api ]]; then
    s_start api env \
        CRM_PG_URL="${CRM_PG_URL:-$(s_pg_url api)}" \
        CRM_PG_MIGRATE_USER="${CRM_PG_MIGRATE_USER-crm_api_owner}" \
        CRM_BIND="tcp://127.0.0.1:7470" \
        CRM_HTTP_PORT="9470" \
        CRM_BUS_PUB_ENDPOINT="$PUB_EP" \
        CRM_BUS_SUB_ENDPOINT="$SUB_EP" \
        CRM_PEERS="$PEERS" \
        CRM_KEY_FILE="$KEYS/api.key" \
        API_PORT="${API_PORT:-8080}" \
        API_SECURE_COOKIE="${API_SECURE_COOKIE:-false}" \
        API_WEB_DIR="${API_WEB_DIR:-$ROOT/build/web}" \
        "$BIN/crm-api"
fi

# ---- banner ----------------------------------------------------------------
{
    echo "[run-local] ------------------------------------------------------------------"
    echo "[run-local] bus        publishers connect to $PUB_EP, subscribers to $SUB_EP"
    for svc in "${SERVICES[@]}"; do
        if [[ -n ${PIDS[$svc]:-} ]]; then
            state="commands ${CRM_BIND:-tcp://127.0.0.1:${CMD_PORT[$svc]}}, http port ${CRM_HTTP_PORT:-${HTTP_PORT[$svc]}}"
        else
            state="not built yet (no build/bin/crm-$svc)"
        fi
        printf '[run-local] %-10s %s\n' "$svc" "$state"
    done
    if [[ -n ${PIDS[api]:-} ]]; then
        echo "[run-local] api        http://127.0.0.1:${API_PORT:-8080}/v1/ (commands tcp://127.0.0.1:7470, http port 9470);"
        echo "[run-local]            a token for you: build/bin/crmctl token create $ME"
        echo "[run-local]            the dashboard: http://127.0.0.1:${API_PORT:-8080}/ (crmctl staff password $ME)"
    fi
    echo "[run-local] database   $PG_WHERE"
    echo "[run-local]            one role and database per service: crm_sales, crm_marketing, ..."
    echo "[run-local] logs       $LOGS/<name>.log"
    echo "[run-local] watch the system from another terminal:"
    echo "[run-local]   export CRM_SERVICES=${CRM_SERVICES:-$PEERS}"
    if [[ $SUB_EP != tcp://127.0.0.1:7401 ]]; then
        echo "[run-local]   export CRM_BUS_SUB_ENDPOINT=$SUB_EP"
    fi
    echo "[run-local]   build/bin/crmctl tail --from beginning"
    echo "[run-local]   build/bin/crmctl status"
    echo "[run-local] Ctrl-C stops everything; the data is kept for the next run."
    echo "[run-local] ------------------------------------------------------------------"
}

# ---- demo data -----------------------------------------------------------------
# The first run with crm-sales loads a demo data set (crmctl demo load) so that
# a newcomer sees people, deals and activities at once, and, when crm-support
# runs too, a help desk with tickets from the same customers; CRM_DEMO=0 skips
# it. The marker sits beside the database: a new database gets the demo again.
# Loading is idempotent, so a run stopped half-way simply loads again.
DEMO_MARKER=${PG_BASE:-$ROOT/.local}/demo-loaded
if [[ ${CRM_DEMO:-1} != 0 && -n ${PIDS[sales]:-} && ! -e $DEMO_MARKER && -x $BIN/crmctl ]]; then
    demo_services="sales=$(s_connectable "${CRM_BIND:-tcp://127.0.0.1:${CMD_PORT[sales]}}")"
    demo_wait=(sales)
    if [[ -n ${PIDS[support]:-} ]]; then
        demo_services+=",support=$(s_connectable "${CRM_BIND:-tcp://127.0.0.1:${CMD_PORT[support]}}")"
        demo_wait+=(support)
    fi
    demo_ready=1
    deadline=$((SECONDS + 60))
    for svc in "${demo_wait[@]}"; do
        ready=0
        while s_alive "${PIDS[$svc]}" && ((SECONDS < deadline)); do
            out=$("$BIN/crmctl" --services "$demo_services" status --service "$svc" -o json \
                2>/dev/null || true)
            if [[ $out == *'"ready":true'* ]]; then
                ready=1
                break
            fi
            sleep 0.5
        done
        ((ready)) || demo_ready=0
    done
    if ((demo_ready == 0)); then
        say "${demo_wait[*]} did not report ready within 60 s: no demo data loaded (tried again next run)"
    elif "$BIN/crmctl" --services "$demo_services" demo load | sed -u 's/^/[run-local] /'; then
        touch "$DEMO_MARKER"
        say "see the demo data from another terminal (CRM_DEMO=0 skips loading it):"
        say "  build/bin/crmctl person list"
        say "  build/bin/crmctl deal list --status open"
        say "  build/bin/crmctl activity list --overdue"
        if [[ -n ${PIDS[support]:-} ]]; then
            say "  build/bin/crmctl ticket list"
        fi
    else
        say "loading the demo data failed (see above); it is tried again on the next run"
    fi
fi

# ---- supervise ---------------------------------------------------------------
# Signals interrupt `wait`; the INT/TERM trap exits and s_cleanup stops all.
while ((${#PIDS[@]})); do
    died=""
    rc=0
    wait -n -p died "${PIDS[@]}" || rc=$?
    [[ -n $died ]] || continue
    for name in "${!PIDS[@]}"; do
        if [[ ${PIDS[$name]} == "$died" ]]; then
            unset "PIDS[$name]"
            say "$name exited unexpectedly with status $rc (log: $LOGS/$name.log)"
            ((${#PIDS[@]} == 0)) || say "the others keep running; Ctrl-C stops them"
        fi
    done
done
say "no process is left running"
exit 1
