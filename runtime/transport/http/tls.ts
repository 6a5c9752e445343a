import type { ServerOptions } from 'node:https'
import type { ConnectionOptions } from 'node:tls'
import { checkOption } from '../../util/validate.js'
import type { TlsOptions } from '../types.js'

/** The `tls.connect` options undici's connector gets for a client with `tls`. */
export type ClientTlsOptions = Pick<
  ConnectionOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'servername' | 'rejectUnauthorized'
>

/** Checks a client's `tls` and keeps what `tls.connect` needs; `rejectUnauthorized` defaults to true. */
export function clientTlsOptions(tls: TlsOptions): ClientTlsOptions {
  const options: ClientTlsOptions = {}
  if (tls.ca !== undefined) options.ca = tls.ca
  if (tls.cert !== undefined) options.cert = tls.cert
  if (tls.key !== undefined) options.key = tls.key
  if (tls.pfx !== undefined) options.pfx = tls.pfx
  if (tls.passphrase !== undefined) options.passphrase = tls.passphrase
  if (tls.servername !== undefined) options.servername = checkOption.string('tls.servername', tls.servername)
  options.rejectUnauthorized =
    tls.rejectUnauthorized === undefined
      ? true
      : checkOption.boolean('tls.rejectUnauthorized', tls.rejectUnauthorized)
  return options
}

/**
 * Checks a server's `tls` and returns its `https.createServer` options: a certificate and key are
 * required; `requestCert` defaults to false, `rejectUnauthorized` to true.
 */
export function serverTlsOptions(tls: TlsOptions): ServerOptions {
  if (tls.pfx === undefined && (tls.cert === undefined || tls.key === undefined)) {
    checkOption.fail('tls', 'must hold a certificate and its key (cert and key, or pfx)', tls)
  }
  const options: ServerOptions = {}
  if (tls.ca !== undefined) options.ca = tls.ca
  if (tls.cert !== undefined) options.cert = tls.cert
  if (tls.key !== undefined) options.key = tls.key
  if (tls.pfx !== undefined) options.pfx = tls.pfx
  if (tls.passphrase !== undefined) options.passphrase = tls.passphrase
  options.requestCert =
    tls.requestCert === undefined ? false : checkOption.boolean('tls.requestCert', tls.requestCert)
  options.rejectUnauthorized =
    tls.rejectUnauthorized === undefined
      ? true
      : checkOption.boolean('tls.rejectUnauthorized', tls.rejectUnauthorized)
  return options
}

/** The kind of an HTTP transport: as asked, else `https` exactly when it has `tls`. */
export function httpKind(kind: unknown, tls: TlsOptions | undefined): 'http' | 'https' {
  if (kind === undefined) return tls === undefined ? 'http' : 'https'
  if (kind !== 'http' && kind !== 'https') checkOption.fail('kind', "must be 'http' or 'https'", kind)
  if (kind === 'http' && tls !== undefined) checkOption.fail('tls', "does not apply to kind 'http'", tls)
  return kind
}
