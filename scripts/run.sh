#!/usr/bin/env bash
# Runs a command with the project's Node and installed packages: `bash scripts/run.sh <cmd...>`.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
sb_install
exec "$@"
