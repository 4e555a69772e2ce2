#!/usr/bin/env bash
# Interop driver: unmodified EWS clients (exchangelib, ews-javascript-api) against exo-harness.
#
#   run-ews-interop.sh [BIN_DIR] [CHECK...]
#
# BIN_DIR holds exo-harness (default: $EXO_BIN_DIR, else build/bin under the repo root).
# CHECK is exchangelib_<case> or ewsjs_<case> (see CHECKS below); none or "all" runs every check.
# Every check starts its own exo-harness (tests/interop/ews/harness.py), so checks share no state.
# Exit status: 0 all passed, 1 a check failed, 77 a client toolchain is missing (CTest skip).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=${1:-${EXO_BIN_DIR:-$repo/build/bin}}
shift $(($# > 0 ? 1 : 0))

CHECKS=(
  exchangelib_find_unread exchangelib_fetch_mime exchangelib_mark_read exchangelib_move
  exchangelib_reply exchangelib_sync exchangelib_filter_subject exchangelib_server_busy
  exchangelib_server_busy_retry
  ewsjs_find_bind_mime ewsjs_streaming_new_mail
)
checks=("$@")
if [[ ${#checks[@]} -eq 0 || ${checks[0]} == all ]]; then checks=("${CHECKS[@]}"); fi

# exchangelib is Debian's python3-exchangelib: the system interpreter, not a pyenv shim.
python=${EXO_SYSTEM_PYTHON:-/usr/bin/python3}
node=${EXO_NODE:-node}

die() { echo "run-ews-interop: $*" >&2; exit 1; }
# On CI a missing client is a broken setup, not a reason to skip: scripts/install-deps.sh installs them.
skip() {
  if [[ ${CI:-} == true ]]; then die "$* (CI=true: a missing client fails the run)"; fi
  echo "run-ews-interop: SKIP: $*" >&2; exit 77
}

server=$bin_dir/exo-harness
[[ -x $server ]] || die "no exo-harness at $server (build it: ninja -C build exo-harness)"
# harness.py (standard library only) runs under the same interpreter as exchangelib.
[[ -x $python ]] || skip "$python not found"
needs_node=0
for c in "${checks[@]}"; do
  [[ " ${CHECKS[*]} " == *" $c "* ]] || die "unknown check '$c' (${CHECKS[*]})"
  case $c in
    exchangelib_*)
      "$python" -c 'import exchangelib' 2>/dev/null || skip "python3-exchangelib is not installed for $python" ;;
    ewsjs_*) needs_node=1 ;;
  esac
done

# --- Node dependencies (tests/interop/npm-deps.sh).
if ((needs_node)); then
  # shellcheck source=npm-deps.sh
  source "$here/npm-deps.sh"
  ensure_node_modules
fi

failed=()
for c in "${checks[@]}"; do
  echo "== $c" >&2
  case $c in
    exchangelib_*) cmd=("$python" "$here/ews/exchangelib_cases.py" "${c#exchangelib_}") ;;
    ewsjs_*) cmd=("$node" "$here/ews/ewsjs_cases.mjs" "${c#ewsjs_}") ;;
  esac
  rc=0
  "$python" "$here/ews/harness.py" "$bin_dir" -- "${cmd[@]}" || rc=$?
  ((rc == 0)) || failed+=("$c")
done
if ((${#failed[@]})); then
  echo "run-ews-interop: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "run-ews-interop: all passed (${checks[*]})" >&2
