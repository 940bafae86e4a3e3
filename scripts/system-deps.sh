#!/usr/bin/env bash
# System packages the test suite needs: a real browser (Chromium) for the HTML report test
# and the web app tests (Playwright drives this Chromium; it never downloads one),
# PostgreSQL's server binaries (tests/pg.py starts a throwaway cluster with initdb and
# pg_ctl; Debian keeps them in /usr/lib/postgresql/<version>/bin, out of PATH), and
# Java 17 for the Spark engine.
# Idempotent: installs only what is missing. CI runs as root on Debian.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
then
  need+=(postgresql)
fi
if ! command -v java >/dev/null 2>&1; then
  # Debian 12 ships openjdk-17; newer releases only a newer default JRE (Spark 4 runs on 17+)
  if command -v apt-cache >/dev/null 2>&1 && apt-cache show openjdk-17-jre-headless >/dev/null 2>&1; then
    need+=(openjdk-17-jre-headless)
  else
    need+=(default-jre-headless)
  fi
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages: ${need[*]}"
    for attempt in 1 2 3; do
      if apt-get update -qq >/dev/null &&
         DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
           "${need[@]}" >/dev/null; then
        break
      fi
      [ "$attempt" = 3 ] && { echo "error: could not install ${need[*]}" >&2; exit 1; }
      echo "apt-get failed (attempt $attempt); retrying in 10 s" >&2
      sleep 10
    done
  else
    echo "warning: missing ${need[*]} and cannot install them (not root or no apt-get)" >&2
  fi
fi
