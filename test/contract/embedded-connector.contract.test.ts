/**
 * The embedded connector (agent/connectors/embedded.ts) against the
 * InstanceConnector contract: the agent's own LevelDB store is the instance.
 */
import { createEmbeddedConnector } from '../../agent/connectors/embedded.js'
import { runConnectorContract } from './connector-contract.js'

runConnectorContract({
  name: 'embedded (agent/connectors/embedded.ts)',
  async setUp ({ store }) {
    return {
      connector: createEmbeddedConnector(),
      // the instance is the store: a version shows once its transaction has committed
      view: {
        async read (uid) {
          const object = await store.getObject(uid)
          return object === undefined ? undefined : { deleted: object.deleted, data: object.data }
        }
      }
    }
  },
  edits: { off: 'the instance is the agent\'s own store: the lab edits it through the document API, which writes local versions itself, so there is nothing to detect or report' },
  refusal: { off: 'committing a version to the store is the write: nothing else is there to refuse it' },
  rows: { off: 'it keeps no rows of its own' }
})
