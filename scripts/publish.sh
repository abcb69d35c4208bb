#!/usr/bin/env bash
# Builds the zip-deploy package: a self-contained linux-x64 publish of the custom handler at the package root, the
# repository's host.json, and one <FunctionName>/function.json per function, written by the published binary itself
# from the function catalogue. Output: artifacts/publish/LoyaltyFunctions.zip (or $1/LoyaltyFunctions.zip).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$ROOT/artifacts/publish}"
PACKAGE="$OUT/package"
ZIP="$OUT/LoyaltyFunctions.zip"
command -v zip >/dev/null || { echo "publish: zip is required (scripts/install.sh installs it)"; exit 1; }

rm -rf "$PACKAGE" "$ZIP"
mkdir -p "$PACKAGE"
dotnet publish "$ROOT/src/Loyalty.Functions" -c Release -r linux-x64 --self-contained true \
  -p:GenerateDocumentationFile=false -o "$PACKAGE" -nologo --verbosity quiet
cp "$ROOT/host.json" "$PACKAGE/host.json"

# The Functions host runs defaultExecutablePath from the package root; the same binary writes the metadata.
(cd "$PACKAGE" && ./Loyalty.Functions emit-metadata . >/dev/null)
(cd "$PACKAGE" && zip -qr -X "$ZIP" .)
echo "$ZIP"
