#!/usr/bin/env bash
# Debian packages the tests need (headless Chromium for the browser test), installed when missing.
# Sourced by test.sh; a no-op when everything is present.
sb_system_deps() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
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
}
