# Shared by scripts/bottlecrm-up, scripts/bottlecrm-down and the helpers in
# scripts/bottlecrm/. Sourced, not run. See docs/connectors/bottlecrm-server.md.

BCRM_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${OUTPOST_BOTTLECRM_DIR:-$HOME/.cache/outpost-bottlecrm}
PG_PORT=${OUTPOST_BOTTLECRM_PG_PORT:-55432}
PORT=${OUTPOST_BOTTLECRM_PORT:-58000}
URL="http://127.0.0.1:$PORT"
GUNICORN_PID=$DIR/run/gunicorn.pid
BCRM_T0=$SECONDS

log() { printf 'bottlecrm [%3ss]: %s\n' "$((SECONDS - BCRM_T0))" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
# Exit 3: this machine cannot run BottleCRM; a test suite should skip, loudly.
unavailable() {
  printf '\nbottlecrm: SKIP (exit 3): %s\n\n' "$*" >&2
  exit 3
}
# die, printing the tail of a log first.
die_log() {
  local file=$1; shift
  if [[ -f $file ]]; then
    printf -- '---- last 40 lines of %s ----\n' "$file" >&2
    tail -n 40 "$file" >&2 || true
    printf -- '----\n' >&2
  fi
  die "$*"
}

# The PostgreSQL binaries: $OUTPOST_BOTTLECRM_PG_BIN, else the newest
# /usr/lib/postgresql/N/bin (Debian). Sets PG_BIN or returns 1.
find_pg_bin() {
  PG_BIN=${OUTPOST_BOTTLECRM_PG_BIN:-}
  if [[ -z $PG_BIN ]]; then
    local d
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
      [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres ]] && PG_BIN=$d
    done
  fi
  [[ -n $PG_BIN && -x $PG_BIN/pg_ctl ]]
}

# PostgreSQL refuses to run as root. As root, the cluster belongs to the
# `postgres` OS user (Debian's postgresql package creates it); otherwise it
# belongs to the calling user. as_pg runs a command as that user.
pg_os_user() { if [[ $(id -u) -eq 0 ]]; then echo postgres; else id -un; fi; }
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Where the cluster lives: $DIR/pg, or where that symlink points (as root,
# when the postgres user cannot reach $DIR, e.g. under /root).
pg_base() {
  if [[ -L $DIR/pg ]]; then readlink "$DIR/pg"; else echo "$DIR/pg"; fi
}
set_pg_paths() {
  PG_BASE=$(pg_base)
  PGDATA_DIR=$PG_BASE/data
  PG_SOCK=$PG_BASE/run
  PG_LOG=$PG_BASE/postgres.log
}

pg_running() {
  [[ -f $PGDATA_DIR/PG_VERSION ]] && as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

# True if something accepts TCP connections on 127.0.0.1:$1.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The gunicorn master's pid if our pid file names a live gunicorn, else nothing.
gunicorn_pid() {
  local pid
  [[ -f $GUNICORN_PID ]] || return 1
  pid=$(tr -dc '0-9' <"$GUNICORN_PID")
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q gunicorn || return 1
  echo "$pid"
}

healthy() {
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$URL/healthz/" 2>/dev/null) == 200 ]]
}

# Exports the settings BottleCRM reads (crm/settings.py reads os.environ only).
load_env() {
  [[ -f $DIR/env.sh ]] || die "$DIR/env.sh is missing: run scripts/bottlecrm-up first"
  # shellcheck disable=SC1091
  . "$DIR/env.sh"
}
