// Service Bus namespace (local auth off), the queue POS systems send sales events to, and the topic the app publishes
// its integration events to (docs/events.md) with one example subscription per kind of consumer.
param name string
param location string
param tags object
param queueName string
param eventsTopicName string = 'loyalty-events'

resource namespace 'Microsoft.ServiceBus/namespaces@2022-10-01-preview' = {
  name: name
  location: location
  tags: tags
  sku: { name: 'Standard', tier: 'Standard' }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
  }
}

resource queue 'Microsoft.ServiceBus/namespaces/queues@2022-10-01-preview' = {
  parent: namespace
  name: queueName
  properties: {
    maxDeliveryCount: 5
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
  }
}

// Integration events: MessageId = event id, so duplicate detection drops an event the outbox dispatcher publishes again
// after a crash (within the window); sessions carry the member id, so a session-enabled subscription gets one member's
// events in order.
resource eventsTopic 'Microsoft.ServiceBus/namespaces/topics@2022-10-01-preview' = {
  parent: namespace
  name: eventsTopicName
  properties: {
    requiresDuplicateDetection: true
    duplicateDetectionHistoryTimeWindow: 'PT1H'
    defaultMessageTimeToLive: 'P14D'
    supportOrdering: true
  }
}

// One example subscription per consumer kind, each filtered on the event type (the message's Subject).
var consumers = [
  {
    name: 'erp'
    description: 'ERP: stored-value liability and sales'
    filter: 'sys.Label LIKE \'stored_value.%\' OR sys.Label LIKE \'sale.%\' OR sys.Label = \'membership.purchased\''
  }
  {
    name: 'crm'
    description: 'CRM: profiles, tiers, points and coupons'
    filter: 'sys.Label LIKE \'member.%\' OR sys.Label LIKE \'tier.%\' OR sys.Label LIKE \'points.%\' OR sys.Label LIKE \'coupon.%\' OR sys.Label LIKE \'card.%\''
  }
  {
    name: 'messaging'
    description: 'SMS / WeChat gateway'
    filter: 'sys.Label = \'notification.requested\''
  }
]

resource subscriptions 'Microsoft.ServiceBus/namespaces/topics/subscriptions@2022-10-01-preview' = [for c in consumers: {
  parent: eventsTopic
  name: c.name
  properties: {
    requiresSession: true
    maxDeliveryCount: 10
    lockDuration: 'PT1M'
    deadLetteringOnMessageExpiration: true
    defaultMessageTimeToLive: 'P14D'
  }
}]

resource rules 'Microsoft.ServiceBus/namespaces/topics/subscriptions/rules@2022-10-01-preview' = [for (c, i) in consumers: {
  parent: subscriptions[i]
  name: 'by-type'
  properties: {
    filterType: 'SqlFilter'
    sqlFilter: { sqlExpression: c.filter }
  }
}]

output eventsTopicName string = eventsTopic.name
output name string = namespace.name
output fullyQualifiedNamespace string = '${namespace.name}.servicebus.windows.net'
