import Handlebars from 'handlebars'

/**
 * The static bodies of a generated service file. Every name in them comes from the context (the
 * emitter resolves imports and names); the templates only place them.
 */
const engine = Handlebars.create()

/** A JSDoc block from lines (`*\/` inside a line cannot end the comment). */
engine.registerHelper('jsdoc', (lines: unknown, indent: unknown) => {
  const pad = typeof indent === 'string' ? indent : ''
  const body = (Array.isArray(lines) ? lines : [String(lines)]).map((line) =>
    `${pad} * ${String(line).replaceAll('*/', '*\\/')}`.trimEnd(),
  )
  return `${pad}/**\n${body.join('\n')}\n${pad} */`
})

/**
 * `A` or `An` before `word` (a service name, read as English): by its first letter, with the
 * common exceptions a name can start with (`user`, `unit`, `one` take `A`; `hour` takes `An`).
 */
engine.registerHelper('article', (word: unknown) => {
  const text = String(word).toLowerCase()
  if (/^(u[nr]i|us[eu]|eu|one|once|ur[ae])/.test(text)) return 'A'
  return /^([aeiou]|hour|honest|heir)/.test(text) ? 'An' : 'A'
})

/** A single-quoted string literal. */
engine.registerHelper(
  'quote',
  (value: unknown) => `'${String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`,
)

/** Compiles a template with the helpers above; every generated file's templates share them. */
export const compile = (source: string) => engine.compile(source, { noEscape: true, strict: true })

/**
 * The JSDoc of an object's top-level fields (JSDoc comments and `.describe()` texts in the schema)
 * as an intersection with `{ field?: unknown }`: editors show the doc on the field, while `unknown`
 * and `?` leave its type and whether it is required to the zod type. `pad` goes before each field
 * and `close` is the closing brace, indented for where the type stands.
 */
engine.registerPartial(
  'fieldDocs',
  compile(`{{#if fields.length}} & {
{{#each fields}}
{{{jsdoc doc ../pad}}}
{{../pad}}{{{key}}}?: unknown
{{/each}}
{{close}}{{/if}}`),
)

export const serviceTemplate = compile(`{{{jsdoc doc}}}
export const {{names.Service}} = {{service}}

{{#each methods}}
/** What a client sends to \`{{name}}\`. */
export type {{Input}} = {{../r.MethodInput}}<typeof {{../service}}, {{{quote name}}}>{{> fieldDocs fields=inputDocs pad='  ' close='}'}}
/** What \`{{name}}\` returns. */
export type {{Output}} = {{../r.MethodOutput}}<typeof {{../service}}, {{{quote name}}}>{{> fieldDocs fields=outputDocs pad='  ' close='}'}}
{{/each}}

/** The error codes {{name}} declares: a worker throws \`new {{names.Error}}(code, message)\`. */
export type {{names.ErrorCode}} = {{errorCodeUnion}}

/** Every error code {{name}} declares. */
export const {{names.ERROR_CODES}}: readonly {{names.ErrorCode}}[] = [{{{errorCodeList}}}]

/** Whether \`error\` is a worker's answer with an error {{name}} declares (and \`code\`, when given). */
export function {{names.isError}}(error: unknown, code?: {{names.ErrorCode}}): error is {{r.GrenacheError}} & { readonly remoteCode: {{names.ErrorCode}} } {
  return {{r.isDeclaredError}}(error, {{names.ERROR_CODES}}, code)
}

/**
 * An error {{name}} declares: \`throw new {{names.Error}}('CODE', message)\` in a worker. Only declared
 * codes compile; anything else a worker throws reaches the client as a masked \`ERR_WORKER\`.
 */
export class {{names.Error}} extends {{r.ServiceError}}<{{names.ErrorCode}}> { }

/** {{article name}} {{name}} v{{version}} worker: one function per method. */
export interface {{names.Worker}} {
{{#each methods}}
{{{jsdoc workerDoc '  '}}}
  {{name}}(input: {{../r.ParsedInput}}<typeof {{../service}}, {{{quote name}}}>, context: {{../r.ServiceContext}}): {{Output}} | Promise<{{Output}}>
{{/each}}
}

/**
 * Calls {{name}} v{{version}} workers, found through the Link as \`{{key}}{{#unless plain}}/<transport>{{/unless}}\`.
 * Each method resolves with the worker's output, or rejects with a \`GrenacheError\`: \`ERR_REMOTE\`
 * with \`remoteCode\` for a declared error (see \`{{names.isError}}\`), \`ERR_INVALID_INPUT\`,
 * \`ERR_INVALID_OUTPUT\` or \`ERR_WORKER\` (an undeclared failure, with its \`errorId\`).
 */
export class {{names.Client}} {
  readonly #client: {{r.ServiceClient}}<typeof {{service}}>

  /** Calls every worker (or \`limit\` of them) at once: one settled result per worker, late ones included. */
  readonly map: {
{{#each methods}}
    {{name}}({{inputParam}}: {{Input}}, options?: {{../r.ServiceMapOptions}}): Promise<{{../r.MapResult}}<{{Output}}>[]>
{{/each}}
  }

  constructor(options: {{r.ServiceClientOptions}}) {
    const client = new {{r.ServiceClient}}({{service}}, options)
    this.#client = client
    this.map = {
{{#each methods}}
      {{name}}: (input, options) => client.map({{{quote name}}}, {{inputValue}}, options) as Promise<{{../r.MapResult}}<{{Output}}>[]>,
{{/each}}
    }
  }

{{#each methods}}
{{{jsdoc clientDoc '  '}}}
  {{name}}({{inputParam}}: {{Input}}, options?: {{../r.ServiceCallOptions}}): Promise<{{Output}}> {
    return this.#client.call({{{quote name}}}, {{inputValue}}, options) as Promise<{{Output}}>
  }

{{/each}}
  /** Waits for calls in flight and closes the connections. */
  close(): Promise<void> {
    return this.#client.close()
  }
}

/** Serves {{name}} v{{version}} with \`worker\` (each input checked with its schema); \`start()\` the result. */
export function {{names.serve}}(worker: {{names.Worker}}, options: {{r.ServeOptions}}): {{r.ServiceServer}}<typeof {{service}}> {
  return {{r.serveService}}({{service}}, worker, options)
}
`)

export const eventsTemplate = compile(`/** The payload of each event {{name}} publishes. */
export interface {{names.Events}} {
{{#each events}}
{{{jsdoc doc '  '}}}
  {{name}}: {{../r.EventPayload}}<typeof {{../service}}, {{{quote name}}}>{{> fieldDocs fields=payloadDocs pad='    ' close='  }'}}
{{/each}}
}

/** Publishes {{name}} v{{version}} events; each payload is checked with its schema first. */
export class {{names.Publisher}} {
  readonly #publisher: {{r.ServicePublisher}}<typeof {{service}}>

  /** One function per event. */
  readonly publish: { [K in keyof {{names.Events}}]: (payload: {{names.Events}}[K]) => void }

  constructor(options: {{r.ServicePublisherOptions}}) {
    const publisher = new {{r.ServicePublisher}}({{service}}, options)
    this.#publisher = publisher
    this.publish = {
{{#each events}}
      {{name}}: (payload) => publisher.publish({{{quote name}}}, payload),
{{/each}}
    }
  }

  /** Listens and announces; resolves with the port. */
  start(options?: {{r.CallOptions}}): Promise<number> {
    return this.#publisher.start(options)
  }

  close(): Promise<void> {
    return this.#publisher.close()
  }
}

/** Receives {{name}} v{{version}} events; payloads that do not match their schema are dropped. */
export class {{names.Subscriber}} {
  /** The subscriber underneath: connection events, dropped messages (\`sub:invalid\`). */
  readonly events: {{r.ServiceSubscriber}}<typeof {{service}}>

  constructor(options: {{r.ServiceSubscriberOptions}}) {
    this.events = new {{r.ServiceSubscriber}}({{service}}, options)
  }

  /** Calls \`listener\` with each valid \`event\`. */
  on<K extends keyof {{names.Events}}>(event: K, listener: (payload: {{names.Events}}[K]) => void): this {
    this.events.on('event', (name, payload) => {
      if (name === event) listener(payload as {{names.Events}}[K])
    })
    return this
  }

  /** Finds the publishers and connects; resolves once connected to one. */
  start(options?: {{r.CallOptions}}): Promise<void> {
    return this.events.start(options)
  }

  close(): Promise<void> {
    return this.events.close()
  }
}
`)
