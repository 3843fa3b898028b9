# Sourced by scripts/test and scripts/bench: start_postgres starts a throwaway PostgreSQL cluster
# on 127.0.0.1 (installing Debian's package when missing and root), stops it on exit, and exports
# SCAFFOLD_TEST_PG_URL. Needs `log` defined by the caller; a caller with its own EXIT trap calls
# stop_postgres from it.

find_pg_bin() {
  local d
  for d in "$(command -v pg_config >/dev/null 2>&1 && pg_config --bindir || true)" /usr/lib/postgresql/*/bin /usr/local/bin; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  return 1
}

start_postgres() {
  # Globals: the EXIT trap needs them.
  if ! pg_bin=$(find_pg_bin); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing PostgreSQL from Debian's packages"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      pg_bin=$(find_pg_bin)
    else
      echo "PostgreSQL is not installed. Install it (Debian/Ubuntu: sudo apt-get install postgresql)," >&2
      echo "or set SCAFFOLD_TEST_PG_URL to a server where the user may create databases." >&2
      exit 1
    fi
  fi
  local port=${SCAFFOLD_TEST_PG_PORT:-54329}
  # Skip ports something else is listening on.
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  pgdir=$(mktemp -d /tmp/scaffold-pg.XXXXXX)
  pg_run=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$pgdir"
    pg_run=(runuser -u postgres --)
  fi
  log "starting a throwaway PostgreSQL ($("$pg_bin/postgres" --version)) on 127.0.0.1:$port"
  "${pg_run[@]}" "$pg_bin/initdb" -D "$pgdir/data" -U postgres -A trust --no-sync >/dev/null
  "${pg_run[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null
  trap stop_postgres EXIT
  export SCAFFOLD_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
}


stop_postgres() {
  [ -n "${pgdir:-}" ] || return 0
  "${pg_run[@]}" "$pg_bin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
  pgdir=
}
