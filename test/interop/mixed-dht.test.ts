import { setTimeout as delay } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createSigner,
  generateKeyPair,
  immutableTarget,
  mutableTarget,
  utf8,
} from '../../runtime/bep44/index.js'
import { Grape } from '../../runtime/grape/index.js'
import { Link } from '../../runtime/link/index.js'
import {
  type ReferenceLink,
  referenceLink,
  type StartedReferenceGrape,
  startReferenceGrape,
} from '../helpers/reference.js'
import { loopbackGrape, waitForNodes } from '../helpers/testnet.js'

/**
 * One DHT made of two of our Grapes and two reference Grapes (grenache-grape 1.0.0, with an
 * ed25519 verify), all bootstrapped over loopback from our first Grape. Services and items put
 * through one kind are found through the other.
 */

/** A callback-style reference call as a promise; the caller types the result. */
function result<T = unknown>(
  start: (cb: (err: Error | null, res?: unknown) => void) => void,
): Promise<T | undefined> {
  return new Promise((resolve, reject) =>
    start((err, res) => (err ? reject(err) : resolve(res as T | undefined))),
  )
}

async function waitForReferenceNodes(grape: StartedReferenceGrape, count: number): Promise<void> {
  const deadline = Date.now() + 15_000
  while (grape.grape.node.nodes.count() < count) {
    if (Date.now() > deadline) {
      throw new Error(
        `a reference Grape knows ${grape.grape.node.nodes.count()} DHT nodes, expected ${count}`,
      )
    }
    await delay(20)
  }
}

describe('a DHT of our Grapes and reference Grapes', () => {
  const ours: Grape[] = []
  const theirs: StartedReferenceGrape[] = []
  const links: Link[] = []
  const referenceLinks: ReferenceLink[] = []
  /** Our Links to ours[0], ours[1], theirs[0], theirs[1]. */
  let viaOurs: [Link, Link]
  let viaTheirs: [Link, Link]
  /** Reference Links to theirs[0], theirs[1], ours[0], ours[1]. */
  let refViaTheirs: [ReferenceLink, ReferenceLink]
  let refViaOurs: [ReferenceLink, ReferenceLink]

  beforeAll(async () => {
    const seed = new Grape(loopbackGrape())
    ours.push(seed)
    const { dhtPort } = await seed.start()
    const bootstrap = [`127.0.0.1:${dhtPort}`]
    theirs.push(await startReferenceGrape(bootstrap))
    const second = new Grape(loopbackGrape({ bootstrap }))
    ours.push(second)
    await second.start()
    theirs.push(await startReferenceGrape(bootstrap))
    await Promise.all([
      ...ours.map((grape) => waitForNodes(grape, 3, 15_000)),
      ...theirs.map((grape) => waitForReferenceNodes(grape, 3)),
    ])
    const link = (url: string) => {
      const created = new Link({ grape: url })
      links.push(created)
      return created
    }
    const refLink = (url: string) => {
      const created = referenceLink(url)
      referenceLinks.push(created)
      return created
    }
    const ourUrls = ours.map((grape) => grape.address.url)
    viaOurs = [link(ourUrls[0] as string), link(ourUrls[1] as string)]
    viaTheirs = [link(theirs[0]?.url as string), link(theirs[1]?.url as string)]
    refViaTheirs = [refLink(theirs[0]?.url as string), refLink(theirs[1]?.url as string)]
    refViaOurs = [refLink(ourUrls[0] as string), refLink(ourUrls[1] as string)]
  })
  afterAll(async () => {
    for (const link of referenceLinks) link.stop()
    await Promise.all(links.map((link) => link.close()))
    await Promise.all(theirs.map((grape) => grape.stop()))
    await Promise.all(ours.map((grape) => grape.close()))
  })

  describe('services', () => {
    it('a service announced through our Grape is stored by the other nodes and found through both reference Grapes', async () => {
      // Acknowledged once two of the three nodes asked stored it (the quorum; see StoreRound).
      expect(await viaOurs[0].announce('mixed:from-ours', 4300)).toBeGreaterThanOrEqual(2)
      await expect(viaTheirs[0].lookup('mixed:from-ours')).resolves.toEqual(['127.0.0.1:4300'])
      await expect(result((cb) => refViaTheirs[1].lookup('mixed:from-ours', {}, cb))).resolves.toEqual([
        '127.0.0.1:4300',
      ])
    })

    it('a service announced through a reference Grape is found through both of ours', async () => {
      await expect(result((cb) => refViaTheirs[0].announce('mixed:from-theirs', 4301, {}, cb))).resolves.toBe(
        3,
      )
      await expect(viaOurs[0].lookup('mixed:from-theirs')).resolves.toEqual(['127.0.0.1:4301'])
      await expect(viaOurs[1].lookup('mixed:from-theirs')).resolves.toEqual(['127.0.0.1:4301'])
      await expect(result((cb) => refViaOurs[1].lookup('mixed:from-theirs', {}, cb))).resolves.toEqual([
        '127.0.0.1:4301',
      ])
    })

    it('workers announced through both kinds under one name are all found through each kind', async () => {
      await viaOurs[1].announce('mixed:both-kinds', 4302)
      await viaTheirs[1].announce('mixed:both-kinds', 4303)
      const expected = ['127.0.0.1:4302', '127.0.0.1:4303']
      expect([...(await viaTheirs[0].lookup('mixed:both-kinds'))].sort()).toEqual(expected)
      expect([...(await viaOurs[0].lookup('mixed:both-kinds'))].sort()).toEqual(expected)
    })
  })

  describe('immutable items', () => {
    it('a value put through our Grape is read through a reference Grape, from its store and from the network', async () => {
      const hash = await viaOurs[0].put('put through ours')
      expect(hash).toBe(immutableTarget('put through ours'))
      await expect(viaTheirs[1].get(hash)).resolves.toMatchObject({ v: 'put through ours' })
      await expect(viaTheirs[0].get(hash, { cache: false })).resolves.toMatchObject({ v: 'put through ours' })
      await expect(result((cb) => refViaTheirs[1].get(hash, cb))).resolves.toMatchObject({
        v: 'put through ours',
      })
    })

    it('a value put through a reference Grape is read through ours, from its store and from the network', async () => {
      const hash = await result<string>((cb) => refViaTheirs[0].put({ v: 'put through theirs' }, cb))
      expect(hash).toBe(immutableTarget('put through theirs'))
      await expect(viaOurs[1].get(hash as string)).resolves.toMatchObject({ v: 'put through theirs' })
      await expect(viaOurs[0].get(hash as string, { cache: false })).resolves.toMatchObject({
        v: 'put through theirs',
      })
    })
  })

  describe('mutable items', () => {
    it('an item put through our Grape (which verifies) is read through a verifying reference Grape, salted and unsalted', async () => {
      const signer = createSigner(generateKeyPair().secretKey)
      const plain = await viaOurs[0].putMutable('mutable via ours', { signer, seq: 1 })
      expect(plain.hash).toBe(mutableTarget(signer.publicKey))
      const salted = await viaOurs[0].putMutable('salted via ours', { signer, seq: 7, salt: 'mixed:salt' })
      expect(salted.hash).toBe(mutableTarget(signer.publicKey, utf8('mixed:salt')))

      await expect(viaTheirs[1].get(plain.hash)).resolves.toMatchObject({ v: 'mutable via ours', seq: 1 })
      await expect(
        viaTheirs[0].get(salted.hash, { salt: 'mixed:salt', cache: false }),
      ).resolves.toMatchObject({
        v: 'salted via ours',
        seq: 7,
      })
      await expect(
        result((cb) => refViaTheirs[1].get({ hash: salted.hash, salt: 'mixed:salt' }, cb)),
      ).resolves.toMatchObject({ v: 'salted via ours', seq: 7 })
    })

    it('a newer seq put through a reference Grape replaces it, and our Grapes read the new value', async () => {
      const signer = createSigner(generateKeyPair().secretKey)
      const salt = 'mixed:update'
      const { hash } = await viaOurs[0].putMutable('version 1', { signer, seq: 1, salt })
      await viaTheirs[0].putMutable('version 2', { signer, seq: 2, salt })
      await expect(viaOurs[1].get(hash, { salt })).resolves.toMatchObject({ v: 'version 2', seq: 2 })
      await expect(viaOurs[0].get(hash, { salt, cache: false })).resolves.toMatchObject({
        v: 'version 2',
        seq: 2,
      })
    })
  })
})
