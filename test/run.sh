#!/usr/bin/env bash
# The project's single test command on a fresh Debian machine:
# installs the system tools the integration tests drive, then builds and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Tests talk to 127.0.0.1 only; never route them through a proxy.
unset HTTP_PROXY HTTPS_PROXY ALL_PROXY http_proxy https_proxy all_proxy || true
export NO_PROXY='127.0.0.1,localhost,::1' no_proxy='127.0.0.1,localhost,::1'

missing=()
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
# ceph-mon, ceph-osd, radosgw, monmaptool (ceph-common) and redis-server: the object-storage and cluster tests.
# chromium: the status page test drives it headless through playwright-core.
for tool in docker-registry skopeo nginx htpasswd openssl ceph-mon ceph-osd radosgw monmaptool redis-server chromium; do
  have "$tool" || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test/run.sh: installing system packages (missing: ${missing[*]})"
  SUDO=()
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
  "${SUDO[@]}" apt-get update
  # Debian's docker-registry postinst may try to start a service; there is no systemd here.
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    docker-registry skopeo nginx-light apache2-utils openssl \
    ceph-mon ceph-osd radosgw ceph-common redis-server chromium
fi

# playwright-core drives Debian's chromium: never let it download a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
# A fresh build: compiled files of sources that no longer exist must not run as tests.
rm -rf dist
npm ci --no-audit --no-fund

# Only *.test.js files are tests: given the directory, node would also run (and count) every
# helper module under it as a passing test file.
mapfile -t tests < <(find dist/test -name '*.test.js' | sort)
node --test --test-concurrency=1 --test-timeout=300000 "${tests[@]}"
