#!/bin/sh
# Installs pxedeck from this checkout: checks Node.js (scripts/preflight.sh says how to get it when it is
# missing or too old), installs the boot binaries from the distribution's packages, builds pxedeck and
# installs the `pxedeck` command globally. Run it with sudo (apt and the global install need root).
#
#   sudo ./install.sh                   everything
#   ./install.sh --no-apt --prefix DIR  no packages; `pxedeck` into DIR/bin (no root needed)
#   sudo ./install.sh --service         also install the systemd unit (headless; see contrib/pxedeck.service)
set -eu
cd "$(dirname "$0")"

use_apt=yes
prefix=
service=no
while [ $# -gt 0 ]; do
  case "$1" in
    --no-apt) use_apt=no ;;
    --prefix) [ $# -ge 2 ] || { echo "install.sh: --prefix needs a directory" >&2; exit 2; }; prefix=$2; shift ;;
    --prefix=*) prefix=${1#--prefix=} ;;
    --service) service=yes ;;
    --help|-h) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see ./install.sh --help)" >&2; exit 2 ;;
  esac
  shift
done

sh scripts/preflight.sh || exit 1

if [ "$use_apt" = yes ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "No apt-get here: install iPXE, PXELINUX/syslinux, shim and signed GRUB with your package manager" >&2
    echo "(Fedora: dnf install ipxe-bootimgs-x86 syslinux-tftpboot shim-x64 grub2-efi-x64), or put the binaries in pxedeck's --boot-dir." >&2
  elif [ "$(id -u)" != 0 ]; then
    echo "install.sh: installing the boot binaries needs root: run  sudo ./install.sh  (or ./install.sh --no-apt --prefix DIR)" >&2
    exit 1
  else
    arch=$(dpkg --print-architecture)
    # iPXE and PXELINUX for BIOS and UEFI machines; shim and GRUB signed for Secure Boot machines.
    wanted="ipxe pxelinux syslinux-common shim-signed grub-efi-$arch-signed"
    available=
    missing=
    for package in $wanted; do
      if [ -n "$(apt-cache policy "$package" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '(none)')" ]; then
        available="$available $package"
      else
        missing="$missing $package"
      fi
    done
    [ -n "$missing" ] && echo "Not in this system's package lists (run apt-get update, or enable universe on Ubuntu):$missing" >&2
    # Debian's npm only where node is Debian's own too: NodeSource's nodejs bundles npm and conflicts with it.
    if ! command -v npm >/dev/null 2>&1 && ! dpkg-query -W -f='${Version}' nodejs 2>/dev/null | grep -q nodesource; then
      available="$available npm"
    fi
    echo "Installing:$available"
    # shellcheck disable=SC2086 # one word per package
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $available
  fi
fi

echo "Building pxedeck (npm ci)…"
npm ci --no-audit --no-fund
tarball_dir=$(mktemp -d)
trap 'rm -rf "$tarball_dir"' EXIT
tarball=$(npm pack --silent --pack-destination "$tarball_dir" | tail -n 1)
if [ -n "$prefix" ]; then
  npm install --global --prefix "$prefix" --no-audit --no-fund "$tarball_dir/$tarball"
  command_path="$prefix/bin/pxedeck"
else
  npm install --global --no-audit --no-fund "$tarball_dir/$tarball"
  command_path="$(npm prefix --global)/bin/pxedeck"
fi
"$command_path" --help >/dev/null

if [ "$service" = yes ]; then
  sed "s#^ExecStart=pxedeck #ExecStart=$command_path #" contrib/pxedeck.service > /etc/systemd/system/pxedeck.service
  [ -f /etc/default/pxedeck ] || cp contrib/pxedeck.default /etc/default/pxedeck
  echo "Installed /etc/systemd/system/pxedeck.service: set the interface in /etc/default/pxedeck, then"
  echo "  sudo systemctl daemon-reload && sudo systemctl enable --now pxedeck"
fi
echo "pxedeck is installed: $command_path"
echo "Start it on your bench port:  sudo pxedeck --interface IFACE   (ip -br addr lists the ports)"
