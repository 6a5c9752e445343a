export { WsClientTransport } from './client.js'
export type { WsClientStats } from './connection.js'
export type {
  WsClientTransportOptions,
  WsKind,
  WsPublisherOptions,
  WsServerTransportOptions,
  WsSubscriberOptions,
} from './options.js'
export { WsPublisher, type WsPublisherEvents, type WsPublisherListenOptions } from './publisher.js'
export { WsServerTransport } from './server.js'
export { type WsMessage, WsSubscriber, type WsSubscriberEvents } from './subscriber.js'
