#!/usr/bin/env bash
# Builds the zip-deploy package of the isolated worker app: `dotnet publish` gives the app, functions.metadata (the
# worker SDK's index of every [Function]), worker.config.json, extensions.json and .azurefunctions/ (the host-side
# extensions) and host.json. Output: artifacts/publish/LoyaltyFunctions.zip (or $1/LoyaltyFunctions.zip), with the
# unpacked folder next to it as package/ (what scripts/run-local.sh runs).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/artifacts/publish}"
PACKAGE="$OUT/package"
ZIP="$OUT/LoyaltyFunctions.zip"
command -v zip >/dev/null || { echo "publish: zip is required (scripts/install.sh installs it)"; exit 1; }

rm -rf "$PACKAGE" "$ZIP"
mkdir -p "$PACKAGE"
dotnet publish "$ROOT/src/Loyalty.Functions" -c Release -p:GenerateDocumentationFile=false -o "$PACKAGE" -nologo --verbosity quiet
for required in functions.metadata worker.config.json extensions.json host.json .azurefunctions; do
  [ -e "$PACKAGE/$required" ] || { echo "publish: $required is missing from the package"; exit 1; }
done
(cd "$PACKAGE" && zip -qr -X "$ZIP" .)
echo "$ZIP"
