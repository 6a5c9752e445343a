import { GrenacheError } from '../../runtime/errors.js'
import type { Discovery } from '../../runtime/peer/index.js'

/** Discovery from a plain map, for peer tests that need no Grape. Records what it was asked. */
export class StaticDiscovery implements Discovery {
  readonly names = new Map<string, Set<string>>()
  readonly lookups: string[] = []
  readonly invalidated: string[] = []

  add(name: string, ...addresses: string[]): this {
    const set = this.names.get(name) ?? new Set()
    for (const address of addresses) set.add(address)
    this.names.set(name, set)
    return this
  }

  async lookup(name: string): Promise<readonly string[]> {
    this.lookups.push(name)
    const found = [...(this.names.get(name) ?? [])]
    if (found.length === 0) throw new GrenacheError('ERR_LOOKUP_EMPTY', `nothing announced as ${name}`)
    return found
  }

  invalidate(name: string): void {
    this.invalidated.push(name)
  }

  async startAnnouncing(name: string, port: number): Promise<void> {
    this.add(name, `127.0.0.1:${port}`)
  }

  stopAnnouncing(name: string, port: number): boolean {
    return this.names.get(name)?.delete(`127.0.0.1:${port}`) ?? false
  }
}
