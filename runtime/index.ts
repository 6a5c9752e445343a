export {
  createSigner,
  encodeSignedData,
  expandSeed,
  generateKeyPair,
  immutableTarget,
  type KeyPair,
  mutableTarget,
  type SignedFields,
  type Signer,
  verifySignature,
} from './bep44/index.js'
export {
  ERROR_CODES,
  type ErrorCode,
  GrenacheError,
  isGrenacheError,
  toGrenacheError,
  type ValidationIssue,
} from './errors.js'
export {
  Grape,
  type GrapeAddress,
  type GrapeEvents,
  type GrapeOptions,
  type VerifyFunction,
} from './grape/index.js'
export {
  type DhtItem,
  type GetOptions,
  Link,
  type LinkEvents,
  type LinkOptions,
  type PutMutableOptions,
} from './link/index.js'
export {
  type Action,
  actionHandler,
  type Discovery,
  type DiscoveryMode,
  discoveryName,
  type HandleOptions,
  type Handler,
  type ListenOptions,
  type MapOptions,
  type MapResult,
  PubServer,
  type PubServerOptions,
  type PubSubKind,
  type RequestOptions,
  RpcClient,
  type RpcClientOptions,
  RpcServer,
  type RpcServerOptions,
  SubClient,
  type SubClientEvents,
  type SubClientOptions,
  type SubMessage,
} from './peer/index.js'
export * from './replication/index.js'
export {
  checkService,
  defineService,
  type EventDefinition,
  type MethodDefinition,
  type ServiceDefinition,
  serviceKey,
} from './schema.js'
export * from './service/index.js'
export * from './state/index.js'
export * from './transport/index.js'
export type { CallOptions } from './util/deadline.js'
