import { Pool } from 'undici'

/**
 * A raw client of a Grape's HTTP API (`POST /<op>` with `{rid, data}`) over one undici Pool: the
 * same client for our Grape and the reference, so that only the Grape differs.
 */
export class GrapeApi {
  readonly #pool: Pool
  #rid = 0

  constructor(url: string, connections: number) {
    this.#pool = new Pool(url, { connections, pipelining: 1 })
  }

  /** Status and raw body of one call. */
  async call(op: string, data: unknown): Promise<{ status: number; body: string }> {
    const { statusCode, body } = await this.#pool.request({
      path: `/${op}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rid: `bench-${++this.#rid}`, data }),
    })
    return { status: statusCode, body: await body.text() }
  }

  /** The peers of `name`; [] for an empty answer. Throws on any other answer. */
  async lookup(name: string): Promise<string[]> {
    const { status, body } = await this.call('lookup', name)
    if (status !== 200) throw new Error(`lookup ${name}: HTTP ${status} ${body}`)
    if (body === '') return []
    const peers = JSON.parse(body) as unknown
    if (!Array.isArray(peers)) throw new Error(`lookup ${name}: ${body}`)
    return peers as string[]
  }

  /** Announces `name` at `port`; resolves when the Grape acked with a node count. */
  async announce(name: string, port: number): Promise<number> {
    const { status, body } = await this.call('announce', [name, port])
    const count = status === 200 ? (JSON.parse(body) as unknown) : undefined
    if (typeof count !== 'number') throw new Error(`announce ${name}: HTTP ${status} ${body}`)
    return count
  }

  close(): Promise<void> {
    return this.#pool.close()
  }
}
