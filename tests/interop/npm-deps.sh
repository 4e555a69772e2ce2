# Sourced by the interop drivers: installs tests/interop's Node dependencies with `npm ci`, only when
# node_modules was installed from another package-lock.json (a stamp holds the lock's hash). CTest
# runs checks in parallel and both drivers share node_modules, so the install is serialized on a lock
# file. Expects $here (tests/interop), $node and the driver's skip() to be defined.
ensure_node_modules() {
  command -v "$node" >/dev/null || skip "node not found"
  command -v npm >/dev/null || skip "npm not found"
  local stamp=$here/node_modules/.exoharness-lock.sha256
  local want
  want=$(sha256sum "$here/package-lock.json" | cut -d' ' -f1)
  (
    flock 9
    if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
      echo "${0##*/}: npm ci in $here" >&2
      (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >&2
      echo "$want" >"$stamp"
    fi
  ) 9>"${TMPDIR:-/tmp}/exoharness-npm-ci.$(echo "$here" | sha256sum | cut -c1-12).lock"
}
