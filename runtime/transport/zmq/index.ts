export { ZmqClientTransport } from './client.js'
export type {
  ZmqClientTransportOptions,
  ZmqPublisherOptions,
  ZmqServerTransportOptions,
  ZmqSubscriberOptions,
} from './options.js'
export { ZmqPublisher } from './publisher.js'
export { ZmqServerTransport } from './server.js'
export { type ZmqMessage, ZmqSubscriber, type ZmqSubscriberEvents } from './subscriber.js'
