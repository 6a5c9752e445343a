import type DHT from 'bittorrent-dht'
import { describe, expect, it } from 'vitest'
import { checkInternals } from '../../../runtime/grape/dht-internals.js'

describe('checkInternals', () => {
  it('names what another bittorrent-dht or k-rpc-socket lacks, at start', () => {
    const other = { _tables: { remove() {} }, _rpc: { id: Buffer.alloc(20), bootstrap: [], socket: {} } }
    expect(() => checkInternals(other as unknown as DHT)).toThrow(
      expect.objectContaining({
        code: 'ERR_INTERNAL',
        message: expect.stringContaining(
          'lacks what the Grape relies on: _tables.get, _addPeer, _host, _rpc.populate, _rpc.query, _rpc.queryAll, _rpc.nodes.closest, _rpc.nodes.count, _rpc.nodes.remove, _rpc.socket._ids, _rpc.socket._reqs, _rpc.socket._cancel, _rpc.socket.query, _rpc.socket.timeout, _rpc.socket._timer',
        ),
      }),
    )
  })
})
