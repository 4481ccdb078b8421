/**
 * The memory connector (agent/connectors/memory.ts) against the
 * InstanceConnector contract: a Map the lab edits directly, polled on a
 * short interval as well as on demand.
 */
import { createMemoryConnector } from '../../agent/connectors/memory.js'
import { runConnectorContract } from './connector-contract.js'

const POLL_MS = 25

runConnectorContract({
  name: 'memory (agent/connectors/memory.ts)',
  async setUp () {
    // polling on its own too, so that stop has a timer to clear
    const connector = createMemoryConnector({ pollMs: POLL_MS })
    let made = 0
    return {
      connector,
      view: {
        async read (uid) {
          const doc = connector.get(uid)
          return doc === undefined ? undefined : { deleted: doc.deleted, data: doc.data }
        }
      },
      edits: {
        intervalMs: POLL_MS,
        async edit (uid, title) {
          const doc = connector.get(uid)
          if (doc === undefined) throw new Error(`the memory instance holds no ${uid}`)
          connector.edit({ ...doc, data: { ...doc.data, title } })
        },
        async create (title) {
          made++
          connector.edit({ uid: `lab-made-${made}`, type: 'Method', id: `method-${made}`, parent: null, refs: [], data: { title }, deleted: false })
        },
        async detect () { await connector.poll() }
      }
    }
  },
  edits: { on: true },
  refusal: { off: 'the in-memory lab takes every version: it has no way to refuse one' },
  rows: { off: 'it keeps nothing in the agent\'s store: what it wrote lives in memory' }
})
