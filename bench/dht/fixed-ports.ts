import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

/** Below Linux's default ephemeral range (32768+), where no port-0 bind or outgoing connection lands. */
const LOW = 20_000
const HIGH = 32_000

async function free(port: number, host: string): Promise<boolean> {
  const tcp = createServer()
  const tcpFree = await new Promise<boolean>((resolve) => {
    tcp.once('error', () => resolve(false))
    tcp.listen(port, host, () => resolve(true))
  })
  if (!tcpFree) return false
  await new Promise<void>((resolve) => tcp.close(() => resolve()))
  const udp = createSocket('udp4')
  const udpFree = await new Promise<boolean>((resolve) => {
    udp.once('error', () => resolve(false))
    udp.bind(port, host, () => resolve(true))
  })
  if (udpFree) await new Promise<void>((resolve) => udp.close(() => resolve()))
  else udp.close()
  return udpFree
}

/**
 * `count` distinct ports below the ephemeral range, free for TCP and UDP right now, from a random
 * start. For the ports a bench must fix in advance (the seeds' DHT, the reference's API, which
 * refuses port 0): ports picked by the OS come from the ephemeral range, where the port-0 binds of
 * Grapes starting in other processes at the same moment can take them first.
 */
export async function fixedPorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports: number[] = []
  const span = HIGH - LOW
  const start = Math.floor(Math.random() * span)
  for (let i = 0; i < span && ports.length < count; i++) {
    const port = LOW + ((start + i) % span)
    if (await free(port, host)) ports.push(port)
  }
  if (ports.length < count) throw new Error(`only ${ports.length} of ${count} ports free in ${LOW}-${HIGH}`)
  return ports
}
