export { assertService } from './check.js'
export {
  describeIssue,
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
  ServiceContext,
} from './types.js'
