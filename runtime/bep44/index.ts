export { fromHex, toHex, utf8 } from './bytes.js'
export {
  createSigner,
  expandSeed,
  generateKeyPair,
  type KeyPair,
  type Signer,
  verifySignature,
} from './ed25519.js'
export { encodeSignedData, type SignedFields } from './signed-data.js'
export { immutableTarget, mutableTarget } from './targets.js'
