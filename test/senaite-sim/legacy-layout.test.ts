/**
 * The transition names: existing callers pass `layout: '2.x'` / `'1.x'` (or
 * nothing) and keep today's kind simulator ('2.x-legacy-kind' /
 * '1.x-legacy-kind') until the connector is fixed; the environment can swap
 * a real layout in for them, which is how the connector's integration tests
 * run against each layout. `site.layout` stays the family an admin writes in
 * the agent's `instance.layout`.
 */
import { describe, expect, it } from 'vitest'
import { get, post, uidAt } from './contract-helpers.js'
import { resolveLayout } from './layouts.js'
import { createSenaiteSimulator } from './simulator.js'

describe('legacy layout names', () => {
  it('"2.x", "1.x" and no layout resolve to the legacy kind layouts; real names resolve to themselves', () => {
    expect(resolveLayout('2.x', {})).toBe('2.x-legacy-kind')
    expect(resolveLayout(undefined, {})).toBe('2.x-legacy-kind')
    expect(resolveLayout('1.x', {})).toBe('1.x-legacy-kind')
    for (const name of ['1.3', '2.0-2.4', '2.5', '2.6', '2.x-legacy-kind'] as const) expect(resolveLayout(name, {})).toBe(name)
    expect(() => resolveLayout('3.0' as never, {})).toThrow(/unknown simulator layout/)
  })

  it('SENAITE_SIM_LAYOUT_2X / _1X put a real layout behind the legacy names; a bad value is refused', () => {
    const env = { SENAITE_SIM_LAYOUT_2X: '2.5', SENAITE_SIM_LAYOUT_1X: '1.3' }
    expect(resolveLayout('2.x', env)).toBe('2.5')
    expect(resolveLayout(undefined, env)).toBe('2.5')
    expect(resolveLayout('1.x', env)).toBe('1.3')
    expect(resolveLayout('2.6', env)).toBe('2.6') // an explicit layout is not overridden
    expect(() => resolveLayout('2.x', { SENAITE_SIM_LAYOUT_2X: '2.7' })).toThrow(/SENAITE_SIM_LAYOUT_2X=2.7/)
  })

  it('site.layout is the family; site.siteLayout the layout answered as', () => {
    for (const [option, family, name] of [['2.x', '2.x', '2.x-legacy-kind'], ['1.x', '1.x', '1.x-legacy-kind'], ['2.5', '2.x', '2.5'], ['1.3', '1.x', '1.3']] as const) {
      const sim = createSenaiteSimulator({ layout: option })
      if (process.env.SENAITE_SIM_LAYOUT_2X !== undefined || process.env.SENAITE_SIM_LAYOUT_1X !== undefined) continue
      expect(sim.site.layout).toBe(family)
      expect(sim.site.siteLayout).toBe(name)
    }
  })

  it('the legacy kind layout keeps its kind answers (an unknown resource at HTTP 200, a failed create removed)', async () => {
    if (process.env.SENAITE_SIM_LAYOUT_2X !== undefined) return
    const sim = createSenaiteSimulator({ layout: '2.x' })
    expect(await get(sim, 'nosuchtype')).toMatchObject({ status: 200, json: { success: false } })
    const dict = { filename: 'a.txt', content_type: 'text/plain', data: 'aGVsbG8=' }
    const client = (await post(sim, `client/create/${uidAt(sim, 'clients')}`, { title: 'A' })).json.items[0].uid as string
    expect((await post(sim, `attachment/create/${client}`, { AttachmentFile: dict })).json.items[0].AttachmentFile).toMatchObject({ filename: 'a.txt' })
    expect(sim.site.atPath('/senaite/setup/departments')).toBeDefined() // its 2.x is a 2.6-shaped world
  })
})
