import { z } from 'zod'
import { GrenacheError } from '../../../runtime/errors.js'
import { defineService } from '../../../runtime/schema.js'
import {
  type Implementation,
  type ServeOptions,
  ServiceClient,
  type ServiceClientOptions,
  ServiceServer,
} from '../../../runtime/service/index.js'
import { StaticDiscovery } from '../../helpers/static-discovery.js'

/** A small service for the ServiceServer/ServiceClient tests. */
export const shop = defineService({
  name: 'shop',
  version: 1,
  methods: {
    order: {
      input: z.object({ sku: z.string(), qty: z.number().int().min(1) }),
      output: z.object({ id: z.number(), status: z.string().default('new') }),
      errors: { UNKNOWN_SKU: 'no such sku', OUT_OF_STOCK: 'none left' },
    },
    slow: { input: z.object({ ms: z.number() }), output: z.string() },
  },
})

/** `err`'s code, or a note that it resolved or threw something else. */
export const code = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (err: unknown) => (err instanceof GrenacheError ? err.code : `not a GrenacheError: ${String(err)}`),
  )

/** What a test closes when it ends. */
export const closers: Array<{ close(): Promise<void> }> = []

/** Starts a shop worker on the memory transport (or `transport`), returns its discovery. */
export async function startShop(
  worker: Partial<Implementation<typeof shop>>,
  options: Partial<ServeOptions> = {},
  link = new StaticDiscovery(),
): Promise<StaticDiscovery> {
  const full = { order: () => ({ id: 1, status: 'new' }), slow: () => 'done', ...worker }
  const server = new ServiceServer(shop, full as Implementation<typeof shop>, {
    link,
    listen: [{ transport: 'memory' }],
    onError: () => {},
    ...options,
  })
  closers.push(server)
  await server.start()
  return link
}

export function shopClient(link: StaticDiscovery, options: Partial<ServiceClientOptions> = {}) {
  const client = new ServiceClient(shop, { link, transport: 'memory', ...options })
  closers.push(client)
  return client
}
