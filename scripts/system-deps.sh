#!/usr/bin/env bash
# Debian packages the tests need (headless Chromium for the browser test, coturn's turnserver for
# the TURN relay tests, iproute2 and nftables for the NAT traversal test, aiortc and aiohttp for the
# benchmark's baseline echo server), installed when missing.
# Only the binaries are used: the tests run turnserver themselves, the coturn system service is
# never started.
# Sourced by test.sh; a no-op when everything is present.
sb_system_deps() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/bin/turnserver ] || missing+=(coturn)
  # The NAT traversal test: network namespaces (ip netns, veth) and a UDP block between them.
  [ -x /usr/sbin/ip ] || [ -x /usr/bin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
  [ -x /usr/sbin/nft ] || missing+=(nftables)
  # The baseline of the CPU benchmark (bench/baseline/aiortc_echo.py): aiortc 1.4.0, the WebRTC
  # engine under FastRTC, and its HTTP server, for the system Python.
  /usr/bin/python3 -c 'import aiortc' >/dev/null 2>&1 || missing+=(python3-aiortc)
  /usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1 || missing+=(python3-aiohttp)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "[switchboard] missing Debian packages: ${missing[*]} (run as root or install them)" >&2
    return 1
  fi
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "[switchboard] installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The coturn package enables and starts its system service (listening on 3478 on every
  # interface) where systemd runs; the tests start their own turnserver, so turn the service off.
  if [[ " ${missing[*]} " == *" coturn "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now coturn >/dev/null 2>&1 || true
  fi
}
