export type { DatagramAddress, DatagramEndpoint, DatagramListener, DatagramNetwork } from './endpoint.js'
export type { FeedTransport } from './feed-transport.js'
export { type FetchLayoutOptions, fetchLayout } from './fetch-layout.js'
export { type Impairments, LossyEndpoint, type LossyOptions, type LossyStats, lossy } from './lossy.js'
export { type LossyNetwork, lossyNetwork } from './lossy-network.js'
export { MemoryEndpoint, MemoryNetwork, type MemoryNetworkOptions } from './memory-network.js'
export { Prng } from './prng.js'
export { Publisher, type PublisherEvents, type PublisherOptions } from './publisher.js'
export {
  Repeater,
  type RepeaterAddresses,
  type RepeaterEvents,
  type RepeaterMulticastOptions,
  type RepeaterOptions,
  type RepeaterStats,
} from './repeater.js'
export {
  Replica,
  type ReplicaChange,
  type ReplicaEvents,
  type ReplicaOptions,
  type ResyncReason,
} from './replica.js'
export type { PublisherStats, ReplicaStats } from './stats.js'
export { UdpEndpoint, UdpNetwork, type UdpNetworkOptions } from './udp-endpoint.js'
export {
  WsFeedClient,
  type WsFeedClientEvents,
  type WsFeedClientOptions,
  type WsFeedClientStats,
  type WsFeedClientStatus,
} from './ws-feed-client.js'
export { WS_FEED_VERSION, type WsFeedResetReason, type WsFeedState } from './ws-feed-frame.js'
export {
  WS_FEED_SLOW_CODE,
  WsFeedServer,
  type WsFeedServerEvents,
  type WsFeedServerOptions,
  type WsFeedServerStats,
} from './ws-feed-server.js'
