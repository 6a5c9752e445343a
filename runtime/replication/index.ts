export type { DatagramAddress, DatagramEndpoint, DatagramListener, DatagramNetwork } from './endpoint.js'
export type { FeedTransport } from './feed-transport.js'
export { type Impairments, LossyEndpoint, type LossyOptions, type LossyStats, lossy } from './lossy.js'
export { type LossyNetwork, lossyNetwork } from './lossy-network.js'
export { MemoryEndpoint, MemoryNetwork, type MemoryNetworkOptions } from './memory-network.js'
export { Prng } from './prng.js'
export { Publisher, type PublisherEvents, type PublisherOptions } from './publisher.js'
export {
  Replica,
  type ReplicaChange,
  type ReplicaEvents,
  type ReplicaOptions,
  type ResyncReason,
} from './replica.js'
export type { PublisherStats, ReplicaStats } from './stats.js'
export { UdpEndpoint, UdpNetwork, type UdpNetworkOptions } from './udp-endpoint.js'
