/**
 * The schema files of the generator timing: `count` services, one per `svcNN.schema.ts`, written
 * into a throwaway project. Deterministic and varied: 2 to 5 methods each, nested objects, enums,
 * arrays, records, optional and nullable fields, unions, declared errors, idempotent methods, events
 * on every third service, a pinned legacy key and a second major version here and there, and shared
 * zod types imported from a plain `common.ts` (`./common.js`, as NodeNext imports are written).
 *
 * The files import the DSL through a relative path to `runtime/schema.ts` (`.js` specifier), which
 * the built loader's hooks resolve and transpile; `zod` resolves from the repository's node_modules
 * because the project lives inside the repository.
 */
import { posix } from 'node:path'

/** Domain (service name stem) → entity (type and method name stem). */
const DOMAINS: ReadonlyArray<readonly [string, string]> = [
  ['orders', 'Order'],
  ['billing', 'Invoice'],
  ['users', 'User'],
  ['inventory', 'Stock'],
  ['shipping', 'Parcel'],
  ['pricing', 'Price'],
  ['reports', 'Report'],
  ['accounts', 'Account'],
  ['search', 'Query'],
  ['notify', 'Message'],
]

/** One method template: its name stem, input and output zod source, errors, idempotent. */
interface MethodTemplate {
  name: (entity: string) => string
  input: (entity: string) => string
  output: (entity: string) => string
  errors?: Record<string, string>
  idempotent?: boolean
}

const METHODS: MethodTemplate[] = [
  {
    name: (e) => `get${e}`,
    input: () => 'z.object({ id: z.string().min(1).max(64) })',
    output: (e) => `${lower(e)}Record`,
    errors: { NOT_FOUND: 'no record with this id' },
    idempotent: true,
  },
  {
    name: (e) => `list${e}s`,
    input: () =>
      'z.object({ page, status: z.array(status).optional(), since: z.number().int().nonnegative().optional() })',
    output: (e) =>
      `z.object({ items: z.array(${lower(e)}Record), next: z.string().nullable(), total: z.number().int() })`,
    idempotent: true,
  },
  {
    name: (e) => `create${e}`,
    input: (e) =>
      `z.object({ owner: z.string().min(1), amount: money, tags: z.array(z.string().max(32)).max(16).default([]), meta: z.record(z.string(), z.string()).optional(), kind: ${lower(e)}Kind })`,
    output: () => 'z.object({ id: z.string(), createdAt: z.number().int() })',
    errors: { CONFLICT: 'a record with this owner exists', LIMIT_REACHED: 'the owner has too many records' },
  },
  {
    name: (e) => `update${e}`,
    input: (e) =>
      `z.object({ id: z.string(), patch: z.object({ amount: money.optional(), kind: ${lower(e)}Kind.optional(), address: address.nullable().optional() }), expectedVersion: z.number().int().min(0) })`,
    output: (e) => `${lower(e)}Record`,
    errors: { NOT_FOUND: 'no record with this id', STALE_VERSION: 'the record changed since it was read' },
  },
  {
    name: (e) => `remove${e}`,
    input: () => "z.object({ id: z.string(), reason: z.enum(['user', 'fraud', 'expired']).optional() })",
    output: () => 'z.boolean()',
    errors: { NOT_FOUND: 'no record with this id' },
    idempotent: true,
  },
  {
    name: (e) => `quote${e}`,
    input: () =>
      "z.object({ lines: z.array(z.object({ sku: z.string(), qty: z.number().int().positive() })).min(1).max(100), currency: z.enum(['USD', 'EUR', 'BTC']) })",
    output: () =>
      "z.discriminatedUnion('ok', [z.object({ ok: z.literal(true), total: money, breakdown: z.array(z.tuple([z.string(), z.number()])) }), z.object({ ok: z.literal(false), reason: z.string() })])",
    errors: { RATE_LIMITED: 'too many quotes, retry later' },
  },
]

const COMMON = `import { z } from 'zod'

/** Shared types of the bench's generated services. */
export const money = z.object({ amount: z.number(), currency: z.enum(['USD', 'EUR', 'BTC']) })
export const page = z.object({ cursor: z.string().optional(), limit: z.number().int().min(1).max(500).default(50) })
export const status = z.enum(['new', 'active', 'suspended', 'closed'])
export const address = z.object({
  line1: z.string(),
  line2: z.string().optional(),
  city: z.string(),
  country: z.string().length(2),
  geo: z.object({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) }).optional(),
})
`

function lower(name: string): string {
  return name[0]?.toLowerCase() + name.slice(1)
}

function pad(i: number): string {
  return String(i).padStart(2, '0')
}

/** The source of service `i` (1-based) in a file beside `common.ts`; `dsl` is the import specifier of the DSL. */
function serviceSource(i: number, dsl: string): string {
  const [domain, entity] = DOMAINS[(i - 1) % DOMAINS.length] as readonly [string, string]
  const name = `${domain}${pad(i)}`
  const version = i % 7 === 0 ? 2 : 1
  const count = 2 + ((i * 3) % 4)
  const methods = Array.from({ length: count }, (_, k) => METHODS[(i + k) % METHODS.length] as MethodTemplate)
  const record = `${lower(entity)}Record`
  const kind = `${lower(entity)}Kind`
  const lines = [
    `import { z } from 'zod'`,
    `import { defineService } from '${dsl}'`,
    `import { address, money, page, status } from './common.js'`,
    '',
    `const ${kind} = z.enum(['standard', 'express', 'bulk', 'kind${i}'])`,
    `const ${record} = z.object({`,
    '  id: z.string(),',
    '  status,',
    '  owner: z.object({ id: z.string(), name: z.string().max(200), email: z.string().optional() }),',
    '  amount: money,',
    `  kind: ${kind},`,
    '  address: address.optional(),',
    '  items: z.array(z.object({ sku: z.string(), qty: z.number().int().min(0), price: money })).max(1000),',
    '  labels: z.record(z.string(), z.string()),',
    '  version: z.number().int().min(0),',
    '})',
    '',
    `/** Service ${i} of the generator bench (${domain}). */`,
    `export const ${name} = defineService({`,
    `  name: '${name}',`,
    `  version: ${version},`,
    ...(i % 10 === 3 ? [`  key: 'legacy_${domain}_worker_${pad(i)}',`] : []),
    `  description: 'Bench service ${i}: ${domain} records.',`,
    '  methods: {',
  ]
  for (const method of methods) {
    lines.push(`    ${method.name(entity)}: {`)
    lines.push(`      description: '${method.name(entity)} of service ${i}.',`)
    lines.push(`      input: ${method.input(entity)},`)
    lines.push(`      output: ${method.output(entity)},`)
    if (method.errors) {
      const errors = Object.entries(method.errors).map(([code, text]) => `${code}: '${text}'`)
      lines.push(`      errors: { ${errors.join(', ')} },`)
    }
    if (method.idempotent) lines.push('      idempotent: true,')
    lines.push('    },')
  }
  lines.push('  },')
  if (i % 3 === 0) {
    lines.push('  events: {')
    lines.push(`    ${lower(entity)}Changed: {`)
    lines.push(`      description: 'A record of service ${i} changed.',`)
    lines.push(
      `      payload: z.object({ id: z.string(), status, at: z.number().int(), record: ${record} }),`,
    )
    lines.push('    },')
    if (i % 2 === 0) {
      lines.push(
        `    ${lower(entity)}Removed: { payload: z.object({ id: z.string(), reason: z.string().nullable() }) },`,
      )
    }
    lines.push('  },')
  }
  lines.push('})', '')
  return lines.join('\n')
}

/**
 * The files of `count` services for a schemas directory at `schemasDir` (relative to the repository
 * root): `common.ts` and `svc01.schema.ts`…, by file name.
 */
export function schemaFiles(count: number, schemasDir: string): Map<string, string> {
  const dsl = posix.relative(schemasDir, 'runtime/schema.js')
  const files = new Map<string, string>([['common.ts', COMMON]])
  for (let i = 1; i <= count; i++) files.set(`svc${pad(i)}.schema.ts`, serviceSource(i, dsl))
  return files
}
