export { type Action, actionHandler } from './action-handler.js'
export { type Discovery, type DiscoveryMode, discoveryName } from './discovery.js'
export { PubServer, type PubServerOptions, type PubSubKind } from './pub-server.js'
export {
  type MapOptions,
  type MapResult,
  type RequestOptions,
  RpcClient,
  type RpcClientOptions,
} from './rpc-client.js'
export {
  type HandleOptions,
  type Handler,
  type ListenOptions,
  RpcServer,
  type RpcServerOptions,
} from './rpc-server.js'
export { SubClient, type SubClientEvents, type SubClientOptions, type SubMessage } from './sub-client.js'
export { WorkerPicker } from './worker-picker.js'
