/** What the client and server children need from a stack (ours, reference, raw). */

/** A listening echo server: replies with the payload of every request. */
export interface EchoServer {
  host: string
  port: number
  close(): Promise<void>
}

/** A client of one stack, connected to its workers. */
export interface BenchClient {
  /** One request to one worker; resolves with the worker's result. */
  request(payload: unknown): Promise<unknown>
  /** One request to every worker; resolves with their results, rejects if any failed. */
  map(payload: unknown): Promise<unknown[]>
  close(): Promise<void>
}

/** The stack cannot run this protocol (yet): the target is reported as n/a, not as a failure. */
export class UnavailableError extends Error {
  override name = 'UnavailableError'
}
