#!/usr/bin/env bash
# Debian's ansible (with the ngine_io.cloudstack collection) and python3-cs, for test/clients/ansible.test.ts.
# The test fails without them; this installs them when they are missing.
set -euo pipefail
if command -v ansible-playbook >/dev/null 2>&1 && python3 -c 'import cs' >/dev/null 2>&1 \
  && [ -d /usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack ]; then
  echo "== ansible $(ansible-playbook --version | head -1) already installed"
  exit 0
fi
echo "== installing ansible and python3-cs"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends ansible python3-cs >/dev/null
ansible-playbook --version | head -1
