#!/usr/bin/env bash
# Installs what `npm run bench` needs: the peers (vsftpd, pyftpdlib with
# TLS support, pure-ftpd extracted beside vsftpd since the two packages
# conflict, OpenSSH's sshd for the SFTP scenarios, nginx for the HTTP ones:
# Debian's nginx-light, which in Debian 12 pulls in the `nginx` package's
# /usr/sbin/nginx), OpenSSH's sftp client and ssh-keygen, curl (the HTTP
# download client), rclone (`serve sftp` and `serve http` on the S3
# scenarios' bucket), iperf3 for the TCP ceiling, and util-linux for
# taskset and unshare. `--check` only reports whether everything is there
# (exit 1 if not).
set -euo pipefail
cd "$(dirname "$0")"
TOOLS="${BENCH_TOOLS:-$PWD/.tools}"
PURE="$TOOLS/pure-ftpd/usr/sbin/pure-ftpd"

missing() {
  local m=0
  for bin in /usr/sbin/vsftpd /usr/bin/iperf3 /usr/bin/taskset /usr/bin/unshare /usr/bin/openssl \
    /usr/sbin/sshd /usr/bin/sftp /usr/bin/ssh /usr/bin/ssh-keygen /usr/sbin/nginx /usr/bin/curl /usr/bin/rclone; do
    [ -x "$bin" ] || { echo "missing: $bin"; m=1; }
  done
  /usr/bin/python3 -c 'import pyftpdlib, OpenSSL' 2>/dev/null || { echo "missing: python3-pyftpdlib/python3-openssl"; m=1; }
  [ -x "$PURE" ] || { echo "missing: $PURE"; m=1; }
  [ -d ../node_modules/ftp-srv ] || { echo "missing: node_modules/ftp-srv (npm ci)"; m=1; }
  return $m
}

if [ "${1:-}" = "--check" ]; then
  missing
  exit $?
fi

export DEBIAN_FRONTEND=noninteractive
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  vsftpd python3 python3-pyftpdlib python3-openssl iperf3 openssl util-linux \
  openssh-server openssh-client nginx-light curl rclone libsodium23 libcap2 libssl3 >/dev/null

if [ ! -x "$PURE" ]; then
  mkdir -p "$TOOLS/debs"
  (cd "$TOOLS/debs" && apt-get download pure-ftpd >/dev/null)
  rm -rf "$TOOLS/pure-ftpd"
  dpkg -x "$(ls "$TOOLS"/debs/pure-ftpd_*.deb | head -n 1)" "$TOOLS/pure-ftpd"
fi

if [ ! -d ../node_modules/ftp-srv ]; then
  (cd .. && npm ci)
fi
missing
echo "bench tools ready"
