import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** The reference Link (grenache-nodejs-link 1.0.2), as far as the bench uses it. */
export interface ReferenceLink {
  start(): ReferenceLink
  stop(): ReferenceLink
  lookup(name: string, opts: object, cb: (err: Error | null, peers?: string[]) => void): void
}

/** A started reference Link to the Grape API at `grape` (default options: 10 s lookup LRU). */
export function createReferenceLink(grape: string): ReferenceLink {
  const Link = require('grenache-nodejs-link') as new (conf: { grape: string }) => ReferenceLink
  return new Link({ grape }).start()
}

/** One lookup through a reference Link; rejects with its error (e.g. `ERR_GRAPE_LOOKUP_EMPTY`). */
export function referenceLookup(link: ReferenceLink, name: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    link.lookup(name, {}, (err, peers) => (err ? reject(err) : resolve(peers ?? []))),
  )
}
