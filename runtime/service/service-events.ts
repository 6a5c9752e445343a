import { EventEmitter } from 'node:events'
import { GrenacheError } from '../errors.js'
import type { Discovery } from '../peer/discovery.js'
import { PubServer, type PubSubKind } from '../peer/pub-server.js'
import { SubClient, type SubMessage } from '../peer/sub-client.js'
import { type ServiceDefinition, serviceDiscovery, serviceKey } from '../schema.js'
import type { TlsOptions } from '../transport/types.js'
import type { CallOptions } from '../util/deadline.js'
import { assertService } from './check.js'
import { describeIssues } from './issues.js'

/** The pub/sub name of a service's events: `<key>.events`. */
export function eventsName(service: ServiceDefinition): string {
  return `${serviceKey(service)}.events`
}

export interface ServicePublisherOptions {
  link?: Discovery
  /** `zmq` (an event is a topic) or `ws`/`wss` (a JSON `{ event, payload }` frame). */
  transport: PubSubKind
  port?: number
  host?: string
  tls?: TlsOptions
}

/**
 * Publishes the events a service declares. Each payload is checked against its schema before it
 * leaves (`ERR_INVALID_ARGUMENT` naming the field), so subscribers only ever see valid payloads.
 */
export class ServicePublisher<S extends ServiceDefinition = ServiceDefinition> {
  readonly service: S
  readonly #pub: PubServer

  constructor(service: S, options: ServicePublisherOptions) {
    assertService(service)
    this.service = service
    this.#pub = new PubServer({ ...options, name: eventsName(service), discovery: serviceDiscovery(service) })
  }

  start(options?: CallOptions): Promise<number> {
    return this.#pub.start(options)
  }

  /** Subscribers connected now (WebSocket only). */
  get subscribers(): number | undefined {
    return this.#pub.subscribers
  }

  publish(event: string, payload: unknown): void {
    const definition = Object.hasOwn(this.service.events ?? {}, event)
      ? this.service.events?.[event]
      : undefined
    if (!definition)
      throw new GrenacheError('ERR_INVALID_ARGUMENT', `${this.service.name} has no event ${event}`)
    const checked = definition.payload.safeParse(payload)
    if (!checked.success) {
      throw new GrenacheError(
        'ERR_INVALID_ARGUMENT',
        `${this.service.name} event ${event}: ${describeIssues(checked.error.issues)}`,
      )
    }
    if (this.#pub.kind === 'zmq') this.#pub.publish(JSON.stringify(payload), event)
    else this.#pub.publish(JSON.stringify({ event, payload }))
  }

  close(): Promise<void> {
    return this.#pub.close()
  }
}

export interface ServiceSubscriberOptions {
  link: Discovery
  transport: PubSubKind
  tls?: TlsOptions
  /** ZeroMQ: receive only these events (default: all). */
  events?: readonly string[]
  /** `all` (default): hear every publishing worker, those that start later too; `one`: one of them. */
  publishers?: 'all' | 'one'
  /** How often the publishers are looked up again, in ms. Default 5000. */
  refreshMs?: number
}

/** Events of a `ServiceSubscriber`. */
export interface ServiceSubscriberEvents {
  /** A valid event: its name and payload. */
  event: [event: string, payload: unknown]
  /** A message that is not a declared event with a valid payload; dropped. */
  'sub:invalid': [error: GrenacheError]
  'sub:connected': [address: string]
  'sub:disconnected': [address: string]
}

/**
 * Receives a service's events, checks each payload against its schema, and emits the valid ones
 * as `event` (generated subscribers turn that into one typed callback per event).
 */
export class ServiceSubscriber<
  S extends ServiceDefinition = ServiceDefinition,
> extends EventEmitter<ServiceSubscriberEvents> {
  readonly service: S
  readonly #sub: SubClient

  constructor(service: S, options: ServiceSubscriberOptions) {
    super()
    assertService(service)
    this.service = service
    const { events, ...rest } = options
    this.#sub = new SubClient({
      ...rest,
      name: eventsName(service),
      discovery: serviceDiscovery(service),
      ...(options.transport === 'zmq' && events ? { topics: [...events] } : {}),
    })
    this.#sub.on('sub:message', (message) => this.#receive(message))
    this.#sub.on('sub:connected', (address) => this.emit('sub:connected', address))
    this.#sub.on('sub:disconnected', (address) => this.emit('sub:disconnected', address))
  }

  start(options?: CallOptions): Promise<void> {
    return this.#sub.start(options)
  }

  close(): Promise<void> {
    return this.#sub.close()
  }

  #receive(message: SubMessage): void {
    let event: string | undefined
    let payload: unknown
    try {
      if (message.topic !== undefined) {
        event = message.topic
        payload = JSON.parse(String(message.data))
      } else {
        ;({ event, payload } = JSON.parse(String(message.data)) as { event?: string; payload?: unknown })
      }
    } catch {
      this.#invalid('a message that is not JSON')
      return
    }
    const definition =
      typeof event === 'string' && Object.hasOwn(this.service.events ?? {}, event)
        ? this.service.events?.[event]
        : undefined
    if (!definition || event === undefined) {
      this.#invalid(`an undeclared event ${JSON.stringify(event)}`)
      return
    }
    const checked = definition.payload.safeParse(payload)
    if (!checked.success) {
      this.#invalid(`event ${event}: ${describeIssues(checked.error.issues)}`)
      return
    }
    this.emit('event', event, checked.data)
  }

  #invalid(what: string): void {
    this.emit('sub:invalid', new GrenacheError('ERR_BAD_REQUEST', `${this.service.name}: dropped ${what}`))
  }
}
