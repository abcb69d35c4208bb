#!/usr/bin/env bash
# Deploys to Azure: the Bicep in infra/ (resource group deployment), then the package from scripts/publish.sh by
# zip deploy. Prerequisites: the Azure CLI (`az`) signed in (`az login`) with rights to create resources and role
# assignments in the target subscription.
#   LOYALTY_RESOURCE_GROUP   resource group to deploy into (created if missing)      required
#   LOYALTY_LOCATION         Azure region with Flex Consumption (default eastasia)
#   LOYALTY_ENV_NAME         name used in resource names (default loyalty)
#   LOYALTY_PHONE_HASH_KEY   secret for the phone index (default: a new random one; keep it, it cannot change later)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if ! command -v az >/dev/null 2>&1; then
  echo "deploy: the Azure CLI 'az' is not installed on this machine. Install it (https://aka.ms/azure-cli), run 'az login', then run this script again." >&2
  exit 2
fi

RG="${LOYALTY_RESOURCE_GROUP:?set LOYALTY_RESOURCE_GROUP to the resource group to deploy into}"
LOCATION="${LOYALTY_LOCATION:-eastasia}"
ENV_NAME="${LOYALTY_ENV_NAME:-loyalty}"
PHONE_KEY="${LOYALTY_PHONE_HASH_KEY:-$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)}"

az group create --name "$RG" --location "$LOCATION" --output none
app=$(az deployment group create --resource-group "$RG" --name "loyalty-$(date +%Y%m%d%H%M%S)" \
  --template-file "$ROOT/infra/main.bicep" --parameters "@$ROOT/infra/main.parameters.json" \
  --parameters environmentName="$ENV_NAME" location="$LOCATION" phoneHashKey="$PHONE_KEY" \
  --query properties.outputs.functionAppName.value --output tsv)

zip=$(bash "$ROOT/scripts/publish.sh" | tail -n 1)
az functionapp deployment source config-zip --resource-group "$RG" --name "$app" --src "$zip" --output none
host=$(az functionapp show --resource-group "$RG" --name "$app" --query defaultHostName --output tsv)
echo "deploy: $app is running at https://$host (health: https://$host/api/health)"
if [ -z "${LOYALTY_PHONE_HASH_KEY:-}" ]; then
  echo "deploy: a new phone hash key was generated and stored in Key Vault; redeploy with LOYALTY_PHONE_HASH_KEY set to the same value."
fi
