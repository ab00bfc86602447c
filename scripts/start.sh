#!/usr/bin/env bash
# `npm start`: bootstraps Node and the npm packages if missing, then starts the local stack.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
sb_install
exec node "$SB_ROOT/scripts/start.ts"
