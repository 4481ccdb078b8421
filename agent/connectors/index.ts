/**
 * Builds the connector a config names (`instance.kind`). The SENAITE
 * connector (with its HTTP client, undici) is loaded only by an agent that
 * uses it: ~3.5 MiB of an idle embedded agent's memory (bench/idle-memory.ts).
 */
import type { LoadedConfig } from '../../config/load.js'
import type { InstanceConnector } from './connector.js'
import { createEmbeddedConnector } from './embedded.js'

export async function createConnectorFor (config: LoadedConfig, env: NodeJS.ProcessEnv): Promise<InstanceConnector> {
  switch (config.instance.kind) {
    case 'embedded': return createEmbeddedConnector()
    case 'senaite': {
      const { createSenaiteConnector } = await import('./senaite/connector.js')
      return createSenaiteConnector({ instance: config.instance, dataDir: config.paths.dataDir, env })
    }
  }
}
