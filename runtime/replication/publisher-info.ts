import type { ResolvedTransport } from './feed-transport.js'
import type { FeedInfo } from './packet.js'
import { type StreamTransport, streamCode } from './snapshot-stream.js'

/**
 * What a replica learns from a publisher's INFO: where the feed's packets go (the transport's
 * groups and ports), how often heartbeats come, the largest datagram, and the snapshot stream when
 * one is served (`streamPort`: where it listens).
 */
export function feedInfo(
  transport: ResolvedTransport,
  options: { heartbeatMs: number; maxDatagramBytes: number; snapshotStream: StreamTransport | false },
  streamPort: number | undefined,
): FeedInfo {
  return {
    transport: transport.kind,
    group: transport.data.host,
    dataPort: transport.data.port,
    snapshotPort: transport.snapshot.port,
    heartbeatMs: options.heartbeatMs,
    maxDatagramBytes: options.maxDatagramBytes,
    ...(streamPort !== undefined && options.snapshotStream
      ? { stream: { code: streamCode(options.snapshotStream), port: streamPort } }
      : {}),
  }
}
