#!/usr/bin/env bash
# Installs the servers the call and stack tests run: LiveKit, built from its Go module at the
# version compose.yaml pins; Caddy with the layer4 module, built with xcaddy at the versions
# the Dockerfile's caddy stage pins; and coturn from Debian (the package the stack's coturn
# image installs). Skips what is installed already at the right version. Run once on a
# developer machine (CI runs it from .ci/run):
#   bash scripts/install_media.sh
# LiveKit lands in $URBANIA_TOOLS (default ~/.local/share/urbania)/livekit-<version>/server and
# Caddy in $URBANIA_TOOLS/caddy-<version>-l4-<version>/caddy, where tests/media.ts looks.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "install_media: $*" >&2
  exit 1
}

# The one pin: compose.yaml's LiveKit image tag.
version=$(sed -nE 's|^\s*image: livekit/livekit-server:(v[0-9.]+)\s*$|\1|p' compose.yaml)
[ -n "$version" ] || fail "compose.yaml names no livekit/livekit-server:vX.Y.Z image"
tools="${URBANIA_TOOLS:-$HOME/.local/share/urbania}"
bin="$tools/livekit-$version/server"

if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "${version#v}"; then
  echo "LiveKit $version: installed ($bin)"
else
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || fail "LiveKit $version needs the Go toolchain (1.26) to build; none found"
  echo "LiveKit $version: building from its Go module (a few minutes the first time)"
  mkdir -p "$(dirname "$bin")"
  GOBIN="$(dirname "$bin")" GOFLAGS=-mod=mod "$go" install \
    "github.com/livekit/livekit-server/cmd/server@$version" ||
    fail "could not build LiveKit $version (go install github.com/livekit/livekit-server/cmd/server@$version)"
  "$bin" --version >/dev/null || fail "the LiveKit binary built at $bin does not run"
  echo "LiveKit $version: installed ($bin)"
fi

# Caddy with layer4: the pins are the Dockerfile's ARGs.
caddy_version=$(sed -nE 's/^ARG CADDY_VERSION=(v[0-9.]+)\s*$/\1/p' Dockerfile)
l4_version=$(sed -nE 's/^ARG CADDY_L4_VERSION=(v[0-9.]+)\s*$/\1/p' Dockerfile)
[ -n "$caddy_version" ] && [ -n "$l4_version" ] ||
  fail "the Dockerfile pins no CADDY_VERSION / CADDY_L4_VERSION"
caddy_bin="$tools/caddy-$caddy_version-l4-$l4_version/caddy"
if [ -x "$caddy_bin" ] && "$caddy_bin" list-modules 2>/dev/null | grep -q '^layer4$'; then
  echo "Caddy $caddy_version with layer4 $l4_version: installed ($caddy_bin)"
else
  go=$(command -v go || echo /usr/local/go/bin/go)
  [ -x "$go" ] || fail "Caddy needs the Go toolchain (1.26) to build; none found"
  echo "Caddy $caddy_version with layer4 $l4_version: building with xcaddy (a minute or two)"
  xcaddy_dir="$tools/xcaddy-v0.4.5"
  if [ ! -x "$xcaddy_dir/xcaddy" ]; then
    mkdir -p "$xcaddy_dir"
    GOBIN="$xcaddy_dir" "$go" install github.com/caddyserver/xcaddy/cmd/xcaddy@v0.4.5 ||
      fail "could not install xcaddy (go install github.com/caddyserver/xcaddy/cmd/xcaddy@v0.4.5)"
  fi
  mkdir -p "$(dirname "$caddy_bin")"
  build=$(mktemp -d)
  (cd "$build" && PATH="$(dirname "$go"):$PATH" "$xcaddy_dir/xcaddy" build "$caddy_version" \
    --with "github.com/mholt/caddy-l4@$l4_version" --output "$caddy_bin") ||
    fail "could not build Caddy $caddy_version with github.com/mholt/caddy-l4@$l4_version"
  rm -rf "$build"
  "$caddy_bin" list-modules | grep -q '^layer4$' || fail "the Caddy built at $caddy_bin has no layer4"
  echo "Caddy $caddy_version with layer4 $l4_version: installed ($caddy_bin)"
fi

if command -v turnserver >/dev/null 2>&1; then
  echo "coturn: installed ($(turnserver --version 2>/dev/null | head -1))"
else
  echo "coturn: installing from Debian"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # One apt at a time when .ci/run installs other packages meanwhile (URBANIA_APT_LOCK).
  { $SUDO flock "${URBANIA_APT_LOCK:-${TMPDIR:-/tmp}/urbania-apt.lock}" sh -c 'apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends coturn'; } \
    >/dev/null || fail "could not install coturn (apt-get install coturn)"
  command -v turnserver >/dev/null 2>&1 || fail "coturn installed, but turnserver is not on PATH"
  echo "coturn: installed ($(turnserver --version 2>/dev/null | head -1))"
fi
