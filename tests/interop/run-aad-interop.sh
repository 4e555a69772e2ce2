#!/usr/bin/env bash
# Interop driver: unmodified third-party OAuth clients get app-only tokens from mock-aad.
#
#   run-aad-interop.sh [BIN_DIR] [CHECK...]
#
# BIN_DIR holds mock-aad (default: $EXO_BIN_DIR, else build/bin under the repo root).
# CHECK is msal_node, azure_identity or msal_python; none or "all" runs every check.
# Exit status: 0 all passed, 1 a check failed, 77 a client toolchain is missing (CTest skip).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin_dir=${1:-${EXO_BIN_DIR:-$repo/build/bin}}
shift $(($# > 0 ? 1 : 0))
checks=("$@")
if [[ ${#checks[@]} -eq 0 || ${checks[0]} == all ]]; then
  checks=(msal_node azure_identity msal_python)
fi

# MSAL Python is Debian's python3-msal: it must run under the system interpreter, not a pyenv shim.
python=${EXO_SYSTEM_PYTHON:-/usr/bin/python3}
node=${EXO_NODE:-node}

die() { echo "run-aad-interop: $*" >&2; exit 1; }
# On CI a missing client is a broken setup, not a reason to skip: scripts/install-deps.sh installs them.
skip() {
  if [[ ${CI:-} == true ]]; then die "$* (CI=true: a missing client fails the run)"; fi
  echo "run-aad-interop: SKIP: $*" >&2; exit 77
}

server=$bin_dir/mock-aad
[[ -x $server ]] || die "no mock-aad at $server (build it: ninja -C build mock-aad)"
command -v openssl >/dev/null || die "openssl CLI not found"
[[ -x $python ]] || skip "$python not found"
needs_node=0
for c in "${checks[@]}"; do
  case $c in
    msal_node|azure_identity) needs_node=1 ;;
    msal_python) "$python" -c 'import msal' 2>/dev/null || skip "python3-msal is not installed for $python" ;;
    *) die "unknown check '$c' (msal_node, azure_identity, msal_python)" ;;
  esac
done

# --- Node dependencies (tests/interop/npm-deps.sh).
if ((needs_node)); then
  # shellcheck source=npm-deps.sh
  source "$here/npm-deps.sh"
  ensure_node_modules
fi

# --- Scratch directory; the server dies with the script.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/exo-aad-interop.XXXXXX")
server_pid=
cleanup() {
  local rc=$?
  if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if ((rc != 0)) && [[ -s $tmp/mock-aad.log ]]; then
    echo "--- mock-aad log (last 40 lines) ---" >&2
    tail -n 40 "$tmp/mock-aad.log" >&2
  fi
  if [[ -n ${EXO_KEEP_TMP:-} ]]; then echo "run-aad-interop: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- Certificate credential: RSA 2048 key (PKCS#8 PEM, what msal-node expects) + self-signed cert.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 30 -subj "/CN=exoharness-interop" \
  -keyout "$tmp/app-key.pem" -out "$tmp/app-cert.pem" 2>/dev/null

# --- The world: one tenant, a daemon app (valid secret + certificate + EXO consent) and a second app
# whose only secret has expired, so every failure has exactly one possible cause.
tenant_id=3f6c2a8e-91b4-4d7a-8e15-2b9c7d4e6f01
tenant_domain=contoso.onmicrosoft.com
app_id=6a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d
expired_app_id=7b2c3d4e-5f60-4b8c-9d0e-1f2a3b4c5d6e
new_secret() { printf '%s8Q~%s' "$(openssl rand -hex 2 | cut -c1-3)" "$(openssl rand -hex 17)"; }
secret=$(new_secret)
expired_secret=$(new_secret)
wrong_secret=$(new_secret)
cert_json=$(awk '{printf "%s\\n", $0}' "$tmp/app-cert.pem")

cat >"$tmp/world.json" <<EOF
{
  "tenants": [{
    "id": "$tenant_id",
    "displayName": "Contoso",
    "domains": ["$tenant_domain"],
    "applications": [
      {
        "appId": "$app_id",
        "displayName": "Interop Mail Daemon",
        "passwordCredentials": [{"secretText": "$secret", "displayName": "valid",
                                 "startDateTime": "-1d", "endDateTime": "+180d"}],
        "keyCredentials": [{"certificatePem": "$cert_json", "startDateTime": "-1d", "endDateTime": "+30d"}],
        "appRoleAssignments": [{"resource": "https://outlook.office365.com", "appRole": "full_access_as_app"}]
      },
      {
        "appId": "$expired_app_id",
        "displayName": "Interop Expired Daemon",
        "passwordCredentials": [{"secretText": "$expired_secret", "displayName": "expired",
                                 "startDateTime": "-30d", "endDateTime": "-1d"}],
        "appRoleAssignments": [{"resource": "https://outlook.office365.com", "appRole": "full_access_as_app"}]
      }
    ]
  }]
}
EOF

# --- Start mock-aad and wait (bounded) for its ready file. --clock real: unmodified clients stamp
# their certificate assertions (nbf/exp) and check token expiry with the wall clock, so the default
# simulated clock (frozen at --start-time) would reject every assertion (AADSTS700024).
# mock-aad writes the ready file, then prints the same JSON on stdout: a blocking read of its first
# line through a FIFO is the readiness signal (EOF if it dies first; bounded by read -t).
mkfifo "$tmp/stdout"
"$server" --world "$tmp/world.json" --ready-file "$tmp/ready.json" --ca-dir "$tmp/ca" --clock real \
  >"$tmp/stdout" 2>"$tmp/mock-aad.log" &
server_pid=$!
exec 3<"$tmp/stdout"
read -r -t 60 -u 3 _ || die "mock-aad exited or was not ready within 60 s: $(cat "$tmp/mock-aad.log")"
[[ -s $tmp/ready.json ]] || die "mock-aad printed no ready file"

json_get() { "$python" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$@"; }
aad=$(json_get "$tmp/ready.json" aad)
ca=$(json_get "$tmp/ready.json" ca)
[[ -s $ca ]] || die "ready file names CA '$ca', which does not exist"
echo "run-aad-interop: mock-aad at $aad (CA $ca)" >&2

# Everything a check needs, in one file; the checks read its path from $EXO_INTEROP_FIXTURE.
cat >"$tmp/fixture.json" <<EOF
{
  "aad": "$aad",
  "tenantId": "$tenant_id",
  "tenantDomain": "$tenant_domain",
  "appId": "$app_id",
  "secret": "$secret",
  "wrongSecret": "$wrong_secret",
  "expiredAppId": "$expired_app_id",
  "expiredSecret": "$expired_secret",
  "certPem": "$tmp/app-cert.pem",
  "keyPem": "$tmp/app-key.pem",
  "resource": "https://outlook.office365.com"
}
EOF
export EXO_INTEROP_FIXTURE=$tmp/fixture.json

# Trust. Node reads NODE_EXTRA_CA_CERTS once at start-up, so it must be in the environment of the
# node process. Python requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment win
# over the verify= that MSAL sets on its session, so point it at system roots + the harness CA.
cat /etc/ssl/certs/ca-certificates.crt "$ca" >"$tmp/ca-bundle.pem"
export NODE_EXTRA_CA_CERTS=$ca
export REQUESTS_CA_BUNDLE=$tmp/ca-bundle.pem
unset CURL_CA_BUNDLE
# No proxy must sit between the clients and 127.0.0.1.
export NO_PROXY=127.0.0.1,localhost no_proxy=127.0.0.1,localhost

failed=()
for c in "${checks[@]}"; do
  echo "== $c" >&2
  rc=0
  case $c in
    msal_node) "$node" "$here/aad/msal-node.mjs" || rc=$? ;;
    azure_identity) "$node" "$here/aad/identity.mjs" || rc=$? ;;
    msal_python) "$python" "$here/aad/msal_python.py" || rc=$? ;;
  esac
  ((rc == 0)) || failed+=("$c")
done
kill -0 "$server_pid" 2>/dev/null || die "mock-aad died during the checks"
if ((${#failed[@]})); then
  echo "run-aad-interop: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "run-aad-interop: all passed (${checks[*]})" >&2
