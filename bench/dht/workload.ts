import { prng } from '../lib/prng.js'
import type { Announcement, LookupTask } from './protocol.js'

/** What one session asks of N Grapes. */
export interface Workload {
  announcements: Announcement[]
  /** One lookup per name on a Grape that took no part in its announce: cold, then warm. */
  coldWarm: LookupTask[]
  /** Cold lookups for the burst: (Grape, name) pairs not asked before. */
  burst: LookupTask[]
}

/**
 * `names` fresh names, each announced on one Grape and watched from another, looked up cold and
 * warm on a third, and `burstSize` lookups of (Grape, name) pairs used nowhere else. Ports are
 * placeholders (nothing listens): only the DHT records matter.
 */
export function planWorkload(grapes: number, names: number, burstSize: number, nonce: string): Workload {
  const random = prng(names * 7919 + grapes)
  const pick = (exclude: Set<number>) => {
    for (;;) {
      const grape = Math.floor(random() * grapes)
      if (!exclude.has(grape)) return grape
    }
  }
  const announcements: Announcement[] = []
  const coldWarm: LookupTask[] = []
  const used: Set<number>[] = []
  for (let i = 0; i < names; i++) {
    const name = `bench:dht:${nonce}:${i}`
    const port = 30_000 + i
    const taken = new Set<number>()
    const announceOn = pick(taken)
    taken.add(announceOn)
    const visibleOn = pick(taken)
    taken.add(visibleOn)
    const coldOn = pick(taken)
    taken.add(coldOn)
    used.push(taken)
    announcements.push({ name, port, announceOn, visibleOn })
    coldWarm.push({ grape: coldOn, name, port })
  }
  const burst: LookupTask[] = []
  const capacity = names * (grapes - 3)
  for (let k = 0; k < Math.min(burstSize, capacity); k++) {
    let i = Math.floor(random() * names)
    while ((used[i] as Set<number>).size >= grapes) i = (i + 1) % names
    const taken = used[i] as Set<number>
    const grape = pick(taken)
    taken.add(grape)
    const { name, port } = announcements[i] as Announcement
    burst.push({ grape, name, port })
  }
  return { announcements, coldWarm, burst }
}
