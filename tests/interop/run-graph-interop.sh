#!/usr/bin/env bash
# Interop driver: unmodified Microsoft Graph JavaScript client (@microsoft/microsoft-graph-client with
# @azure/identity) against mock-ews's Graph mail in exo-harness.
#
#   run-graph-interop.sh [BIN_DIR] [CHECK...]
#
# BIN_DIR holds exo-harness (default: $EXO_BIN_DIR, else build/bin under the repo root).
# CHECK is graphjs_<case> (see CHECKS below); none or "all" runs every check. Every check starts its
# own exo-harness (tests/interop/ews/harness.py: one tenant, monitor@ and alice@, one daemon app), so
# checks share no state; the case grants the app Microsoft Graph Mail.ReadWrite through mock-aad's
# control API, as an admin grants consent.
# Exit status: 0 all passed, 1 a check failed, 77 node or npm is missing (CTest skip).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=${1:-${EXO_BIN_DIR:-$repo/build/bin}}
shift $(($# > 0 ? 1 : 0))

CHECKS=(graphjs_list_read graphjs_mark_read graphjs_delta)
checks=("$@")
if [[ ${#checks[@]} -eq 0 || ${checks[0]} == all ]]; then checks=("${CHECKS[@]}"); fi

python=${EXO_SYSTEM_PYTHON:-/usr/bin/python3}
node=${EXO_NODE:-node}

die() { echo "run-graph-interop: $*" >&2; exit 1; }
# On CI a missing client is a broken setup, not a reason to skip: scripts/install-deps.sh installs them.
skip() {
  if [[ ${CI:-} == true ]]; then die "$* (CI=true: a missing client fails the run)"; fi
  echo "run-graph-interop: SKIP: $*" >&2; exit 77
}

server=$bin_dir/exo-harness
[[ -x $server ]] || die "no exo-harness at $server (build it: ninja -C build exo-harness)"
[[ -x $python ]] || skip "$python not found"  # harness.py: standard library only
for c in "${checks[@]}"; do
  [[ " ${CHECKS[*]} " == *" $c "* ]] || die "unknown check '$c' (${CHECKS[*]})"
done

# shellcheck source=npm-deps.sh
source "$here/npm-deps.sh"
ensure_node_modules

export EXO_INTEROP_JOURNAL_PATH=/v1.0/
failed=()
for c in "${checks[@]}"; do
  echo "== $c" >&2
  rc=0
  "$python" "$here/ews/harness.py" "$bin_dir" -- "$node" "$here/graph/graphjs_cases.mjs" "${c#graphjs_}" || rc=$?
  ((rc == 0)) || failed+=("$c")
done
if ((${#failed[@]})); then
  echo "run-graph-interop: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "run-graph-interop: all passed (${checks[*]})" >&2
