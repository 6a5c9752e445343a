/**
 * npm run demo: an embedded Grape network and what runs on it. Starts two Grapes, announces a
 * small HTTP service through one, finds it through the other and calls it, stores an immutable and
 * a signed mutable item and reads them back verified, then closes everything and exits 0.
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSigner, Grape, generateKeyPair, Link } from '../runtime/index.js'

const step = (text: string) => console.log(`- ${text}`)

// Two Grapes on loopback, the second bootstrapped from the first. dhtPort/apiPort 0 pick free ports.
const grapeA = new Grape({ apiPort: 0, dhtPort: 0, dhtHost: '127.0.0.1' })
const a = await grapeA.start()
const grapeB = new Grape({
  apiPort: 0,
  dhtPort: 0,
  dhtHost: '127.0.0.1',
  bootstrap: [`127.0.0.1:${a.dhtPort}`],
})
const b = await grapeB.start()
step(`Grape A: API ${a.url}, DHT 127.0.0.1:${a.dhtPort}`)
step(`Grape B: API ${b.url}, DHT 127.0.0.1:${b.dhtPort}, bootstrapped from A`)

// A worker: any server; Grenache only records its port under a name.
const service = createServer((_req, res) => res.end('hello from the greeter'))
service.listen(0, '127.0.0.1')
await once(service, 'listening')
const { port } = service.address() as AddressInfo

const workerLink = new Link({ grape: a.url })
const clientLink = new Link({ grape: b.url })
try {
  await workerLink.startAnnouncing('greeter', port)
  step(`worker announced "greeter" at port ${port} through Grape A`)

  const [worker] = await clientLink.lookup('greeter')
  step(`client looked "greeter" up through Grape B: ${worker}`)
  const reply = await (await fetch(`http://${worker}/`)).text()
  step(`client called ${worker}: "${reply}"`)

  const hash = await workerLink.put('Hello World!')
  const item = await clientLink.get(hash)
  step(`immutable item ${hash} read back through B: "${item?.v}"`)

  const signer = createSigner(generateKeyPair().secretKey)
  await workerLink.putMutable('21.5', { signer, salt: 'sensor:temperature', seq: 1 })
  const { hash: key } = await workerLink.putMutable('22.0', { signer, salt: 'sensor:temperature', seq: 2 })
  const reading = await clientLink.get(key, { salt: 'sensor:temperature' })
  step(`mutable item ${key} (seq ${reading?.seq}) read back and verified through B: "${reading?.v}"`)
  await workerLink.putMutable('19.0', { signer, salt: 'sensor:temperature', seq: 1 }).catch((err) => {
    step(`an older seq is refused: ${err.code}`)
  })
} finally {
  workerLink.stopAnnouncing('greeter', port)
  await Promise.all([workerLink.close(), clientLink.close()])
  service.close()
  await Promise.all([grapeA.close(), grapeB.close()])
}
console.log('demo: ok')
