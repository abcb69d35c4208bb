#!/usr/bin/env bash
# Installs what the app and its tests need and is missing: Node.js/npm, curl and zip from Debian, Azurite from npm
# (into .tools/azurite), and the NuGet packages. Safe to run again; quiet when everything is present.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AZURITE_VERSION="3.37.0"

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "install: apt-get install ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

command -v dotnet >/dev/null || { echo "install: the .NET SDK 10 must be on PATH (https://dot.net)"; exit 1; }
command -v curl >/dev/null || apt_install curl
command -v zip >/dev/null && command -v unzip >/dev/null || apt_install zip unzip
command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm

AZURITE_BIN="$ROOT/.tools/azurite/node_modules/.bin/azurite"
if [ ! -x "$AZURITE_BIN" ]; then
  echo "install: azurite@$AZURITE_VERSION from npm into .tools/azurite"
  mkdir -p "$ROOT/.tools/azurite"
  npm install --prefix "$ROOT/.tools/azurite" --no-audit --no-fund --loglevel=error "azurite@$AZURITE_VERSION" >/dev/null
fi
export AZURITE_BIN

dotnet restore "$ROOT/LoyaltyFunctions.sln" --verbosity quiet >/dev/null
