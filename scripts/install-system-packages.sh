#!/usr/bin/env bash
# Installs the Debian packages the real parts of the test suite need: a single-node SLURM
# (slurm-wlm, munge), Debian's chromium for browser tests, PostgreSQL for the hub database tests,
# and nodejs/npm for the proxy.
# As root on Debian it installs what is missing; otherwise it says how, and the tests that need
# a missing part skip with that reason (under CI=true they fail instead).
set -euo pipefail

want=("$@")
if [ ${#want[@]} -eq 0 ]; then
  want=(slurm-wlm munge chromium postgresql)
  command -v npm >/dev/null || want+=(nodejs npm)
fi

missing=()
for pkg in "${want[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: not installing ${missing[*]} (needs root on Debian)."
  echo "      Run 'sudo make system' to enable the SLURM and browser tests."
  exit 0
fi

echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
