import { describe, expect, it } from 'vitest'
import { ipLookup } from '../../../runtime/util/ip-lookup.js'

describe('ipLookup', () => {
  it('answers an IP address with itself, before it returns', () => {
    const answers: Array<[string, number]> = []
    ipLookup('127.0.0.1', 4, (err, address, family) => {
      expect(err).toBeNull()
      answers.push([address, family])
    })
    ipLookup('::1', 6, (_err, address, family) => answers.push([address, family]))
    expect(answers).toEqual([
      ['127.0.0.1', 4],
      ['::1', 6],
    ])
  })

  it('hands a host name to dns.lookup (localhost: /etc/hosts, no query leaves the host)', async () => {
    const answer = await new Promise<[string, number]>((resolve, reject) => {
      ipLookup('localhost', 4, (err, address, family) => (err ? reject(err) : resolve([address, family])))
    })
    expect(answer).toEqual(['127.0.0.1', 4])
  })
})
