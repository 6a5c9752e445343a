import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

/** A TCP port that is free on `host` right now (the OS picks it). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, host, resolve)
  })
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/** `count` distinct free ports: each is checked free for both TCP and UDP. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>()
  for (let attempts = 0; ports.size < count && attempts < count * 20; attempts++) {
    const port = await freeTcpPort(host)
    if (ports.has(port)) continue
    try {
      const socket = createSocket('udp4')
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject)
        socket.bind(port, host, resolve)
      })
      await new Promise<void>((resolve) => socket.close(() => resolve()))
      ports.add(port)
    } catch {
      // Taken for UDP: try another.
    }
  }
  if (ports.size < count) throw new Error(`could not find ${count} free ports on ${host}`)
  return [...ports]
}
