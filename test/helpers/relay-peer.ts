/**
 * A relay under the test's control: a bare libp2p node with an allowed
 * hub's key that serves the sync protocol from a feed the test writes —
 * versions it took from a real agent (pullFrom), as they are or altered in
 * transit. It stands for a hub that tampers with what it relays.
 */
import type { PrivateKey, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { PROTOCOL_ID, PROTOCOL_VERSION } from '../../protocol/constants.js'
import type { WireObject } from '../../protocol/object.js'
import { jsonFrame } from './fuzz-frames.js'
import { createRawPeer, type RawPeer } from './raw-peer.js'
import { frameReader, handshake, pullAll } from './wire-client.js'

export interface RelayPeer {
  /** where pullers dial it */
  readonly addr: string
  /** append versions to its feed (pullers get them at their next pull) */
  publish (...objects: WireObject[]): void
  /** everything a real agent serves it now (it must be one of that agent's peers) */
  pullFrom (addr: string, peerId: string): Promise<WireObject[]>
  stop (): Promise<void>
}

export async function createRelayPeer (key: PrivateKey, domain: string): Promise<RelayPeer> {
  const peer: RawPeer = await createRawPeer(key)
  const feed: WireObject[] = []
  const serve = async (stream: Stream): Promise<void> => {
    const reader = frameReader(stream)
    if ((await reader.next(10_000))?.type !== 'hello') return
    stream.send(jsonFrame({ type: 'hello', v: PROTOCOL_VERSION, domain, head: feed.length, count: feed.length, epoch: `${domain}-epoch` }))
    while (!reader.ended) {
      const m = await reader.next(60_000)
      if (m === undefined) continue
      if (m.type === 'pull') {
        const since = m.since as number
        stream.send(jsonFrame({ type: 'batch', v: PROTOCOL_VERSION, id: m.id, changes: feed.slice(since), lastSeq: feed.length, last: true, more: false, remaining: 0 }))
      } else if (m.type === 'get') {
        const uids = m.uids as string[]
        const latest = (uid: string): WireObject | undefined => [...feed].reverse().find((o) => o.uid === uid)
        const objects = uids.map(latest).filter((o): o is WireObject => o !== undefined)
        stream.send(jsonFrame({ type: 'objects', v: PROTOCOL_VERSION, id: m.id, objects, missing: uids.filter((u) => latest(u) === undefined), last: true }))
      }
    }
  }
  await peer.node.handle(PROTOCOL_ID, (stream) => { void serve(stream).catch(() => {}) })
  return {
    addr: peer.node.getMultiaddrs()[0]!.toString().replace(/\/p2p\/.*$/, ''),
    publish: (...objects) => { feed.push(...objects) },
    async pullFrom (addr, peerId) {
      const stream = await peer.node.dialProtocol(multiaddr(`${addr}/p2p/${peerId}`), PROTOCOL_ID, { signal: AbortSignal.timeout(5000) })
      const reader = frameReader(stream)
      await handshake(stream, reader, domain)
      const objects = await pullAll(stream, reader)
      await stream.close()
      return objects
    },
    stop: async () => { await peer.stop() }
  }
}
