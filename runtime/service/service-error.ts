/**
 * An error a service declares (`errors: { TOO_SLOW: '…' }`): throw it from a worker method and it
 * travels as `TOO_SLOW: <message>`; the client receives `ERR_REMOTE` with `remoteCode: 'TOO_SLOW'`.
 */
export class ServiceError<C extends string = string> extends Error {
  override readonly name = 'ServiceError'
  readonly code: C

  constructor(code: C, message?: string) {
    super(message ? `${code}: ${message}` : code)
    this.code = code
  }
}
