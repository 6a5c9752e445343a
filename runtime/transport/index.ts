export { decodeReply, decodeRequest, encodeReply, encodeRequest, remoteError } from './envelope.js'
export { createClientTransport, createServerTransport } from './factory.js'
export {
  HttpClientTransport,
  type HttpClientTransportOptions,
  HttpServerTransport,
  type HttpServerTransportOptions,
} from './http/index.js'
export { MemoryClientTransport, MemoryServerTransport } from './memory.js'
export type {
  ClientTransport,
  ClientTransportOptions,
  Reply,
  RequestHandler,
  RpcRequest,
  ServerTransport,
  ServerTransportOptions,
  TlsOptions,
  TransportKind,
  TransportRequestOptions,
} from './types.js'
export {
  WsClientTransport,
  type WsClientTransportOptions,
  type WsMessage,
  WsPublisher,
  type WsPublisherOptions,
  WsServerTransport,
  type WsServerTransportOptions,
  WsSubscriber,
  type WsSubscriberEvents,
  type WsSubscriberOptions,
} from './ws/index.js'
export {
  ZmqClientTransport,
  type ZmqClientTransportOptions,
  type ZmqMessage,
  ZmqPublisher,
  type ZmqPublisherOptions,
  ZmqServerTransport,
  type ZmqServerTransportOptions,
  ZmqSubscriber,
  type ZmqSubscriberOptions,
} from './zmq/index.js'
