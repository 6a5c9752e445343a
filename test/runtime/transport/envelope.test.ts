import { describe, expect, it } from 'vitest'
import { GrenacheError } from '../../../runtime/errors.js'
import {
  decodeReply,
  decodeRequest,
  encodeHandlerReply,
  encodeReply,
  encodeRequest,
  errorMessage,
  peekRequestId,
  remoteError,
} from '../../../runtime/transport/envelope.js'

describe('envelope', () => {
  describe('encodeRequest() / decodeRequest()', () => {
    it('round-trips [rid, key, payload] as the reference writes it', () => {
      const text = encodeRequest('651114e2-d8f6-44ef-a89c-7968a7e8437c', 'rpc_ws', 'hello')
      expect(text).toBe('["651114e2-d8f6-44ef-a89c-7968a7e8437c","rpc_ws","hello"]')
      expect(decodeRequest(text)).toEqual({
        rid: '651114e2-d8f6-44ef-a89c-7968a7e8437c',
        key: 'rpc_ws',
        payload: 'hello',
      })
    })

    it('sends an undefined payload as null', () => {
      expect(encodeRequest('r', 'k', undefined)).toBe('["r","k",null]')
    })

    it('refuses a payload JSON cannot carry with ERR_INVALID_ARGUMENT', () => {
      expect(() => encodeRequest('r', 'k', { n: 1n })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      )
    })

    it('rejects text that is not JSON, not an array, or has no string key with ERR_BAD_REQUEST', () => {
      for (const text of ['', 'nope', '{"a":1}', '["r"]', '["r", 5, 1]', 'null']) {
        expect(() => decodeRequest(text), text).toThrow(expect.objectContaining({ code: 'ERR_BAD_REQUEST' }))
      }
    })

    it('accepts any JSON rid, as reference workers do (numeric rids are echoed)', () => {
      expect(decodeRequest('[42,"k",{}]')).toEqual({ rid: 42, key: 'k', payload: {} })
    })
  })

  describe('encodeReply() / decodeReply()', () => {
    it('writes success as [rid, null, result] and an undefined result as null', () => {
      expect(encodeReply('r', null, { a: 1 })).toBe('["r",null,{"a":1}]')
      expect(encodeReply('r', null, undefined)).toBe('["r",null,null]')
      expect(decodeReply('["r",null,{"a":1}]')).toEqual({ rid: 'r', error: null, result: { a: 1 } })
    })

    it('sends an Error and a string alike as the message, with a null result (G12)', () => {
      expect(encodeReply('r', new Error('ERR_X'), 'ignored')).toBe('["r","ERR_X",null]')
      expect(encodeReply('r', 'ERR_Y', undefined)).toBe('["r","ERR_Y",null]')
    })

    it('never sends an empty error message, which reference clients would read as success', () => {
      expect(errorMessage(new Error(''))).toBe('Error')
      expect(errorMessage('')).toBe('Error')
      expect(errorMessage(null)).toBeNull()
      expect(errorMessage(undefined)).toBeNull()
    })

    it('turns a result JSON cannot carry into an ERR_BAD_REPLY error reply', () => {
      const circular: Record<string, unknown> = {}
      circular.self = circular
      const reply = decodeReply(encodeReply('r', null, circular))
      expect(reply.rid).toBe('r')
      expect(reply.error).toMatch(/^ERR_BAD_REPLY: /)
    })

    it('rejects a reply that is not [rid, error, result] with ERR_BAD_REPLY', () => {
      for (const text of ['', 'x', '{}', '["r", 5, 1]']) {
        expect(() => decodeReply(text), text).toThrow(expect.objectContaining({ code: 'ERR_BAD_REPLY' }))
      }
    })

    it('reads an empty error string as success, as reference clients do', () => {
      expect(decodeReply('["r","",1]').error).toBeNull()
    })
  })

  describe('remoteError()', () => {
    it('is ERR_REMOTE with the code the message starts with', () => {
      expect(remoteError('TOO_SLOW')).toMatchObject({ code: 'ERR_REMOTE', remoteCode: 'TOO_SLOW' })
      expect(remoteError('ERR_BAD_REQUEST: the request is not JSON')).toMatchObject({
        remoteCode: 'ERR_BAD_REQUEST',
      })
      expect(remoteError('something broke').remoteCode).toBeUndefined()
      expect(remoteError('Lower: case').remoteCode).toBeUndefined()
    })

    it('is ERR_BUSY for a refusal, and ERR_REMOTE when the reply cannot be one', () => {
      expect(remoteError('ERR_BUSY: limit')).toMatchObject({ code: 'ERR_BUSY' })
      expect(remoteError('ERR_BUSY: limit', null, false)).toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'ERR_BUSY',
      })
      expect(remoteError('ERR_BUSYNESS: no')).toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'ERR_BUSYNESS',
      })
    })

    it("sends a handler's ERR_BUSY as ERR_WORKER, and every other reply as encodeReply does", () => {
      expect(JSON.parse(encodeHandlerReply('r', new Error('ERR_BUSY: downstream'), null))).toEqual([
        'r',
        'ERR_WORKER: ERR_BUSY: downstream',
        null,
      ])
      expect(JSON.parse(encodeHandlerReply('r', 'ERR_BUSY', null))[1]).toBe('ERR_WORKER: ERR_BUSY')
      for (const [error, result] of [
        [null, { a: 1 }],
        [new Error('ERR_BUSYNESS: no'), null],
        [new Error('TOO_SLOW: n'), null],
        ['NOT_ALLOWED', null],
      ] as const) {
        expect(encodeHandlerReply('r', error, result)).toBe(encodeReply('r', error, result))
      }
    })

    it("carries a refusal's issues and a masked error's id through the result slot, both ways", () => {
      const issues = [{ path: ['items', 0, 'qty'], message: 'Too small', code: 'too_small' }]
      const refusal = new GrenacheError('ERR_INVALID_INPUT', 'ERR_INVALID_INPUT: items.0.qty: Too small', {
        issues,
      })
      const text = encodeReply('r', refusal, undefined)
      expect(JSON.parse(text)).toEqual(['r', 'ERR_INVALID_INPUT: items.0.qty: Too small', { issues }])
      const reply = decodeReply(text)
      expect(remoteError(reply.error as string, reply.result)).toMatchObject({
        code: 'ERR_REMOTE',
        remoteCode: 'ERR_INVALID_INPUT',
        issues,
      })
      const masked = new GrenacheError('ERR_WORKER', 'ERR_WORKER: s.m failed (error id x1)', {
        errorId: 'x1',
      })
      const back = decodeReply(encodeReply('r', masked, 'ignored'))
      expect(remoteError(back.error as string, back.result).errorId).toBe('x1')
    })

    it('ignores a result slot that is not well-formed details (a reference worker sends data there)', () => {
      expect(
        remoteError('ERR_X', { issues: [{ path: 'a', message: 'm', code: 'c' }] }).issues,
      ).toBeUndefined()
      expect(remoteError('ERR_X', { issues: 'no' }).issues).toBeUndefined()
      expect(remoteError('ERR_X', { errorId: 42 }).errorId).toBeUndefined()
      expect(remoteError('ERR_X', 'data')).toMatchObject({ code: 'ERR_REMOTE', issues: undefined })
      expect(JSON.parse(encodeReply('r', new Error('plain'), { leak: 1 }))).toEqual(['r', 'plain', null])
    })
  })

  describe('peekRequestId()', () => {
    it('reads the rid from the first bytes of a request', () => {
      expect(peekRequestId('["abc-123","key",{"big":')).toBe('abc-123')
      expect(peekRequestId(' [ "a\\"b" , ')).toBe('a\\"b')
      expect(peekRequestId('{"not":"an array"}')).toBeUndefined()
      expect(peekRequestId('[42,"k"')).toBeUndefined()
    })
  })
})
