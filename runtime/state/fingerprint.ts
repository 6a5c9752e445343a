import { createHash } from 'node:crypto'
import { canonical } from '../util/canonical.js'
import type { StateLayout } from './layout.js'

/**
 * The fingerprint of a layout: the first 64 bits of the SHA-256 of its canonical JSON, in hex.
 * Names, limits and bounds count; descriptions do not. The generator stamps it into each codec;
 * a tool that reads a feed's layout from the publisher checks it with this.
 */
export function stateFingerprint(layout: StateLayout): string {
  return createHash('sha256')
    .update(canonical({ format: 1, ...layout }))
    .digest('hex')
    .slice(0, 16)
}
