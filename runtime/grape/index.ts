export { Grape, type GrapeAddress, type GrapeEvents } from './grape.js'
export type { GrapeOptions, VerifyFunction } from './grape-options.js'
