#!/usr/bin/env bash
# `npm start`: bootstraps Node and the npm packages if missing, then starts the local stack.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
sb_install
# The offline assistant listens with Debian's pocketsphinx, installed the first time it is chosen.
if [ "${HANDLER:-}" = assistant ]; then
  source "$SB_ROOT/scripts/system-deps.sh"
  sb_assistant_system_deps
fi
exec node "$SB_ROOT/scripts/start.ts"
