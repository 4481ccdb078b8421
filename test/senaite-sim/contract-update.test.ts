/**
 * Contract: updating and deleting. Encodes senaite.jsonapi's doctest
 * update.rst (tags 1.2.4, 2.4.0, 2.5.0; form-encoded) and `api.update_items`
 * / `is_update_allowed` / `delete_items` for the texts the doctest only
 * shows as statuses.
 */
import { describe, expect, it } from 'vitest'
import { ALL, get, post, postForm, simOf, uidAt } from './contract-helpers.js'
import type { RealLayout } from './layouts.js'
import type { SenaiteSimulator } from './simulator.js'

async function threeClients (layout: RealLayout): Promise<{ sim: SenaiteSimulator, uids: string[] }> {
  const sim = simOf(layout)
  const uids: string[] = []
  for (const [title, id] of [['Chicken corp', 'CC'], ['Beef Corp', 'BC'], ['Octopus Corp', 'OC']]) {
    uids.push((await postForm(sim, 'create', { portal_type: 'Client', parent_path: '/senaite/clients', title: title!, ClientID: id! })).json.items[0].uid)
  }
  return { sim, uids }
}

describe.each(ALL)('update.rst, layout %s', (layout) => {
  it('"Update by resource and uid" / "by uid" / "via post only" (uid, path, parent_path + id)', async () => {
    const { sim, uids: [uid] } = await threeClients(layout)
    const clientId = async (): Promise<string> => (await get(sim, uid!)).json.ClientID
    expect((await postForm(sim, `client/update/${uid!}`, { ClientID: 'CC1' })).json.items[0].ClientID).toBe('CC1')
    await postForm(sim, `update/${uid!}`, { ClientID: 'CC2' })
    expect(await clientId()).toBe('CC2')
    await postForm(sim, 'update', { uid: uid!, ClientID: 'CC3' })
    expect(await clientId()).toBe('CC3')
    await postForm(sim, 'update', { path: '/senaite/clients/client-1', ClientID: 'CC4' })
    expect(await clientId()).toBe('CC4')
    const r = await postForm(sim, 'update', { id: 'client-1', parent_path: '/senaite/clients', ClientID: 'CC5' })
    expect(r.json).toMatchObject({ count: 1, url: 'http://127.0.0.1/senaite/@@API/senaite/v1/update' })
    expect(await clientId()).toBe('CC5')
  })

  it('"Do a transition": transition in the record, alone or with fields; review history oldest first', async () => {
    const { sim, uids: [uid] } = await threeClients(layout)
    // the state read through workflow_info: on ≤2.4 an object's brain comes from uid_catalog, whose review_state is null
    const state = async (): Promise<string> => (await get(sim, `${uid!}?workflow=yes`)).json.workflow_info[0].review_state
    await postForm(sim, 'update', { uid: uid!, transition: 'deactivate' })
    expect(await state()).toBe('inactive')
    const both = await postForm(sim, 'update', { uid: uid!, ClientID: 'CC6', transition: 'activate' })
    expect(both.json.items[0].ClientID).toBe('CC6')
    expect(await state()).toBe('active')
    // DCW `state_change/getHistory`: the stored history, oldest first
    const history = (await get(sim, `${uid!}?workflow=yes`)).json.workflow_info[0].review_history.map((h: { action: string | null }) => h.action)
    expect(history).toEqual([null, 'deactivate', 'activate'])
  })

  it('"Update restrictions": 401 "Update of <path> is not allowed" for a top-level folder and for a setup folder; the id is never updated', async () => {
    const { sim, uids: [uid] } = await threeClients(layout)
    const clients = await postForm(sim, 'update', { title: 'My clients folder', uid: uidAt(sim, 'clients') })
    expect(clients).toMatchObject({ status: 401, json: { success: false, message: 'Update of /senaite/clients is not allowed' } })
    // the doctest's bika_analysiscategories; 2.6 moved it to /setup, so a folder still in bika_setup stands in
    const setupFolder = layout === '2.6' ? 'bika_setup/bika_labcontacts' : 'bika_setup/bika_analysiscategories'
    expect(await postForm(sim, 'update', { title: 'x', uid: uidAt(sim, setupFolder) })).toMatchObject({ status: 401, json: { message: `Update of /senaite/${setupFolder} is not allowed` } })
    const same = await postForm(sim, 'update', { id: 'client-123123', uid: uid! })
    expect(same.json.items[0].id).toBe('client-1')
  })

  it('update_items: nothing found is 400 "No Objects could be updated"; a record field that fails validation keeps what was set before', async () => {
    const { sim, uids: [uid] } = await threeClients(layout)
    expect(await post(sim, `update/${'e'.repeat(32)}`, { title: 'x' })).toMatchObject({ status: 400, json: { message: 'No Objects could be updated' } })
    expect(await post(sim, 'update', { title: 'x' })).toMatchObject({ status: 400, json: { message: 'No Objects could be updated' } })
    // fields are set before the refused transition, and the transaction commits anyway
    const refused = await post(sim, `update/${uid!}`, { ClientID: 'KEPT', transition: 'publish' })
    expect(refused).toMatchObject({ status: 200, json: { success: false } })
    expect(refused.json.message).toMatch(/^Failed to perform transition 'publish' on <Client at \/senaite\/clients\/client-1>: Invalid transition 'publish'/)
    expect((await get(sim, uid!)).json.ClientID).toBe('KEPT')
  })

  it('delete_items: deactivates; the item is the object\'s own data (no url keys); types without deactivate answer 200; nothing found 404', async () => {
    const { sim, uids: [uid] } = await threeClients(layout)
    const gone = await post(sim, `delete/${uid!}`, {})
    expect(gone.json.items[0]).toMatchObject({ uid, ClientID: 'CC' })
    expect(gone.json.items[0]).not.toHaveProperty('api_url')
    expect(gone.json.items[0]).not.toHaveProperty('review_state')
    expect((await get(sim, `${uid!}?workflow=yes`)).json.workflow_info[0].review_state).toBe('inactive')
    const folder = await post(sim, `delete/${uidAt(sim, 'clients')}`, {})
    expect(folder).toMatchObject({ status: 200, json: { success: false } })
    expect(folder.json.message).toMatch(/^Failed to perform transition 'deactivate' on <ClientFolder at \/senaite\/clients>/)
    expect(await post(sim, 'delete', { uid: 'd'.repeat(32) })).toMatchObject({ status: 404, json: { message: 'No Objects could be found' } })
    expect(await post(sim, 'delete/0', {})).toMatchObject({ status: 400, json: { message: 'Can not delete the portal object' } })
  })
})
