#!/bin/sh
# pxedeck's preflight: is there a Node.js new enough to run pxedeck (and npm to install it)? When not, say
# exactly how to get one on this distribution instead of failing later with an obscure error.
#
# Exit 0: ready. Exit 1: not ready, the way out printed on stderr.
# Seams for tests (never needed by a person): PXEDECK_NODE_VERSION (e.g. 18.19.1, or "none"),
# PXEDECK_NPM_VERSION (a version or "none"), PXEDECK_OS_RELEASE (an os-release file),
# PXEDECK_APT_NODEJS_CANDIDATE (the nodejs version apt would install, or "none").
set -u

required_major=20
required_minor=19

say() { printf '%s\n' "$*" >&2; }

node_version=${PXEDECK_NODE_VERSION:-$(node -p 'process.versions.node' 2>/dev/null || echo none)}
npm_version=${PXEDECK_NPM_VERSION:-$(npm --version 2>/dev/null || echo none)}
os_release=${PXEDECK_OS_RELEASE:-/etc/os-release}

os_name=$( (. "$os_release" 2>/dev/null && printf '%s' "${PRETTY_NAME:-${ID:-this system}}") || echo 'this system')

# "20.19.2" (or a Debian version such as "20.19.2+dfsg-1") → 0 when at least 20.19.
new_enough() {
  major=$(printf '%s' "$1" | sed -n 's/^\([0-9][0-9]*\)\..*/\1/p')
  minor=$(printf '%s' "$1" | sed -n 's/^[0-9][0-9]*\.\([0-9][0-9]*\).*/\1/p')
  [ -n "$major" ] && [ -n "$minor" ] || return 1
  [ "$major" -gt "$required_major" ] && return 0
  [ "$major" -eq "$required_major" ] && [ "$minor" -ge "$required_minor" ]
}

# The nodejs version this system's apt would install (without the epoch), or "none".
apt_candidate() {
  if [ -n "${PXEDECK_APT_NODEJS_CANDIDATE:-}" ]; then printf '%s' "$PXEDECK_APT_NODEJS_CANDIDATE"; return; fi
  command -v apt-cache >/dev/null 2>&1 || { printf none; return; }
  version=$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *//p' | head -n 1)
  case "$version" in ''|'(none)') printf none ;; *) printf '%s' "${version#*:}" ;; esac
}

how_to_get_node() {
  candidate=$(apt_candidate)
  if [ "$candidate" != none ] && new_enough "$candidate"; then
    case "$candidate" in
      *nodesource*)
        say "  apt offers NodeSource's Node.js $candidate (it includes npm; Debian's npm package conflicts with it):"
        say "    sudo apt-get install -y nodejs" ;;
      *)
        say "  $os_name packages Node.js $candidate, which is new enough:"
        say "    sudo apt-get install -y nodejs npm" ;;
    esac
    return
  fi
  if [ "$candidate" != none ]; then
    say "  $os_name packages Node.js $candidate, which is too old. Get Node.js 20 (or newer) from NodeSource:"
    say "    curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash -"
    say "    sudo apt-get install -y nodejs          # NodeSource's nodejs includes npm: do not also install Debian's npm"
  else
    say "  Install Node.js 20 (or newer) from your distribution if it is new enough, or from https://nodejs.org."
  fi
  say "  Or, without root, with nvm (https://github.com/nvm-sh/nvm):"
  say "    curl -o- https://raw.githubusercontent.com/nvm-sh/nvm/v0.40.3/install.sh | bash"
  say "    . ~/.nvm/nvm.sh && nvm install 20"
  say "  (pxedeck then runs as root through sudo: use  sudo \"\$(command -v node)\" \"\$(command -v pxedeck)\" ...)"
}

if [ "$node_version" = none ]; then
  say "pxedeck needs Node.js $required_major.$required_minor or newer, and there is no node on this PATH."
  how_to_get_node
  exit 1
fi
if ! new_enough "$node_version"; then
  say "pxedeck needs Node.js $required_major.$required_minor or newer; this node is $node_version (Ink 6, the console library, needs it)."
  how_to_get_node
  exit 1
fi
if [ "$npm_version" = none ]; then
  say "Node.js $node_version is fine, but npm is missing; it installs pxedeck's libraries."
  say "  On Debian/Ubuntu with the distribution's nodejs:  sudo apt-get install -y npm"
  say "  (NodeSource's nodejs already includes npm and conflicts with Debian's npm package.)"
  exit 1
fi
printf 'Node.js %s and npm %s: ready.\n' "$node_version" "$npm_version"
