/**
 * Generated clients and workers end to end: a schema project is generated into test/.tmp/, its
 * generated/index.ts imported, and the service served by two workers on a real testnet of two
 * Grapes over every transport; clients look workers up through the other Grape.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GrenacheError } from '../../runtime/errors.js'
import type {
  MapResult,
  ServeOptions,
  ServiceCallOptions,
  ServiceClientOptions,
  ServiceContext,
  ServiceMapOptions,
  ServicePublisherOptions,
  ServiceSubscriberOptions,
} from '../../runtime/index.js'
import { RpcClient, SubClient, type SubMessage } from '../../runtime/peer/index.js'
import { ServiceError } from '../../runtime/service/index.js'
import { createClientTransport } from '../../runtime/transport/factory.js'
import type { ClientTransport, TransportKind } from '../../runtime/transport/types.js'
import { tls } from '../fixtures/tls/index.js'
import { type SchemaProject, schemaProject } from '../helpers/codegen.js'
import { settledHandles, socketHandles } from '../helpers/handles.js'
import { createTestnet, type Testnet } from '../helpers/testnet.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const KINDS: TransportKind[] = ['memory', 'http', 'https', 'ws', 'wss', 'zmq']
const SECURE = new Set<TransportKind>(['https', 'wss'])

// ---------------------------------------------------------------------------------------------
// The schemas.

const CALC = `import { z } from 'zod'
import { defineService } from '@dsl'

export const calc = defineService({
  name: 'calc',
  version: 1,
  description: 'Arithmetic and notes, for the end-to-end test',
  methods: {
    divide: {
      description: 'a / b',
      input: z.object({ a: z.number(), b: z.number() }),
      output: z.object({ quotient: z.number(), worker: z.string() }),
      errors: { DIVISION_BY_ZERO: 'b is 0' },
      idempotent: true,
    },
    record: {
      description: 'Keeps a note: not safe to run twice',
      input: z.object({ note: z.string().min(1) }),
      output: z.object({ id: z.number().int().nonnegative(), worker: z.string() }),
    },
  },
  events: {
    recorded: { payload: z.object({ id: z.number().int(), note: z.string() }) },
  },
})
`

/** A service talking to existing Grenache peers: its key is pinned. */
const LEGACY = `import { z } from 'zod'
import { defineService } from '@dsl'

export const legacy = defineService({
  name: 'legacy',
  version: 1,
  key: 'calc_worker',
  methods: { ping: { input: z.object({ from: z.string() }), output: z.string() } },
})
`

/** Two majors of one service, in two files (one file cannot hold both: see cli.test.ts). */
const QUOTE_V1 = `import { z } from 'zod'
import { defineService } from '@dsl'

export const quote = defineService({
  name: 'quote',
  version: 1,
  methods: { price: { input: z.object({ pair: z.string() }), output: z.object({ price: z.number(), version: z.literal(1) }) } },
})
`
const QUOTE_V2 = `import { z } from 'zod'
import { defineService } from '@dsl'

export const quoteV2 = defineService({
  name: 'quote',
  version: 2,
  methods: {
    price: {
      input: z.object({ pair: z.string(), side: z.enum(['bid', 'ask']) }),
      output: z.object({ price: z.number(), version: z.literal(2) }),
    },
  },
})
`

// ---------------------------------------------------------------------------------------------
// What the tests use of the generated modules. These mirror the generated declarations (the test
// cannot name files that only exist at run time); 'the generated types' below type-checks real
// code against the generated files themselves.

interface Closable {
  close(): Promise<void>
}
interface Served extends Closable {
  start(): Promise<Array<{ transport: TransportKind; port: number }>>
}
interface DivideIn {
  a: number
  b: number
}
interface DivideOut {
  quotient: number
  worker: string
}
interface RecordIn {
  note: string
}
interface RecordOut {
  id: number
  worker: string
}
interface Recorded {
  id: number
  note: string
}
interface CalcWorker {
  divide(input: DivideIn, context: ServiceContext): DivideOut | Promise<DivideOut>
  record(input: RecordIn, context: ServiceContext): RecordOut | Promise<RecordOut>
}
interface CalcClient extends Closable {
  divide(input: DivideIn, options?: ServiceCallOptions): Promise<DivideOut>
  record(input: RecordIn, options?: ServiceCallOptions): Promise<RecordOut>
  readonly map: {
    divide(input: DivideIn, options?: ServiceMapOptions): Promise<MapResult<DivideOut>[]>
    record(input: RecordIn, options?: ServiceMapOptions): Promise<MapResult<RecordOut>[]>
  }
}
interface CalcModule {
  CalcClient: new (options: ServiceClientOptions) => CalcClient
  serveCalc(worker: CalcWorker, options: ServeOptions): Served
  isCalcError(error: unknown, code?: 'DIVISION_BY_ZERO'): boolean
  CalcPublisher: new (
    options: ServicePublisherOptions,
  ) => Closable & { start(): Promise<number>; readonly publish: { recorded(payload: Recorded): void } }
  CalcSubscriber: new (
    options: ServiceSubscriberOptions,
  ) => Closable & {
    start(): Promise<void>
    on(event: 'recorded', listener: (payload: Recorded) => void): unknown
  }
  LegacyClient: new (
    options: ServiceClientOptions,
  ) => Closable & { ping(input: { from: string }): Promise<string> }
  serveLegacy(worker: { ping(input: { from: string }): string }, options: ServeOptions): Served
}
interface QuoteOut {
  price: number
  version: number
}
interface QuoteModule {
  QuoteClient: new (
    options: ServiceClientOptions,
  ) => Closable & {
    price(input: { pair: string; side?: 'bid' | 'ask' }): Promise<QuoteOut>
    readonly map: { price(input: { pair: string; side?: 'bid' | 'ask' }): Promise<MapResult<QuoteOut>[]> }
  }
  serveQuote(worker: { price(input: { pair: string }): QuoteOut }, options: ServeOptions): Served
}

/** Code that uses the generated API as a user would; `tsc` must accept it, `@ts-expect-error` lines included. */
const USAGE = `import type { Discovery } from '../../../runtime/index.js'
import {
  CalcClient,
  CalcPublisher,
  CalcSubscriber,
  type CalcWorker,
  type CalcDivideInput,
  type CalcRecordOutput,
  isCalcError,
  LegacyClient,
  serveCalc,
} from './generated/index.js'

declare const link: Discovery

export async function calls(): Promise<void> {
  const client = new CalcClient({ link, transport: 'ws', validateInput: true })
  const { quotient, worker }: { quotient: number; worker: string } = await client.divide({ a: 1, b: 2 })
  const recorded: { id: number; worker: string } = await client.record({ note: 'x' }, { timeoutMs: 100 })
  const input: CalcDivideInput = { a: 1, b: 2 }
  // @ts-expect-error b is a number
  await client.divide({ a: 1, b: '2' })
  // @ts-expect-error note is required
  await client.record({})
  // @ts-expect-error no such method
  await client.multiply({ a: 1, b: 2 })
  for (const result of await client.map.record({ note: 'x' }, { limit: 2 })) {
    if (result.ok) {
      const output: CalcRecordOutput = result.value
      const id: number = result.value.id
      void output, id
    } else {
      const code: string = result.error.code
      void code
    }
  }
  const error: unknown = await client.divide(input).catch((err: unknown) => err)
  if (isCalcError(error, 'DIVISION_BY_ZERO')) {
    const code: 'DIVISION_BY_ZERO' = error.remoteCode
    void code
  }
  // @ts-expect-error not a declared error code
  isCalcError(error, 'NOT_DECLARED')
  const pong: string = await new LegacyClient({ link, transport: 'http' }).ping({ from: 'me' })
  void quotient, worker, recorded, pong
  await client.close()
}

const worker: CalcWorker = {
  divide: ({ a, b }) => ({ quotient: a / b, worker: 'w' }),
  record: async ({ note }, context) => ({ id: note.length, worker: context.method }),
}
// @ts-expect-error a worker has a function for every method
const partial: CalcWorker = { divide: worker.divide }
// @ts-expect-error record returns { id: number, worker: string }
const wrong: CalcWorker = { ...worker, record: () => ({ id: 'x', worker: 'w' }) }
void partial, wrong
export const server = serveCalc(worker, { link, listen: [{ transport: 'ws' }], validateOutput: true })

export function events(): void {
  const publisher = new CalcPublisher({ link, transport: 'zmq' })
  publisher.publish.recorded({ id: 1, note: 'x' })
  // @ts-expect-error id is a number
  publisher.publish.recorded({ id: '1', note: 'x' })
  // @ts-expect-error no such event
  publisher.publish.deleted({ id: 1 })
  const subscriber = new CalcSubscriber({ link, transport: 'zmq' })
  subscriber.on('recorded', (payload) => {
    const id: number = payload.id
    const note: string = payload.note
    void id, note
  })
  // @ts-expect-error no such event
  subscriber.on('deleted', () => undefined)
}
`

// ---------------------------------------------------------------------------------------------

/** A client transport that counts the requests it sends. */
function counting(kind: TransportKind): ClientTransport & { requests: number } {
  const inner = createClientTransport(kind, SECURE.has(kind) ? { tls: { ca: tls.ca } } : {})
  const transport = {
    kind: inner.kind,
    requests: 0,
    request(...args: Parameters<ClientTransport['request']>) {
      transport.requests++
      return inner.request(...args)
    },
    isWarm: (address: string) => inner.isWarm(address),
    close: () => inner.close(),
  }
  return transport
}

/** Polls `condition` until it holds; fails after `timeoutMs`. */
async function until(what: string, condition: () => boolean, timeoutMs = 10_000, tick?: () => void) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs} ms`)
    tick?.()
    await delay(50)
  }
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    (value) => {
      throw new Error(`resolved with ${JSON.stringify(value)}`)
    },
    (err: unknown) => err,
  )

const before = socketHandles()
let calcProject: SchemaProject
let quoteProject: SchemaProject
let generated: CalcModule
let quoteV1: QuoteModule
let quoteV2: QuoteModule
let tsc: ChildProcess | undefined

beforeAll(async () => {
  calcProject = schemaProject({ 'schemas/calc.schema.ts': CALC, 'schemas/legacy.schema.ts': LEGACY })
  quoteProject = schemaProject({
    'schemas/quote.schema.ts': QUOTE_V1,
    'schemas/quote-v2.schema.ts': QUOTE_V2,
  })
  await Promise.all([calcProject.generate(true), quoteProject.generate(true)])
  generated = await calcProject.import<CalcModule>('generated/index.ts')
  quoteV1 = await quoteProject.import<QuoteModule>('generated/quote.gen.ts')
  // From version 2 on the generated names carry the major: QuoteV2Client, serveQuoteV2.
  const v2 = await quoteProject.import<{
    QuoteV2Client: QuoteModule['QuoteClient']
    serveQuoteV2: QuoteModule['serveQuote']
  }>('generated/quote-v2.gen.ts')
  quoteV2 = { QuoteClient: v2.QuoteV2Client, serveQuote: v2.serveQuoteV2 }
}, 60_000)

afterAll(async () => {
  if (tsc?.pid !== undefined && tsc.exitCode === null && tsc.signalCode === null)
    process.kill(tsc.pid, 'SIGKILL')
  calcProject?.remove()
  quoteProject?.remove()
  expect(await settledHandles(before)).toEqual(before)
})

describe('the generated types', () => {
  it('type-check user code: typed inputs, outputs, map results, declared errors, workers and events', async () => {
    writeFileSync(join(calcProject.root, 'usage.ts'), USAGE)
    writeFileSync(
      join(calcProject.root, 'tsconfig.json'),
      `${JSON.stringify({
        extends: '../../../tsconfig.json',
        include: ['generated', 'schemas', 'usage.ts', '../../../runtime/types'],
      })}\n`,
    )
    tsc = spawn(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], {
      cwd: calcProject.root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    tsc.stdout?.on('data', (chunk: Buffer) => {
      output += chunk
    })
    tsc.stderr?.on('data', (chunk: Buffer) => {
      output += chunk
    })
    const [code] = await once(tsc, 'close')
    expect(output).toBe('')
    expect(code).toBe(0)
  }, 60_000)
})

describe.each(KINDS)('over %s', (kind) => {
  const secure = SECURE.has(kind)
  const clientTls = secure ? { tls: { ca: tls.ca } } : {}
  const listen = [{ transport: kind, ...(secure ? { tls: { ...tls.server, ca: tls.ca } } : {}) }]
  let net: Testnet
  let client: CalcClient
  const servers: Closable[] = []
  const clients: Closable[] = []
  /** Replies of `record({ note: 'hang' })`, released before the workers close. */
  const hanging: Array<() => void> = []
  let nextId = 0

  function worker(name: string): CalcWorker {
    return {
      divide: ({ a, b }) => {
        if (b === 0) throw new ServiceError('DIVISION_BY_ZERO', `${a} / 0`)
        return { quotient: a / b, worker: name }
      },
      record: ({ note }) => {
        if (note === 'hang')
          return new Promise((resolve) => hanging.push(() => resolve({ id: 0, worker: name })))
        if (note === 'bad output') return { id: -1, worker: name }
        return { id: nextId++, worker: name }
      },
    }
  }

  function serve<T extends Served>(server: T): T {
    servers.push(server)
    return server
  }

  function connect<T extends Closable>(c: T): T {
    clients.push(c)
    return c
  }

  beforeAll(async () => {
    net = await createTestnet(2)
    const link = net.link(0, { announceIntervalMs: 60_000 })
    // Worker a checks its results (validateOutput, the default), worker b does not.
    const a = serve(generated.serveCalc(worker('a'), { link, listen }))
    const b = serve(generated.serveCalc(worker('b'), { link, listen, validateOutput: false }))
    await Promise.all([a.start(), b.start()])
    client = connect(new generated.CalcClient({ link: net.link(1), transport: kind, ...clientTls }))
  }, 30_000)

  afterAll(async () => {
    for (const release of hanging.splice(0)) release()
    await Promise.all(clients.map((c) => c.close()))
    await Promise.all(servers.map((s) => s.close()))
    await net?.close()
  })

  it('calls a method through the other Grape and gets its typed result', async () => {
    await expect(client.divide({ a: 6, b: 3 })).resolves.toEqual({
      quotient: 2,
      worker: expect.stringMatching(/^[ab]$/),
    })
    await expect(client.record({ note: 'hello' })).resolves.toEqual({
      id: expect.any(Number),
      worker: expect.stringMatching(/^[ab]$/),
    })
  })

  it('calls every worker with client.map.<method>', async () => {
    await expect
      .poll(async () => (await client.map.divide({ a: 1, b: 4 })).length, { timeout: 15_000, interval: 200 })
      .toBe(2)
    const results = await client.map.divide({ a: 1, b: 4 })
    expect(results.every((r) => r.ok)).toBe(true)
    expect(
      results
        .map((r) => (r.ok ? r.value : null))
        .sort((x, y) => (x?.worker ?? '').localeCompare(y?.worker ?? '')),
    ).toEqual([
      { quotient: 0.25, worker: 'a' },
      { quotient: 0.25, worker: 'b' },
    ])
    expect(new Set(results.map((r) => r.worker)).size).toBe(2)
  })

  it("answers an invalid input with ERR_INVALID_INPUT naming the field (the worker's refusal lifted)", async () => {
    await expect(client.record({ note: '' })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringMatching(/^calc\.record: note: /),
      issues: [{ path: ['note'] }],
    })
    await expect(client.divide({ a: 1, b: 'two' } as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringMatching(/^calc\.divide: b: /),
    })
  })

  it('delivers a declared error, which the generated isCalcError recognises', async () => {
    const error = await rejection(client.divide({ a: 1, b: 0 }))
    expect(error).toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'DIVISION_BY_ZERO',
      message: 'DIVISION_BY_ZERO: 1 / 0',
    })
    expect(generated.isCalcError(error, 'DIVISION_BY_ZERO')).toBe(true)
    expect(generated.isCalcError(error)).toBe(true)
    const invalid = await rejection(client.record({ note: '' }))
    expect(generated.isCalcError(invalid)).toBe(false)
    expect(generated.isCalcError(new Error('DIVISION_BY_ZERO: 1 / 0'))).toBe(false)
  })

  it('answers an unknown method sent raw with ERR_UNKNOWN_ACTION; the raw envelope of a known one works', async () => {
    const raw = connect(new RpcClient({ link: net.link(1), transport: kind, ...clientTls }))
    await expect(raw.request('calc@1', { action: 'nope', args: [] })).rejects.toMatchObject({
      code: 'ERR_REMOTE',
      remoteCode: 'ERR_UNKNOWN_ACTION',
      message: 'ERR_UNKNOWN_ACTION: nope',
    })
    await expect(raw.request('calc@1', { action: 'divide', args: [{ a: 9, b: 3 }] })).resolves.toMatchObject({
      quotient: 3,
    })
  })

  it('times a call out with ERR_TIMEOUT when the worker never answers', async () => {
    const started = Date.now()
    const error = await rejection(client.record({ note: 'hang' }, { timeoutMs: 300 }))
    expect(error).toBeInstanceOf(GrenacheError)
    expect(error).toMatchObject({ code: 'ERR_TIMEOUT' })
    expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    expect(Date.now() - started).toBeLessThan(10_000)
  })

  it('with validateInput, rejects an invalid input locally with ERR_INVALID_INPUT, sending nothing', async () => {
    const transport = counting(kind)
    const checking = new generated.CalcClient({ link: net.link(1), transport, validateInput: true })
    try {
      const error = await rejection(checking.record({ note: '' }))
      expect(error).toBeInstanceOf(GrenacheError)
      expect(error).toMatchObject({
        code: 'ERR_INVALID_INPUT',
        message: expect.stringMatching(/^calc\.record: note: /),
      })
      expect(transport.requests).toBe(0)
      await expect(checking.divide({ a: 4, b: 2 })).resolves.toMatchObject({ quotient: 2 })
      expect(transport.requests).toBe(1)
    } finally {
      await checking.close()
      await transport.close()
    }
  })

  it('with validateOutput, turns a wrong result into ERR_INVALID_OUTPUT (the worker without it lets it through)', async () => {
    await expect
      .poll(async () => (await client.map.divide({ a: 1, b: 1 })).length, { timeout: 15_000, interval: 200 })
      .toBe(2)
    const results = await client.map.record({ note: 'bad output' })
    const passed = results.filter((r) => r.ok)
    const refused = results.filter((r) => !r.ok)
    expect(passed.map((r) => r.value)).toEqual([{ id: -1, worker: 'b' }])
    expect(refused).toHaveLength(1)
    expect(refused[0]?.ok === false && refused[0].error).toMatchObject({
      code: 'ERR_INVALID_OUTPUT',
      message: expect.stringMatching(/^calc\.record: id: /),
    })
  })

  it('runs two majors side by side: a v1 client only ever reaches v1 workers, and v2 only v2', async () => {
    const link = net.link(0, { announceIntervalMs: 60_000 })
    const one = serve(quoteV1.serveQuote({ price: () => ({ price: 10, version: 1 }) }, { link, listen }))
    const two = serve(quoteV2.serveQuote({ price: () => ({ price: 20, version: 2 }) }, { link, listen }))
    await Promise.all([one.start(), two.start()])
    const v1 = connect(new quoteV1.QuoteClient({ link: net.link(1), transport: kind, ...clientTls }))
    const v2 = connect(new quoteV2.QuoteClient({ link: net.link(1), transport: kind, ...clientTls }))
    // Both majors are visible through the other Grape before v1 is put to the test.
    await expect
      .poll(async () => (await v2.map.price({ pair: 'BTCUSD', side: 'bid' })).length, {
        timeout: 15_000,
        interval: 200,
      })
      .toBe(1)
    const calls = await Promise.all(Array.from({ length: 10 }, () => v1.price({ pair: 'BTCUSD' })))
    expect(calls).toEqual(Array.from({ length: 10 }, () => ({ price: 10, version: 1 })))
    expect((await v1.map.price({ pair: 'BTCUSD' })).map((r) => (r.ok ? r.value : r.error))).toEqual([
      { price: 10, version: 1 },
    ])
    await expect(v2.price({ pair: 'BTCUSD', side: 'ask' })).resolves.toEqual({ price: 20, version: 2 })
    // A v1 input is not a v2 input: the v2 worker says which field is missing.
    await expect(v2.price({ pair: 'BTCUSD' })).rejects.toMatchObject({
      code: 'ERR_INVALID_INPUT',
      message: expect.stringMatching(/^quote\.price: side: /),
    })
  })

  it('announces a service with a pinned key under that key as it is', async () => {
    const server = serve(
      generated.serveLegacy(
        { ping: ({ from }) => `pong to ${from}` },
        { link: net.link(0, { announceIntervalMs: 60_000 }), listen },
      ),
    )
    const [endpoint] = await server.start()
    const lookup = net.link(1)
    await expect
      .poll(() => lookup.lookup('calc_worker').catch((err: unknown) => err), {
        timeout: 10_000,
        interval: 100,
      })
      .toEqual([`127.0.0.1:${endpoint?.port}`])
    for (const tagged of [`calc_worker/${kind}`, `legacy@1/${kind}`]) {
      await expect(lookup.lookup(tagged)).rejects.toMatchObject({ code: 'ERR_LOOKUP_EMPTY' })
    }
    const legacy = connect(new generated.LegacyClient({ link: net.link(1), transport: kind, ...clientTls }))
    await expect(legacy.ping({ from: kind })).resolves.toBe(`pong to ${kind}`)
  })

  if (kind === 'ws' || kind === 'zmq')
    it('publishes typed events that arrive typed; publish refuses an invalid payload', async () => {
      const publisher = new generated.CalcPublisher({
        link: net.link(0, { announceIntervalMs: 60_000 }),
        transport: kind,
      })
      servers.push(publisher)
      await publisher.start()
      const subscriber = connect(new generated.CalcSubscriber({ link: net.link(1), transport: kind }))
      const received: Recorded[] = []
      subscriber.on('recorded', (payload) => received.push(payload))
      // The same events as they travel: a ZeroMQ topic, or a WebSocket { event, payload } frame.
      const raw = connect(new SubClient({ link: net.link(1), name: 'calc@1.events', transport: kind }))
      const frames: SubMessage[] = []
      raw.on('sub:message', (message) => frames.push(message))
      await Promise.all([subscriber.start(), raw.start()])

      // A subscription takes a moment to reach the publisher: publish until both have one.
      await until(
        'the first event',
        () => received.length > 0 && frames.length > 0,
        15_000,
        () => publisher.publish.recorded({ id: 1, note: 'first' }),
      )
      expect(received[0]).toEqual({ id: 1, note: 'first' })
      const frame = frames[0] as SubMessage
      if (kind === 'zmq') {
        expect(frame.topic).toBe('recorded')
        expect(JSON.parse(String(frame.data))).toEqual({ id: 1, note: 'first' })
      } else {
        expect(frame.topic).toBeUndefined()
        expect(JSON.parse(String(frame.data))).toEqual({
          event: 'recorded',
          payload: { id: 1, note: 'first' },
        })
      }

      expect(() => publisher.publish.recorded({ id: 1.5, note: 'x' })).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringMatching(/^calc event recorded: id: /),
        }),
      )
      expect(() => publisher.publish.recorded({ id: 2 } as never)).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_ARGUMENT',
          message: expect.stringMatching(/^calc event recorded: note: /),
        }),
      )
      const count = received.length
      publisher.publish.recorded({ id: 3, note: 'last' })
      await until('the last event', () => received.some((p) => p.id === 3))
      expect(received.slice(count)).toEqual([{ id: 3, note: 'last' }])
      expect(received.every((p) => p.id === 1 || p.id === 3)).toBe(true)
    })
})

describe('two majors generated into one project', () => {
  it('are both exported by the generated index.ts', async () => {
    const barrel = await quoteProject.import('generated/index.ts')
    expect(barrel.QuoteClient).toBe(quoteV1.QuoteClient)
    expect(barrel.QuoteV2Client).toBe(quoteV2.QuoteClient)
    expect(barrel.serveQuoteV2).toBe(quoteV2.serveQuote)
  })
})
