export type { DhtItem } from './items.js'
export { type GetOptions, Link, type LinkEvents, type PutMutableOptions } from './link.js'
export type { LinkOptions } from './link-options.js'
export type { CachedLookup } from './lookup-cache.js'
