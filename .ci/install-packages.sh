#!/usr/bin/env bash
# Installs the Debian packages the test suite needs when they are missing: redis-server (the Redis
# transport tests start their own servers), python3-libcloud (the Apache Libcloud client test), and ansible
# with python3-cs (the ngine_io.cloudstack playbook test, test/clients/ansible.test.ts), and postgresql (the
# PostgreSQL store tests run initdb into temporary directories; the package brings the server and contrib's
# pg_trgm; Debian keeps initdb in /usr/lib/postgresql/<version>/bin, off PATH).
# Nothing here starts or configures a service; the tests start their own on free ports.
set -euo pipefail

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
python3 -c 'import libcloud' >/dev/null 2>&1 || need+=(python3-libcloud)
{ command -v ansible-playbook >/dev/null 2>&1 && [ -d /usr/lib/python3/dist-packages/ansible_collections/ngine_io/cloudstack ]; } || need+=(ansible)
/usr/bin/python3 -c 'import cs' >/dev/null 2>&1 || need+=(python3-cs)  # Debian's python, which ansible runs
{ command -v initdb >/dev/null 2>&1 || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; } || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  echo "== packages present: redis-server, python3-libcloud, ansible, python3-cs, postgresql"
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-packages: ${need[*]} missing and this user cannot run apt-get (not root, no sudo)" >&2
    exit 1
  fi
fi
command -v apt-get >/dev/null 2>&1 || { echo "install-packages: ${need[*]} missing and apt-get is not available" >&2; exit 1; }
echo "== installing ${need[*]} with apt-get"
# Waits for the dpkg lock rather than failing at once when another installer (unattended upgrades, a
# parallel set-up script) holds it.
APT_LOCK=(-o DPkg::Lock::Timeout=600)
$SUDO apt-get "${APT_LOCK[@]}" update
if [[ " ${need[*]} " == *" postgresql "* ]]; then
  # Debian's postgresql-common creates and starts a "main" cluster on port 5432 when it installs a server;
  # the tests only ever run initdb into temporary directories, so ask it not to.
  $SUDO mkdir -p /etc/postgresql-common/createcluster.d
  echo 'create_main_cluster = false' | $SUDO tee /etc/postgresql-common/createcluster.d/cloudstackd-tests.conf >/dev/null
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${APT_LOCK[@]}" install -y --no-install-recommends "${need[@]}"
