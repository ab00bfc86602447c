#!/usr/bin/env bash
# Debian packages the project needs, installed when missing. Only the binaries are used: the tests
# run turnserver themselves, the coturn system service is never started.
# Sourced by test.sh (every group) and bench.sh (the baseline's); a no-op when all are present.

# Missing packages of the tests: headless Chromium for the browser test, coturn's turnserver for
# the TURN relay tests, iproute2 and nftables for the NAT traversal and strict-firewall tests,
# certutil and openssl for the latter's TURN over TLS, pocketsphinx for the assistant demo's
# speech recognizer, and the bench baseline's (its e2e test runs it).
sb_test_packages_missing() {
  [ -x /usr/bin/chromium ] || echo chromium
  [ -x /usr/bin/turnserver ] || echo coturn
  # The NAT traversal test: network namespaces (ip netns, veth) and a UDP block between them.
  [ -x /usr/sbin/ip ] || [ -x /usr/bin/ip ] || [ -x /sbin/ip ] || echo iproute2
  [ -x /usr/sbin/nft ] || echo nftables
  # The strict-firewall test: certutil makes the browser profile's NSS database trust its test CA
  # (TURN over TLS); the test CA itself is made with the openssl CLI.
  [ -x /usr/bin/certutil ] || echo libnss3-tools
  [ -x /usr/bin/openssl ] || echo openssl
  sb_assistant_packages_missing
  sb_bench_packages_missing
}

# Missing packages of the assistant demo's speech recognizer (HANDLER=assistant, and its tests):
# CMU pocketsphinx (BSD-2, run out of process) and its US English acoustic model and dictionary.
sb_assistant_packages_missing() {
  [ -x /usr/bin/pocketsphinx_batch ] || echo pocketsphinx
  [ -f /usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict ] || echo pocketsphinx-en-us
}

# Missing packages of the CPU benchmark's baseline (bench/baseline/aiortc_echo.py): aiortc 1.4.0,
# the WebRTC engine under FastRTC, and its HTTP server, for the system Python.
sb_bench_packages_missing() {
  /usr/bin/python3 -c 'import aiortc' >/dev/null 2>&1 || echo python3-aiortc
  /usr/bin/python3 -c 'import aiohttp' >/dev/null 2>&1 || echo python3-aiohttp
}

# Installs the named Debian packages (none: returns at once).
sb_apt_install() {
  [ $# -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
    echo "[switchboard] missing Debian packages: $* (run as root or install them)" >&2
    return 1
  fi
  local SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO=sudo
  echo "[switchboard] installing Debian packages: $*" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  # The coturn package enables and starts its system service (listening on 3478 on every
  # interface) where systemd runs; the tests start their own turnserver, so turn the service off.
  if [[ " $* " == *" coturn "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now coturn >/dev/null 2>&1 || true
  fi
}

sb_system_deps() {
  # shellcheck disable=SC2046 # one package name per line, none with spaces
  sb_apt_install $(sb_test_packages_missing)
}

# `npm start` with HANDLER=assistant: what that handler needs, and nothing else.
sb_assistant_system_deps() {
  # shellcheck disable=SC2046
  sb_apt_install $(sb_assistant_packages_missing)
}

sb_bench_system_deps() {
  # shellcheck disable=SC2046
  sb_apt_install $(sb_bench_packages_missing)
}
