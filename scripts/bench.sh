#!/usr/bin/env bash
# `npm run bench`: installs what the benchmarks need (Node, npm packages, the aiortc baseline's
# Debian packages), then runs them (options: the README's benchmark section, or bench/main.ts).
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$SB_ROOT/scripts/system-deps.sh"
sb_install
sb_bench_system_deps
cd "$SB_ROOT"
exec node bench/main.ts "$@"
