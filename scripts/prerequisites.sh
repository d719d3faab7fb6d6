# Shared by run.sh, test.sh and .ci/run: make sure the machine has what FleetLicense needs.
# Installs missing Debian/Ubuntu packages when it may (root or passwordless sudo, and
# FLEETLICENSE_NO_INSTALL unset); otherwise says exactly what to install and stops.

say() { printf '%s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}

apt_updated=""
install_packages() {
  if [ -n "${FLEETLICENSE_NO_INSTALL:-}" ] || ! command -v apt-get >/dev/null; then return 1; fi
  if [ -z "$apt_updated" ]; then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    apt_updated=1
  fi
  say "Installing $* ..."
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_dotnet() {
  local wanted
  wanted=$(sed -n 's/.*"version": *"\([0-9]*\.[0-9]*\).*/\1/p' global.json | head -1)
  if ! command -v dotnet >/dev/null || ! dotnet --list-sdks | grep -q "^$wanted"; then
    say "The .NET $wanted SDK is required (see global.json): https://learn.microsoft.com/dotnet/core/install/linux"
    exit 1
  fi
}

postgres_bin() {
  if [ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ]; then echo "$PG_BIN"; return 0; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | while read -r d; do [ -x "$d/initdb" ] && echo "$d"; done | tail -1
}

ensure_postgres() {
  if [ -z "$(postgres_bin)" ]; then
    install_packages postgresql || true
  fi
  if [ -z "$(postgres_bin)" ]; then
    say "PostgreSQL server binaries were not found. Install them with: sudo apt-get install -y postgresql"
    say "(or set PG_BIN to the folder holding initdb and pg_ctl, or set ConnectionStrings__FleetLicense to a server)."
    exit 1
  fi
}

ensure_chromium() {
  if ! command -v chromium >/dev/null; then
    install_packages chromium || true
  fi
  if ! command -v chromium >/dev/null; then
    say "The browser tests need Chromium: sudo apt-get install -y chromium (or set FLEETLICENSE_CHROMIUM)."
    exit 1
  fi
}

# Node.js runs the OpenAPI linter (@redocly/cli, package.json), which needs Node 20.19 or later.
ensure_node() {
  if ! command -v npm >/dev/null; then
    install_packages nodejs npm || true
  fi
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' 2>/dev/null \
    || ! command -v npm >/dev/null; then
    say "The OpenAPI lint test needs Node.js 20.19 or later with npm: https://nodejs.org/en/download (found: $(node --version 2>/dev/null || echo none))."
    exit 1
  fi
}
