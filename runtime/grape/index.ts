export { Grape, type GrapeAddress, type GrapeEvents, type GrapeStats } from './grape.js'
export type { GrapeOptions, VerifyFunction } from './grape-options.js'
