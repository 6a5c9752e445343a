import { GrenacheError } from '../errors.js'

/**
 * The error a generated codec throws: a `GrenacheError` keeps its code and gains `where` (the
 * state and the part, e.g. `order_book v1 delta`). While encoding, any other error (a field of the
 * wrong type met a property access) becomes `ERR_ENCODE`; while decoding it is a bug of ours and
 * is rethrown as it is, so tests see it.
 */
export function codecError(
  err: unknown,
  code: 'ERR_ENCODE' | 'ERR_DECODE',
  where: string,
  explain?: () => void,
): unknown {
  if (code === 'ERR_DECODE' && !(err instanceof GrenacheError)) return err
  // Encoders trust their input and skip zod; when one fails, zod says which field was wrong.
  let why = ''
  if (
    code === 'ERR_ENCODE' &&
    explain &&
    !(err instanceof GrenacheError && err.message.includes('more than max'))
  ) {
    try {
      explain()
    } catch (invalid) {
      if (invalid instanceof GrenacheError) why = ` (${invalid.message.replace(/^[^:]*: /, '')})`
    }
  }
  if (err instanceof GrenacheError)
    return new GrenacheError(err.code, `${where}: ${err.message}${why}`, { cause: err })
  const text = err instanceof Error ? err.message : String(err)
  return new GrenacheError('ERR_ENCODE', `${where}: the value does not match the layout: ${text}${why}`, {
    cause: err,
  })
}

/** `ERR_ENCODE` for a key or leaf that encodes past its limit. */
export function limitError(part: 'key' | 'leaf' | 'patch', bytes: number, limit: number): GrenacheError {
  const option = part === 'key' ? 'maxKeyBytes' : 'maxLeafBytes'
  return new GrenacheError('ERR_ENCODE', `${part}: ${bytes} bytes, more than ${option} (${limit})`)
}
