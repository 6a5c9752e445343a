/**
 * mulberry32: a small seeded PRNG in [0, 1), so every process and every run (ours and the
 * reference alike) gets the same workload. runtime/replication/prng.ts (sfc32) serves loss
 * injection; the suites keep this one so their recorded workloads stay the same.
 */
export function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
