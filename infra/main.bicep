// LoyaltyFunctions on Azure: a Flex Consumption function app running the .NET isolated worker, with its own
// storage account for tables and queues, a separate host storage account, Service Bus (outbound events to come), Application
// Insights on Log Analytics, Key Vault for secrets, and one user-assigned identity holding every role.
// No shared keys: both storage accounts disable them and every connection is identity-based.
targetScope = 'resourceGroup'

@description('Short name used in resource names.')
@minLength(2)
@maxLength(16)
param environmentName string

@description('Azure region; it must offer Flex Consumption.')
param location string = resourceGroup().location

@description('Secret for the keyed phone hash of the member index. Keep it: changing it orphans the phone index.')
@secure()
@minLength(16)
param phoneHashKey string

@description('The chain time zone (IANA id).')
param chainTimeZone string = 'Asia/Shanghai'

@description('Leading digits of new card numbers.')
param cardPrefix string = '8860'

@description('Largest number of instances Flex Consumption may scale to.')
param maximumInstanceCount int = 100

@description('Memory per instance (MB): 2048 or 4096.')
@allowed([2048, 4096])
param instanceMemoryMB int = 2048

@description('Name of the Service Bus queue that carries POS sales events.')
param posSalesQueueName string = 'pos-sales'

param tags object = {}

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var allTags = union(tags, { 'azd-env-name': environmentName, application: 'loyalty-functions' })

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${environmentName}-${resourceToken}'
    applicationInsightsName: 'appi-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
  }
}

module appStorage 'modules/storage.bicep' = {
  name: 'app-storage'
  params: {
    name: 'stapp${resourceToken}'
    location: location
    tags: allTags
    tables: loadJsonContent('storage-names.json').tables
    queues: loadJsonContent('storage-names.json').queues
    containers: loadJsonContent('storage-names.json').containers
  }
}

module hostStorage 'modules/storage.bicep' = {
  name: 'host-storage'
  params: {
    name: 'sthost${resourceToken}'
    location: location
    tags: allTags
    tables: []
    queues: []
    containers: ['app-package']
  }
}

module serviceBus 'modules/servicebus.bicep' = {
  name: 'servicebus'
  params: {
    name: 'sb-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    queueName: posSalesQueueName
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-${take(environmentName, 8)}-${take(resourceToken, 12)}'
    location: location
    tags: allTags
    phoneHashKey: phoneHashKey
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles'
  params: {
    principalId: identity.outputs.principalId
    appStorageName: appStorage.outputs.name
    hostStorageName: hostStorage.outputs.name
    serviceBusName: serviceBus.outputs.name
    keyVaultName: keyVault.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-${environmentName}-${resourceToken}'
    planName: 'plan-${environmentName}-${resourceToken}'
    location: location
    tags: allTags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    appStorageName: appStorage.outputs.name
    hostStorageName: hostStorage.outputs.name
    serviceBusNamespace: serviceBus.outputs.fullyQualifiedNamespace
    eventsTopicName: serviceBus.outputs.eventsTopicName
    phoneHashKeySecretUri: keyVault.outputs.phoneHashKeySecretUri
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    chainTimeZone: chainTimeZone
    cardPrefix: cardPrefix
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  dependsOn: [roles]
}

output functionAppName string = functionApp.outputs.name
output functionAppHostName string = functionApp.outputs.defaultHostName
output appStorageName string = appStorage.outputs.name
output keyVaultName string = keyVault.outputs.name
output identityClientId string = identity.outputs.clientId
