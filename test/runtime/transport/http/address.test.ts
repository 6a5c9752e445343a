import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../../runtime/errors.js'
import { workerOrigin } from '../../../../runtime/transport/http/address.js'

describe('workerOrigin()', () => {
  it('turns "ip:port" into an origin of the protocol', () => {
    expect(workerOrigin('http', '127.0.0.1:1337')).toBe('http://127.0.0.1:1337')
    expect(workerOrigin('https', '10.0.0.2:443')).toBe('https://10.0.0.2:443')
    expect(workerOrigin('http', 'worker.local:80')).toBe('http://worker.local:80')
  })

  it('brackets IPv6 addresses, bare or bracketed', () => {
    expect(workerOrigin('http', '[::1]:1337')).toBe('http://[::1]:1337')
    expect(workerOrigin('http', '::1:1337')).toBe('http://[::1]:1337')
    expect(workerOrigin('http', 'fe80::2:8080')).toBe('http://[fe80::2]:8080')
  })

  it.each([
    ['no port', '127.0.0.1'],
    ['port 0', '127.0.0.1:0'],
    ['a port above 65535', '127.0.0.1:70000'],
    ['an empty host', ':1337'],
    ['a path', '127.0.0.1:1337/x'],
    ['not a string', 1337],
  ])('rejects %s with ERR_INVALID_ARGUMENT', (_name, address) => {
    expect(() => workerOrigin('http', address as string)).toThrow(GrenacheError)
    try {
      workerOrigin('http', address as string)
    } catch (err) {
      expect((err as GrenacheError).code).toBe('ERR_INVALID_ARGUMENT')
    }
  })
})
