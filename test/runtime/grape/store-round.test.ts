import { describe, expect, it } from 'vitest'
import { QUORUM_NODES, type RoundOutcome, StoreRound } from '../../../runtime/grape/store-round.js'

type Done = (err: (Error & { code?: unknown }) | null) => void

/** A round over fake queries: each query waits until the test answers it by key. */
function harness() {
  const answers = new Map<string, Done>()
  const calls: { err: Error | null; outcome: RoundOutcome }[] = []
  const round = new StoreRound<string>(
    (node, done) => answers.set(node, done),
    (err, outcome) => calls.push({ err, outcome }),
  )
  const answer = (key: string, err: (Error & { code?: unknown }) | null = null) => {
    const done = answers.get(key)
    if (!done) throw new Error(`no query to ${key}`)
    done(err)
  }
  return { round, answer, calls }
}

const keys = (count: number) => Array.from({ length: count }, (_, i) => `n${i}`)

describe('StoreRound', () => {
  it('answers once half of the 8 closest stored, and counts the later answers only', () => {
    const { round, answer, calls } = harness()
    const nodes = keys(20)
    for (const key of nodes) round.send(key, key)
    round.finish(nodes)
    for (const key of nodes.slice(8, 20)) answer(key)
    expect(calls).toEqual([])
    for (const key of ['n0', 'n2', 'n4']) answer(key)
    expect(calls).toEqual([])
    answer('n6')
    expect(calls).toEqual([{ err: null, outcome: { hits: 16, pending: 4 } }])
    for (const key of ['n1', 'n3', 'n5', 'n7']) answer(key, new Error('timed out'))
    expect(calls).toHaveLength(1)
    expect(QUORUM_NODES).toBe(8)
  })

  it('waits for every answer when the closest cannot reach the quorum, and succeeds on any store', () => {
    const { round, answer, calls } = harness()
    const nodes = keys(10)
    for (const key of nodes) round.send(key, key)
    round.finish(nodes)
    for (const key of nodes.slice(0, 5)) answer(key, new Error('timed out'))
    answer('n9')
    expect(calls).toEqual([])
    for (const key of nodes.slice(5, 9)) answer(key, new Error('timed out'))
    expect(calls).toEqual([{ err: null, outcome: { hits: 1, pending: 0 } }])
  })

  it('fails with "All queries failed" when no node stored it, or with the last BEP 44 3xx error', () => {
    const failed = harness()
    failed.round.send('a', 'a')
    failed.round.send('b', 'b')
    failed.round.finish(['a', 'b'])
    failed.answer('a', new Error('timed out'))
    failed.answer('b', Object.assign(new Error('Protocol error'), { code: 203 }))
    expect(failed.calls.map(({ err }) => err?.message)).toEqual(['All queries failed'])

    const refused = harness()
    refused.round.send('a', 'a')
    refused.round.finish(['a'])
    refused.answer('a', Object.assign(new Error('302 sequence number less than current'), { code: 302 }))
    expect(refused.calls.map(({ err }) => (err as { code?: unknown }).code)).toEqual([302])
  })

  it('fails with "No nodes to query" when there was nobody to ask', () => {
    const { round, calls } = harness()
    round.finish([])
    expect(calls.map(({ err }) => err?.message)).toEqual(['No nodes to query'])
  })

  it('does not answer before finish(), even when every query is answered', () => {
    const { round, answer, calls } = harness()
    for (const key of keys(3)) round.send(key, key)
    for (const key of keys(3)) answer(key)
    expect(calls).toEqual([])
    round.finish(keys(3))
    expect(calls).toEqual([{ err: null, outcome: { hits: 3, pending: 0 } }])
  })

  it('queries a node once, however often it is handed over', () => {
    const queried: string[] = []
    const round = new StoreRound<string>(
      (node) => queried.push(node),
      () => undefined,
    )
    round.send('a', 'a')
    round.send('a', 'a')
    expect(queried).toEqual(['a'])
    expect(round.sent).toBe(1)
  })

  it('counts a synchronous answer (a query that fails at once)', () => {
    const calls: (Error | null)[] = []
    const round = new StoreRound<string>(
      (_node, done) => done(new Error('socket closed')),
      (err) => calls.push(err),
    )
    round.send('a', 'a')
    round.finish(['a'])
    expect(calls.map((err) => err?.message)).toEqual(['All queries failed'])
  })
})
