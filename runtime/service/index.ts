export { assertService } from './check.js'
export {
  METADATA_LIMITS,
  type Metadata,
  type PeerIdentity,
  type ServiceContext,
} from './context.js'
export type {
  ClientCall,
  ClientCallRequest,
  ClientInterceptor,
  ServerCall,
  ServerCallRequest,
  ServerInterceptor,
} from './interceptors.js'
export { describeIssue, describeIssues } from './issues.js'
export {
  type ServiceCallOptions,
  ServiceClient,
  type ServiceClientOptions,
  type ServiceMapOptions,
} from './service-client.js'
export { isDeclaredError, ServiceError } from './service-error.js'
export {
  eventsName,
  ServicePublisher,
  type ServicePublisherOptions,
  ServiceSubscriber,
  type ServiceSubscriberEvents,
  type ServiceSubscriberOptions,
} from './service-events.js'
export { type ServeOptions, ServiceServer, serveService } from './service-server.js'
export type {
  EventPayload,
  Implementation,
  MethodInput,
  MethodOutput,
  ParsedInput,
} from './types.js'
export type { WorkerErrorInfo } from './worker-errors.js'
