// Key Vault (RBAC authorisation) holding the phone hash key; webhook secrets of online shops are kept here too.
param name string
param location string
param tags object
@secure()
param phoneHashKey string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 30
    enablePurgeProtection: true
  }
}

resource phoneHashKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = {
  parent: vault
  name: 'phone-hash-key'
  properties: {
    value: phoneHashKey
  }
}

output name string = vault.name
output phoneHashKeySecretUri string = phoneHashKeySecret.properties.secretUri
