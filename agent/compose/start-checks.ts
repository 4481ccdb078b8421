/**
 * Start-up failures said in the config's terms: which entry is wrong and
 * what to write instead, rather than what the library underneath saw.
 */
import type { LoadedConfig } from '../../config/load.js'
import { ConfigError } from '../../config/errors.js'

/** A peer entry carrying this agent's own peer ID would make it dial itself. */
export function assertNotListedAsPeer (config: LoadedConfig, selfId: string): void {
  const i = config.peers.findIndex((p) => p.peerId === selfId)
  if (i >= 0) {
    throw new ConfigError([{
      path: `peers[${i}].peerId`,
      message: 'is this agent\'s own peer ID',
      fix: 'list only other agents: paste the ID printed by `labmesh id --config <that peer\'s labmesh.yaml>`'
    }], config.configFile)
  }
}

/**
 * libp2p reports a listen address it cannot bind in its own words (and names
 * its own options); say which `listen` entry it was and what to do instead.
 */
export function listenError (err: unknown, config: LoadedConfig): unknown {
  if ((err as { name?: string }).name !== 'UnsupportedListenAddressesError') return err
  const text = (err as Error).message
  const issues = config.listen.flatMap((addr, i) => {
    if (!text.includes(addr)) return []
    const inUse = /EADDRINUSE/.test(text)
    return [{
      path: `listen[${i}]`,
      message: inUse ? `${addr} is already in use` : `${addr} cannot be listened on`,
      fix: inUse ? 'stop whatever listens there or choose another port' : 'use an address of this machine, e.g. /ip4/0.0.0.0/tcp/4101'
    }]
  })
  return issues.length > 0 ? new ConfigError(issues, config.configFile) : err
}
