import { randomInt } from 'node:crypto'
import { loadAverage } from '../lib/machine.js'
import type { Suite } from '../lib/suite.js'
import type { ReplicationRound } from './model.js'
import { STACKS, type Stack, settingsFor } from './protocol.js'
import { buildReport } from './report.js'
import { runStackSession, sessionBudgetMs } from './session.js'

/**
 * `BENCH_REPLICATION_ONLY=ours` (or `json-udp,json-ws`) runs only those stacks, for a quick look
 * at one; the tables then show the others as n/a.
 */
function selected(): Stack[] {
  const only = process.env.BENCH_REPLICATION_ONLY?.split(',').map((name) => name.trim())
  return only ? STACKS.filter((stack) => only.includes(stack)) : [...STACKS]
}

/** The stacks in the order of round `round`: rotated, so that none always runs first. */
function rotate(round: number): Stack[] {
  const stacks = selected()
  const offset = (round - 1) % stacks.length
  return [...stacks.slice(offset), ...stacks.slice(0, offset)]
}

/** A random group in 239.255.0.0/16 (administratively scoped), new each round. */
function randomGroup(): string {
  return `239.255.${randomInt(1, 255)}.${randomInt(1, 255)}`
}

export const replicationSuite: Suite = {
  name: 'replication',
  description:
    'replication: OrderBookPublisher/Replica over UDP multicast vs JSON over UDP multicast vs JSON over WebSocket pub/sub; throughput, latency, bytes, join, repair, CPU',
  budgetMs: ({ quick, rounds }) => {
    const s = settingsFor(quick)
    return rounds * selected().reduce((total, stack) => total + sessionBudgetMs(s, stack), 0)
  },

  async run(context) {
    const s = settingsFor(context.quick)
    const rounds: ReplicationRound[] = []
    for (let round = 1; round <= context.rounds; round++) {
      const entry: ReplicationRound = {
        round,
        group: randomGroup(),
        order: rotate(round),
        loadBefore: loadAverage(),
        sessions: {},
      }
      context.log(`replication round ${round}: group ${entry.group}, load average ${entry.loadBefore}`)
      for (const stack of entry.order) {
        entry.sessions[stack] = await runStackSession(context, s, stack, round, entry.group)
      }
      rounds.push(entry)
    }
    return { text: buildReport(rounds, s, context), raw: { settings: s, rounds } }
  },
}
