#!/usr/bin/env bash
# Installs the Debian packages the real parts of the test suite need: a single-node SLURM
# (slurm-wlm, munge) with its accounting (slurmdbd, mariadb-server: `sacct`), Debian's chromium
# for browser tests, PostgreSQL for the hub database tests, and nodejs/npm for the proxy.
# No service starts by itself: the tests start their own daemons (genesis_lab.compute.devslurm).
# As root on Debian it installs what is missing; otherwise it says how, and the tests that need
# a missing part skip with that reason (under CI=true they fail instead).
set -euo pipefail

want=("$@")
if [ ${#want[@]} -eq 0 ]; then
  want=(slurm-wlm munge slurmdbd mariadb-server chromium postgresql)
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
# without systemd, keep the packages' scripts from starting system-wide MariaDB or slurmdbd
guard=""
if [ ! -e /usr/sbin/policy-rc.d ] && [ ! -d /run/systemd/system ]; then
  guard=/usr/sbin/policy-rc.d
  printf '#!/bin/sh\nexit 101\n' >"$guard" && chmod 755 "$guard"
  trap 'rm -f "$guard"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
