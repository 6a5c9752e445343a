import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** What a scripted Grape answers: status and raw body, or 'hang' (never answer). */
export type FakeAnswer = { status?: number; body?: string } | 'hang'

export interface FakeRequest {
  op: string
  data: unknown
}

export interface FakeGrape {
  url: string
  /** Every request received, in order. */
  requests: FakeRequest[]
  /** Requests for one operation. */
  count(op: string): number
  close(): Promise<void>
}

/**
 * An HTTP server on 127.0.0.1 that plays a Grape with scripted answers, to drive a Link through
 * failures a real Grape cannot be made to produce on demand (hangs, forged items, odd answers).
 */
export async function startFakeGrape(
  answer: (request: FakeRequest, index: number) => FakeAnswer | Promise<FakeAnswer>,
): Promise<FakeGrape> {
  const requests: FakeRequest[] = []
  const hanging = new Set<ServerResponse>()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { data?: unknown }
      const request = { op: (req.url ?? '').slice(1), data: body.data }
      requests.push(request)
      const result = await answer(request, requests.length - 1)
      if (result === 'hang') {
        hanging.add(res)
        return
      }
      res.statusCode = result.status ?? 200
      res.end(result.body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    count: (op) => requests.filter((request) => request.op === op).length,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy()
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/** A JSON answer with status 200. */
export const json = (value: unknown): FakeAnswer => ({ status: 200, body: JSON.stringify(value) })
