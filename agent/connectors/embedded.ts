/**
 * The embedded instance: objects live in the agent's own LevelDB, edited
 * through the local document API. Remote versions need no second write —
 * committing them to the store is what makes them current in the instance.
 */
import type { InstanceConnector, RemoteWrite, RemoteWriteResult } from './connector.js'

export function createEmbeddedConnector (): InstanceConnector {
  return {
    kind: 'embedded',
    async start () {},
    async stop () {},
    async applyRemote (writes: readonly RemoteWrite[]): Promise<RemoteWriteResult[]> {
      return writes.map(() => ({ ok: true }))
    }
  }
}
