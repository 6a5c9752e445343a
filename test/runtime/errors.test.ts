import { readFileSync } from 'node:fs'
import { errors as undiciErrors } from 'undici'
import { describe, expect, it } from 'vitest'
import {
  ERROR_CODES,
  type ErrorCode,
  GrenacheError,
  isGrenacheError,
  toGrenacheError,
} from '../../runtime/errors.js'

/** An error as Node's net/dns layers make them: an Error with a string `code`. */
function nodeError(code: string, message = `${code} happened`): Error {
  return Object.assign(new Error(message), { code })
}

/** The rows of README's "## Errors" table, code → meaning. */
function readmeErrorRows(): Array<[string, string]> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const start = readme.indexOf('\n## Errors\n')
  expect(start, 'README.md has an "## Errors" section').toBeGreaterThanOrEqual(0)
  const rest = readme.slice(start + '\n## Errors\n'.length)
  const end = rest.search(/^## /m)
  const section = end === -1 ? rest : rest.slice(0, end)
  const rows: Array<[string, string]> = []
  for (const line of section.split('\n')) {
    const match = /^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|\s*(.*?)\s*\|\s*$/.exec(line)
    if (match) rows.push([match[1] as string, match[2] as string])
  }
  return rows
}

describe('ERROR_CODES', () => {
  it('has a README "## Errors" row for every code and no row for anything else', () => {
    const rows = readmeErrorRows()
    const readmeCodes = rows.map(([code]) => code)
    expect(new Set(readmeCodes).size, 'no code is listed twice').toBe(readmeCodes.length)
    expect([...readmeCodes].sort()).toEqual(Object.keys(ERROR_CODES).sort())
  })

  it('describes every code in README exactly as in ERROR_CODES', () => {
    const rows = readmeErrorRows()
    expect(rows.length).toBeGreaterThan(0)
    for (const [code, text] of rows) {
      expect(text, code).toBe(ERROR_CODES[code as ErrorCode])
    }
  })
})

describe('GrenacheError', () => {
  it('carries its code, its name and the code description as default message', () => {
    const err = new GrenacheError('ERR_LOOKUP_EMPTY')
    expect(err).toBeInstanceOf(Error)
    expect(err.name).toBe('GrenacheError')
    expect(err.code).toBe('ERR_LOOKUP_EMPTY')
    expect(err.message).toBe(ERROR_CODES.ERR_LOOKUP_EMPTY)
  })

  it('keeps a given message and cause', () => {
    const cause = new Error('inner')
    const err = new GrenacheError('ERR_INTERNAL', 'outer', { cause })
    expect(err.message).toBe('outer')
    expect(err.cause).toBe(cause)
  })

  it('has no cause property when none is given', () => {
    expect('cause' in new GrenacheError('ERR_CLOSED', 'closed')).toBe(false)
    expect('cause' in new GrenacheError('ERR_CLOSED', 'closed', {})).toBe(false)
  })
})

describe('isGrenacheError()', () => {
  it('is true for a GrenacheError, and checks the code when one is given', () => {
    const err = new GrenacheError('ERR_TIMEOUT')
    expect(isGrenacheError(err)).toBe(true)
    expect(isGrenacheError(err, 'ERR_TIMEOUT')).toBe(true)
    expect(isGrenacheError(err, 'ERR_ABORTED')).toBe(false)
  })

  it('is false for other errors and values, even with a matching code property', () => {
    expect(isGrenacheError(new Error('x'))).toBe(false)
    expect(isGrenacheError({ code: 'ERR_TIMEOUT', message: 'x' }, 'ERR_TIMEOUT')).toBe(false)
    expect(isGrenacheError(undefined)).toBe(false)
    expect(isGrenacheError('ERR_TIMEOUT')).toBe(false)
  })
})

describe('toGrenacheError()', () => {
  it.each<[string, ErrorCode]>([
    ['ECONNREFUSED', 'ERR_CONNECTION_REFUSED'],
    ['ECONNRESET', 'ERR_CONNECTION_RESET'],
    ['EPIPE', 'ERR_CONNECTION_RESET'],
    ['ECONNABORTED', 'ERR_CONNECTION_RESET'],
    ['ETIMEDOUT', 'ERR_TIMEOUT'],
    ['EADDRINUSE', 'ERR_ADDRESS_IN_USE'],
    ['ENOTFOUND', 'ERR_CONNECTION_FAILED'],
    ['EAI_AGAIN', 'ERR_CONNECTION_FAILED'],
    ['EHOSTUNREACH', 'ERR_CONNECTION_FAILED'],
    ['ENETUNREACH', 'ERR_CONNECTION_FAILED'],
    ['EHOSTDOWN', 'ERR_CONNECTION_FAILED'],
    ['EADDRNOTAVAIL', 'ERR_CONNECTION_FAILED'],
    ['EACCES', 'ERR_CONNECTION_FAILED'],
  ])('maps a Node %s error to %s', (nodeCode, code) => {
    const original = nodeError(nodeCode, `connect ${nodeCode} 127.0.0.1:1`)
    const err = toGrenacheError(original)
    expect(err).toBeInstanceOf(GrenacheError)
    expect(err.code).toBe(code)
    expect(err.message).toBe(`connect ${nodeCode} 127.0.0.1:1`)
    expect(err.cause).toBe(original)
  })

  it.each<[string, () => Error, ErrorCode]>([
    ['SocketError', () => new undiciErrors.SocketError('other side closed'), 'ERR_CONNECTION_RESET'],
    ['ClientClosedError', () => new undiciErrors.ClientClosedError(), 'ERR_CLOSED'],
    ['ClientDestroyedError', () => new undiciErrors.ClientDestroyedError(), 'ERR_CLOSED'],
    ['ConnectTimeoutError', () => new undiciErrors.ConnectTimeoutError(), 'ERR_TIMEOUT'],
    ['HeadersTimeoutError', () => new undiciErrors.HeadersTimeoutError(), 'ERR_TIMEOUT'],
    ['BodyTimeoutError', () => new undiciErrors.BodyTimeoutError(), 'ERR_TIMEOUT'],
    ['RequestAbortedError', () => new undiciErrors.RequestAbortedError(), 'ERR_ABORTED'],
  ])("maps undici's %s to %s", (_name, make, code) => {
    const original = make()
    expect((original as { code?: unknown }).code).toMatch(/^UND_ERR_/)
    const err = toGrenacheError(original)
    expect(err.code).toBe(code)
    expect(err.cause).toBe(original)
  })

  it.each<[string, ErrorCode]>([
    ['UND_ERR_SOCKET', 'ERR_CONNECTION_RESET'],
    ['UND_ERR_CLOSED', 'ERR_CLOSED'],
    ['UND_ERR_DESTROYED', 'ERR_CLOSED'],
    ['UND_ERR_CONNECT_TIMEOUT', 'ERR_TIMEOUT'],
    ['UND_ERR_HEADERS_TIMEOUT', 'ERR_TIMEOUT'],
    ['UND_ERR_BODY_TIMEOUT', 'ERR_TIMEOUT'],
  ])('maps any error whose code is %s to %s', (nodeCode, code) => {
    expect(toGrenacheError(nodeError(nodeCode)).code).toBe(code)
  })

  it('maps an AbortError (DOMException or Node) to ERR_ABORTED', () => {
    const dom = new DOMException('This operation was aborted', 'AbortError')
    const controller = new AbortController()
    controller.abort()
    const fromSignal = controller.signal.reason as Error
    const nodeAbort = Object.assign(new Error('The operation was aborted'), {
      name: 'AbortError',
      code: 'ABORT_ERR',
    })
    for (const original of [dom, fromSignal, nodeAbort]) {
      const err = toGrenacheError(original)
      expect(err.code, String(original)).toBe('ERR_ABORTED')
      expect(err.cause).toBe(original)
    }
  })

  it('maps an error with an unknown or missing code to ERR_INTERNAL, keeping the cause', () => {
    for (const original of [new TypeError('bad'), nodeError('EWHATEVER'), nodeError('UND_ERR_INFO')]) {
      const err = toGrenacheError(original)
      expect(err.code).toBe('ERR_INTERNAL')
      expect(err.message).toBe(original.message)
      expect(err.cause).toBe(original)
    }
  })

  it('maps an error whose code is the name of an Object.prototype member to ERR_INTERNAL', () => {
    for (const odd of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      const err = toGrenacheError(nodeError(odd))
      expect(err.code, odd).toBe('ERR_INTERNAL')
      expect(Object.keys(ERROR_CODES)).toContain(err.code)
    }
  })

  it('maps values that are not errors to ERR_INTERNAL with their text', () => {
    expect(toGrenacheError('plain text')).toMatchObject({ code: 'ERR_INTERNAL', message: 'plain text' })
    expect(toGrenacheError(undefined)).toMatchObject({ code: 'ERR_INTERNAL', message: 'undefined' })
    expect(toGrenacheError(null)).toMatchObject({ code: 'ERR_INTERNAL', message: 'null' })
    expect(toGrenacheError(42).cause).toBe(42)
  })

  it('maps an object with a known code that is not an Error by its code', () => {
    const err = toGrenacheError({ code: 'ECONNREFUSED' })
    expect(err.code).toBe('ERR_CONNECTION_REFUSED')
  })

  it('prefixes the message with the context', () => {
    const err = toGrenacheError(nodeError('ECONNREFUSED', 'connect ECONNREFUSED'), 'lookup via http://x')
    expect(err.message).toBe('lookup via http://x: connect ECONNREFUSED')
  })

  it('passes a GrenacheError through unchanged, context or not', () => {
    const original = new GrenacheError('ERR_LOOKUP_EMPTY', 'nobody')
    expect(toGrenacheError(original)).toBe(original)
    expect(toGrenacheError(original, 'lookup')).toBe(original)
    expect(original.message).toBe('nobody')
  })
})

describe('GrenacheError across copies of the module', () => {
  it('instanceof and isGrenacheError hold for an error of another copy (the bundled Grape has its own)', async () => {
    const specifier = '../../runtime/errors.js?another-copy'
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof import('../../runtime/errors.js')
    expect(copy.GrenacheError).not.toBe(GrenacheError)
    const foreign = new copy.GrenacheError('ERR_TIMEOUT')
    expect(foreign instanceof GrenacheError).toBe(true)
    expect(isGrenacheError(foreign, 'ERR_TIMEOUT')).toBe(true)
    expect(new GrenacheError('ERR_TIMEOUT') instanceof copy.GrenacheError).toBe(true)
  })

  it('stays false for other errors and keeps the prototype check of subclasses', async () => {
    const { Refusal } = await import('../../runtime/service/worker-errors.js')
    expect(new Error('x') instanceof GrenacheError).toBe(false)
    expect(nodeError('ECONNRESET') instanceof GrenacheError).toBe(false)
    expect((null as unknown as object) instanceof GrenacheError).toBe(false)
    expect(new Refusal('ERR_BUSY') instanceof GrenacheError).toBe(true)
    expect(new GrenacheError('ERR_BUSY') instanceof Refusal).toBe(false)
    expect(Object.keys(new GrenacheError('ERR_BUSY'))).not.toContain('grenache-gen.GrenacheError')
    expect(Object.getOwnPropertySymbols(new GrenacheError('ERR_BUSY'))).toEqual([])
  })
})
