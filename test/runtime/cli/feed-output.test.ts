import { describe, expect, it } from 'vitest'
import { deltaLine, jsonLine, redraw, StatsLine, syncedLine } from '../../../runtime/cli/feed-output.js'
import type { ReplicaStats } from '../../../runtime/replication/stats.js'
import { replicaStats } from '../../../runtime/replication/stats.js'

describe('jsonLine()', () => {
  it('writes one line of JSON with bigints as strings and dates as ISO strings', () => {
    const value = { big: -(2n ** 63n), when: new Date(0), nested: [{ n: 1n }], gone: undefined }
    expect(jsonLine(value)).toBe(
      '{"big":"-9223372036854775808","when":"1970-01-01T00:00:00.000Z","nested":[{"n":"1"}]}\n',
    )
  })

  it('keeps a key named __proto__', () => {
    const leaf = JSON.parse('{"__proto__": 1}') as Record<string, unknown>
    expect(jsonLine({ leaf })).toBe('{"leaf":{"__proto__":1}}\n')
  })
})

describe('syncedLine() and deltaLine()', () => {
  it('print the snapshot line and each op with what it changed', () => {
    expect(syncedLine(12, 3)).toBe('{"synced":true,"seq":12,"leaves":3}\n')
    const base = { key: 'o-1', previous: undefined }
    expect(deltaLine({ ...base, seq: 13, op: 'upsert', leaf: { size: 1 } })).toBe(
      '{"seq":13,"op":"upsert","key":"o-1","leaf":{"size":1}}\n',
    )
    expect(deltaLine({ ...base, seq: 14, op: 'patch', leaf: undefined })).toBe(
      '{"seq":14,"op":"patch","key":"o-1","leaf":null}\n',
    )
    expect(deltaLine({ ...base, seq: 15, op: 'delete', leaf: undefined })).toBe(
      '{"seq":15,"op":"delete","key":"o-1"}\n',
    )
    expect(deltaLine({ seq: 16, op: 'clear', key: undefined, leaf: undefined, previous: undefined })).toBe(
      '{"seq":16,"op":"clear"}\n',
    )
  })
})

describe('StatsLine', () => {
  const stats = (change: Partial<ReplicaStats>): ReplicaStats => ({ ...replicaStats(), ...change })

  it('shows the seq, the rate since the last sample, the lag, the repairs, the resyncs and the status', () => {
    const line = new StatsLine(1000)
    expect(line.render(stats({ seq: 10, deltas: 500, status: 'live', lagSeqs: 2, lagMs: 3.6 }), 1500)).toBe(
      'seq 10 | 1000 deltas/s | lag 2 seqs, 4 ms | gaps 0 (0 nacks, 0 retransmits) | resyncs 0 | live',
    )
    expect(
      line.render(
        stats({ seq: 20, deltas: 600, gaps: 2, nacks: 3, retransmits: 2, resyncs: 1, status: 'stale' }),
        2500,
      ),
    ).toBe('seq 20 | 100 deltas/s | lag 0 seqs, 0 ms | gaps 2 (3 nacks, 2 retransmits) | resyncs 1 | stale')
    expect(line.render(stats({ deltas: 0 }), 2500)).toMatch(/^seq 0 \| 0 deltas\/s/)
  })

  it('redraws in place on a terminal', () => {
    expect(redraw('x')).toBe('\r\u001b[2Kx')
  })
})
