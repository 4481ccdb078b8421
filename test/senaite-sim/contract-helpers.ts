/**
 * Helpers for the contract tests: requests through `app.request` as JSON or
 * form-encoded (the doctests post `urllib.urlencode(data, doseq=True)`),
 * and the layouts each behaviour applies to.
 */
import { createSenaiteSimulator, type SenaiteSimulator, type SimulatorOptions } from './simulator.js'
import { REAL_LAYOUTS, type RealLayout } from './layouts.js'

export const BASIC = `Basic ${Buffer.from('labman:labman').toString('base64')}`
export const API = '/senaite/@@API/senaite/v1'
export const ALL: readonly RealLayout[] = REAL_LAYOUTS
export const AT_SETUP: readonly RealLayout[] = ['1.3', '2.0-2.4', '2.5']
export const TWO_X: readonly RealLayout[] = ['2.0-2.4', '2.5', '2.6']

export interface Answer { status: number, json: any, text: string, headers: Headers } // eslint-disable-line @typescript-eslint/no-explicit-any

export async function get (sim: SenaiteSimulator, path: string, headers: Record<string, string> = { authorization: BASIC }): Promise<Answer> {
  const response = await sim.app.request(path === '' ? API : `${API}/${path}`, { headers })
  return await parse(response)
}

/** POST a JSON body */
export async function post (sim: SenaiteSimulator, path: string, body: unknown, headers: Record<string, string> = { authorization: BASIC }): Promise<Answer> {
  const response = await sim.app.request(`${API}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
  return await parse(response)
}

/** POST form-encoded, lists as repeated keys (`urlencode(doseq=True)`); a key ending in `:list` stays a list */
export async function postForm (sim: SenaiteSimulator, path: string, data: Record<string, unknown>, headers: Record<string, string> = { authorization: BASIC }): Promise<Answer> {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(data)) {
    for (const item of Array.isArray(v) ? v : [v]) body.append(k, typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item))
  }
  const response = await sim.app.request(`${API}/${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: body.toString() })
  return await parse(response)
}

async function parse (response: Response): Promise<Answer> {
  const text = await response.text()
  return { status: response.status, text, json: text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text, headers: response.headers }
}

export function simOf (layout: RealLayout, options: SimulatorOptions = {}): SenaiteSimulator {
  return createSenaiteSimulator({ ...options, layout })
}

export const uidAt = (sim: SenaiteSimulator, path: string): string => {
  const o = sim.site.atPath(`/senaite/${path}`)
  if (o === undefined) throw new Error(`no ${path} in a ${sim.site.siteLayout} site`)
  return o.uid
}

/** the container path of a type on the simulator's layout */
export const containerOf = (sim: SenaiteSimulator, type: string): string => sim.site.spec(type)!.container!

/** ids of a listing's items */
export const ids = (a: Answer, sort = true): string[] => { const out = (a.json.items as Array<{ id: string }>).map((i) => i.id); return sort ? out.sort() : out }

/** an AT SampleType create record that passes validation on this layout (doctest create.rst) */
export function sampleTypeRecord (layout: RealLayout, title: string, prefix: string): Record<string, unknown> {
  if (layout === '2.6') return { title, prefix, min_volume: '10 gr' }
  return { title, Prefix: prefix, MinimumVolume: '10 gr', ...(layout === '1.3' ? {} : { AdmittedStickerTemplates: [{ admitted: ['QR_1x14mmx39mm.pt'], small_default: 'QR_1x14mmx39mm.pt', large_default: 'QR_1x14mmx39mm.pt' }] }) }
}

/** a client as the read/search doctests create them */
export async function clients (sim: SenaiteSimulator, list: Array<[string, string]>): Promise<string[]> {
  const out: string[] = []
  for (const [title, id] of list) out.push((await post(sim, `client/create/${uidAt(sim, 'clients')}`, { title, ClientID: id })).json.items[0].uid)
  return out
}
