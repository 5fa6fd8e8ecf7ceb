#!/usr/bin/env bash
# Installs the media servers the call tests run: LiveKit, built from its Go module at the
# version compose.yaml pins, and coturn from Debian. Skips what is installed already at the
# right version. Run once on a developer machine (CI runs it from .ci/run):
#   bash scripts/install_media.sh
# LiveKit lands in $URBANIA_TOOLS (default ~/.local/share/urbania)/livekit-<version>/server,
# where tests/media.ts looks for it.
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

if command -v turnserver >/dev/null 2>&1; then
  echo "coturn: installed ($(turnserver --version 2>/dev/null | head -1))"
else
  echo "coturn: installing from Debian"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
    --no-install-recommends coturn; } >/dev/null || fail "could not install coturn (apt-get install coturn)"
  command -v turnserver >/dev/null 2>&1 || fail "coturn installed, but turnserver is not on PATH"
  echo "coturn: installed ($(turnserver --version 2>/dev/null | head -1))"
fi
