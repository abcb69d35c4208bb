// Flex Consumption (FC1) Linux function app running the .NET isolated worker (runtime stack dotnet-isolated 10.0),
// deployed from a blob container of the host storage, every connection identity-based.
param name string
param planName string
param location string
param tags object
param identityId string
param identityClientId string
param appStorageName string
param hostStorageName string
param serviceBusNamespace string

@description('Service Bus topic of the integration events.')
param eventsTopicName string
param phoneHashKeySecretUri string
param applicationInsightsConnectionString string
param chainTimeZone string
param cardPrefix string
param maximumInstanceCount int
param instanceMemoryMB int

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource appStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: appStorageName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { name: 'FC1', tier: 'FlexConsumption' }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}app-package'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: hostStorage.name }
        { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
        { name: 'AzureWebJobsStorage__clientId', value: identityClientId }
        { name: 'LoyaltyStorage__tableServiceUri', value: appStorage.properties.primaryEndpoints.table }
        { name: 'LoyaltyStorage__queueServiceUri', value: appStorage.properties.primaryEndpoints.queue }
        { name: 'LoyaltyStorage__blobServiceUri', value: appStorage.properties.primaryEndpoints.blob }
        { name: 'LoyaltyStorage__credential', value: 'managedidentity' }
        { name: 'LoyaltyStorage__clientId', value: identityClientId }
        { name: 'ServiceBusConnection__fullyQualifiedNamespace', value: serviceBusNamespace }
        { name: 'ServiceBusConnection__credential', value: 'managedidentity' }
        { name: 'ServiceBusConnection__clientId', value: identityClientId }
        { name: 'LoyaltyEvents__fullyQualifiedNamespace', value: serviceBusNamespace }
        { name: 'LoyaltyEvents__clientId', value: identityClientId }
        { name: 'Loyalty__EventTransport', value: 'ServiceBus' }
        { name: 'Loyalty__EventTopic', value: eventsTopicName }
        { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: applicationInsightsConnectionString }
        { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'ClientId=${identityClientId};Authorization=AAD' }
        { name: 'Loyalty__PhoneHashKey', value: '@Microsoft.KeyVault(SecretUri=${phoneHashKeySecretUri})' }
        { name: 'Loyalty__TimeZone', value: chainTimeZone }
        { name: 'Loyalty__CardPrefix', value: cardPrefix }
        // Queue trigger names are '%Loyalty:QueuePrefix%<queue>': the setting must exist, empty in production.
        { name: 'Loyalty__QueuePrefix', value: '' }
        // host.json's durableTask.hubName is '%Loyalty:TaskHub%' (docs/durable.md).
        { name: 'Loyalty__TaskHub', value: 'LoyaltyHub' }
      ]
    }
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
