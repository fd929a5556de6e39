#!/bin/bash
# Installs the Debian 12 packages that bibrec needs to build (and, with
# --test, to run its test suite). Only packages that are missing are
# installed, so a second run does not touch the network at all.
set -eu

BUILD_PKGS="build-essential autoconf automake libtool pkg-config
  libsofia-sip-ua-dev libuv1-dev libgnutls28-dev libxml2-dev libleveldb-dev
  libcurl4-gnutls-dev libspandsp-dev libbcg729-dev
  libmicrohttpd-dev libargon2-dev libjansson-dev libzstd-dev"
TEST_PKGS="chromium chromium-driver python3 sip-tester sox clang libclang-rt-14-dev curl procps gnutls-bin libxml2-utils"

pkgs=$BUILD_PKGS
[ "${1:-}" = "--test" ] && pkgs="$pkgs $TEST_PKGS"

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
