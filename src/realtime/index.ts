export {
  EVENT_LOG_TABLE,
  EVENT_PRUNE_BATCH,
  EVENT_PRUNE_INTERVAL_MS,
  EVENT_RETENTION_COUNT,
  EVENT_RETENTION_MS,
  EventLog,
  realtimeEventsMigration,
  type EventAction,
  type EventInput,
  type EventLogOptions,
  type LoggedEvent,
} from './event-log.js'
export {
  CLIENT_ID_LENGTH,
  MAX_CONNECTIONS_PER_IP,
  MAX_PENDING_CHANGES,
  RealtimeService,
  type Auth,
  type ConnectOptions,
  type RealtimeMessage,
  type RealtimeTransport,
  type RealtimeClient,
  type RealtimeOptions,
} from './realtime-service.js'
export {
  MAX_CLIENT_ID_LENGTH,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
  MAX_TOPIC_LENGTH,
  parseSubscription,
  readSubscriptionRequest,
  type Subscription,
} from './subscriptions.js'
