/** Builds the connector a config names (`instance.kind`). */
import type { LoadedConfig } from '../../config/load.js'
import type { InstanceConnector } from './connector.js'
import { createEmbeddedConnector } from './embedded.js'
import { createSenaiteConnector } from './senaite/connector.js'

export function createConnectorFor (config: LoadedConfig, env: NodeJS.ProcessEnv): InstanceConnector {
  switch (config.instance.kind) {
    case 'embedded': return createEmbeddedConnector()
    case 'senaite': return createSenaiteConnector({ instance: config.instance, dataDir: config.paths.dataDir, env })
  }
}
