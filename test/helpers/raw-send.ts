import { request } from 'undici'
import WebSocket from 'ws'
import { Dealer } from 'zeromq'
import { tls } from '../fixtures/tls/index.js'

const GARBAGE = 'this is not [rid, key, payload]'

/**
 * Sends a request that is not a JSON `[rid, key, payload]` straight over the protocol of `kind`
 * (no client transport in between) and returns the decoded reply array.
 */
export async function sendMalformed(kind: string, address: string): Promise<unknown[]> {
  switch (kind) {
    case 'http':
    case 'https': {
      const url = `${kind}://${address}/`
      const response = await request(url, {
        method: 'POST',
        body: GARBAGE,
        ...(kind === 'https' ? { dispatcher: await tlsAgent() } : {}),
      })
      return JSON.parse(await response.body.text()) as unknown[]
    }
    case 'ws':
    case 'wss': {
      const socket = new WebSocket(
        `${kind}://${address}/ws`,
        kind === 'wss' ? { ca: tls.ca, ...tls.client } : {},
      )
      try {
        await new Promise((resolve, reject) => {
          socket.once('open', resolve)
          socket.once('error', reject)
        })
        const reply = new Promise<string>((resolve) =>
          socket.once('message', (data) => resolve(String(data))),
        )
        socket.send(GARBAGE)
        return JSON.parse(await reply) as unknown[]
      } finally {
        socket.terminate()
      }
    }
    case 'zmq': {
      const dealer = new Dealer({ linger: 0 })
      try {
        dealer.connect(`tcp://${address}`)
        await dealer.send(GARBAGE)
        const [frame] = await dealer.receive()
        return JSON.parse(String(frame)) as unknown[]
      } finally {
        dealer.close()
      }
    }
    default:
      throw new Error(`no raw channel for ${kind}`)
  }
}

async function tlsAgent() {
  const { Agent } = await import('undici')
  return new Agent({ connect: { ca: tls.ca, ...tls.client } })
}
