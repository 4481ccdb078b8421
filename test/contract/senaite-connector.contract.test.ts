/**
 * The SENAITE connector (agent/connectors/senaite/) against the
 * InstanceConnector contract, over the JSON API simulator on 127.0.0.1, on
 * each SENAITE layout it models.
 * The instance view reads the simulated site; the lab's edits go through
 * the site's JSON API, as a lab user's would.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createSenaiteConnector } from '../../agent/connectors/senaite/connector.js'
import { MAP_SPACE, type LocalRef } from '../../agent/connectors/senaite/mapping.js'
import { senaiteInstanceSchema } from '../../config/senaite-schema.js'
import type { Store } from '../../store/types.js'
import { LAYOUTS, startSimulator } from '../helpers/senaite.js'
import type { SenaiteSimulator } from '../senaite-sim/simulator.js'
import type { SimObject } from '../senaite-sim/site.js'
import { runConnectorContract } from './connector-contract.js'

const POLL_MS = 250
const REFUSED_TITLE = 'A title this site refuses'
const PASSWORD_ENV = 'LABMESH_CONTRACT_SENAITE_PASSWORD'
const AUTH = `Basic ${Buffer.from('labman:labman').toString('base64')}`

/**
 * The site object holding a mesh uid. The site knows nothing of mesh uids:
 * the connector's committed map row says, or — for a create whose store
 * transaction failed and whose retry only updated it — its journal; an
 * object made in the site keeps its SENAITE uid as mesh uid.
 */
async function siteObject (sim: SenaiteSimulator, store: Store, dataDir: string, uid: string): Promise<SimObject | undefined> {
  const mapped = await store.getAux<LocalRef>(MAP_SPACE, uid)
  if (mapped !== undefined) return sim.site.get(mapped.uid)
  const journal = await readFile(join(dataDir, 'senaite-journal.ndjson'), 'utf8').catch(() => '')
  const journalled = journal.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { mesh: string, ref: LocalRef }).find((entry) => entry.mesh === uid)
  return sim.site.get(journalled?.ref.uid ?? uid)
}

/** a lab user's write through the site's JSON API */
async function labWrite (sim: SenaiteSimulator, path: string, body: Record<string, unknown>): Promise<void> {
  const response = await sim.app.request(`/senaite/@@API/senaite/v1/${path}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const answer = await response.json() as { success?: boolean, message?: string }
  if (response.status !== 200 || answer.success === false) throw new Error(`the site refused the lab's ${path}: ${answer.message ?? response.status}`)
}

for (const layout of LAYOUTS) {
  runConnectorContract({
    name: `senaite (agent/connectors/senaite/) over the simulator, SENAITE ${layout}`,
    async setUp ({ store, dataDir }) {
      const sim = await startSimulator({ layout, refuse: (_type, fields) => fields.title === REFUSED_TITLE ? JSON.stringify({ title: 'this title is not allowed here' }) : undefined })
      const instance = senaiteInstanceSchema.parse({ kind: 'senaite', url: sim.url(), username: 'labman', passwordEnv: PASSWORD_ENV, pollInterval: `${POLL_MS}ms`, layout })
      const connector = createSenaiteConnector({ instance, dataDir, env: { [PASSWORD_ENV]: 'labman' } })
      const find = async (uid: string): Promise<SimObject | undefined> => await siteObject(sim, store, dataDir, uid)
      return {
        connector,
        view: {
          async read (uid) {
            const o = await find(uid)
            // nothing is deleted in SENAITE: deactivated or cancelled is its tombstone
            return o === undefined ? undefined : { deleted: o.reviewState === 'inactive' || o.reviewState === 'cancelled', data: o.fields }
          }
        },
        edits: {
          intervalMs: POLL_MS,
          async edit (uid, title) {
            const o = await find(uid)
            if (o === undefined) throw new Error(`the site holds nothing for ${uid}`)
            await labWrite(sim, `update/${o.uid}`, { title })
          },
          async create (title) {
            await labWrite(sim, 'create', { portal_type: 'Method', parent_path: '/senaite/methods', title })
          },
          async detect () { await connector.pollNow() }
        },
        async tearDown () { await sim.stop() }
      }
    },
    edits: { on: true },
    refusal: { title: REFUSED_TITLE, code: 'SENAITE_REFUSED' },
    rows: { on: true }
  })
}
