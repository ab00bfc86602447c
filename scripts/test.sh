#!/usr/bin/env bash
# `npm test`: installs whatever is missing (Node, npm packages, Debian's chromium), then typechecks and runs every
# test suite of every workspace through turbo.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$SB_ROOT/scripts/system-deps.sh"
sb_install
sb_system_deps
cd "$SB_ROOT"
turbo run typecheck test --concurrency=1 --output-logs=full --log-order=stream "$@"
