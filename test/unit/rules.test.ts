import { describe, expect, it } from 'vitest'
import { classifyIncoming } from '../../agent/rules/classify.js'
import { compileInboundRules, decideInbound, inboundRulesHash, isOurs, localId } from '../../agent/rules/inbound.js'
import { readOnlyRuleFor } from '../../agent/rules/read-only.js'
import { compileServeRules, serveExclusion } from '../../agent/rules/serve.js'
import { SPECIAL_TYPES } from '../../agent/rules/types.js'
import { peerSchema } from '../../config/schema.js'
import type { ObjectVersion, WireObject } from '../../protocol/object.js'
import type { StoredObject } from '../../store/types.js'

const PEER_ID = '12D3KooWAcTaJ23seN9VarBkxhFAWZAo4mwwYsMbYCkdWpEu8kj9'

function peer (extra: Record<string, unknown> = {}): ReturnType<typeof peerSchema.parse> {
  return peerSchema.parse({ name: 'master', peerId: PEER_ID, addrs: ['/ip4/127.0.0.1/tcp/1'], ...extra })
}

function rulesFor (extra: Record<string, unknown> = {}, agent: { domain?: string, localPrefix?: string, prefixSeparator?: string } = {}) {
  return compileInboundRules({ domain: agent.domain ?? 'lab-a', localPrefix: agent.localPrefix ?? '', prefixSeparator: agent.prefixSeparator ?? '-' }, peer(extra))
}

function obj (type: string, extra: Partial<ObjectVersion> = {}): WireObject {
  return { uid: `uid-${type}`, type, id: `${type.toLowerCase()}-1`, parent: null, refs: [], data: {}, vector: { master: 1 }, origin: 'master', deleted: false, at: 0, ...extra }
}

function stored (o: ObjectVersion, extra: Partial<StoredObject> = {}): StoredObject {
  return { ...o, seq: 1, conflicts: [], via: 'master', ...extra }
}

describe('types.only and types.skip', () => {
  const cases: Array<[string, Record<string, unknown>, string, boolean, string]> = [
    // [name, peer rules, type, required, expected action / reason]
    ['no filters import everything', {}, 'Calculation', false, 'apply'],
    ['only lists the type', { types: { only: ['Client'] } }, 'Client', false, 'apply'],
    ['only does not list the type', { types: { only: ['Client'] } }, 'Calculation', false, 'not-in-only'],
    ['only does not list it, but it is required', { types: { only: ['Client'] } }, 'Calculation', true, 'apply'],
    ['only: prefixable types count as listed', { prefix: 'M', types: { only: ['Client'], prefixable: ['AnalysisRequest'] } }, 'AnalysisRequest', false, 'apply'],
    ['only: update-only types count as listed', { types: { only: ['Client'], updateOnly: ['Analysis'] } }, 'Analysis', false, 'update-only-foreign'],
    ['only: read-only types count as listed', { types: { only: ['Client'], readOnly: ['Method'] } }, 'Method', false, 'apply'],
    ['skip lists the type', { types: { skip: ['Calculation'] } }, 'Calculation', false, 'skipped-type'],
    ['skip lists it, but it is required', { types: { skip: ['Calculation'] } }, 'Calculation', true, 'apply'],
    ['skip does not list the type', { types: { skip: ['Calculation'] } }, 'Method', false, 'apply'],
    ['only and skip together: skip wins for its types', { types: { only: ['Client', 'Batch'], skip: ['Method'] } }, 'Method', false, 'not-in-only'],
    ['only and skip together: listed and not skipped', { types: { only: ['Client', 'Batch'], skip: ['Method'] } }, 'Batch', false, 'apply']
  ]
  it.each(cases)('%s', (_name, rules, type, required, expected) => {
    const d = decideInbound(rulesFor(rules), obj(type), { required })
    expect(d.action === 'apply' ? 'apply' : d.reason).toBe(expected)
    if (d.action === 'ignore') expect(d.rule).toContain('master')
  })
})

describe('prefix and localPrefix', () => {
  const onMaster = rulesFor({ prefix: 'A', types: { prefixable: ['AnalysisRequest', 'Analysis'] } }, { domain: 'master' })
  const onA = rulesFor({}, { domain: 'lab-a', localPrefix: 'A' })

  it('prefixes ids of prefixable types imported from that peer', () => {
    const sample = obj('AnalysisRequest', { id: 'S-0001', origin: 'lab-a', vector: { 'lab-a': 1 } })
    expect(localId(onMaster, sample)).toBe('A-S-0001')
    expect(localId(onMaster, obj('Client', { id: 'client-1', origin: 'lab-a' }))).toBe('client-1')
  })

  it('round trip: S-0001 on A is A-S-0001 on the master and S-0001 again on A; uid and vector untouched', () => {
    const onLabA = obj('AnalysisRequest', { uid: 'u-s1', id: 'S-0001', origin: 'lab-a', vector: { 'lab-a': 1 } })
    const v1 = classifyIncoming({ rules: onMaster, incoming: onLabA, local: undefined })
    expect(v1).toEqual({ action: 'create', id: 'A-S-0001', idRewritten: true })
    // the master edits it and it goes back to A with the master's id
    const edited = { ...onLabA, id: 'A-S-0001', vector: { 'lab-a': 1, master: 1 } }
    const v2 = classifyIncoming({ rules: onA, incoming: edited, local: stored(onLabA, { via: null }) })
    expect(v2).toEqual({ action: 'update', id: 'S-0001', idRewritten: true })
  })

  it('an object that is ours by origin keeps its id even without our prefix', () => {
    expect(localId(onA, obj('AnalysisRequest', { id: 'S-0002', origin: 'lab-a' }))).toBe('S-0002')
  })

  it('never prefixes twice', () => {
    expect(localId(onMaster, obj('AnalysisRequest', { id: 'A-S-0001', origin: 'lab-a' }))).toBe('A-S-0001')
  })

  it('honours a custom separator', () => {
    const r = rulesFor({ prefix: 'A', types: { prefixable: ['Worksheet'] } }, { domain: 'master', prefixSeparator: '_' })
    expect(localId(r, obj('Worksheet', { id: 'W-0001', origin: 'lab-a' }))).toBe('A_W-0001')
    const back = rulesFor({}, { domain: 'lab-a', localPrefix: 'A', prefixSeparator: '_' })
    expect(localId(back, obj('Worksheet', { id: 'A_W-0001', origin: 'master' }))).toBe('W-0001')
  })
})

describe('types.updateOnly', () => {
  const rules = rulesFor({ types: { updateOnly: ['AnalysisRequest'] } }, { domain: 'lab-a', localPrefix: 'A' })
  it.each([
    ['foreign object (origin elsewhere, no prefix): ignored, never created', obj('AnalysisRequest', { origin: 'lab-b', id: 'B-S-1' }), 'update-only-foreign'],
    ['own object by origin: applied', obj('AnalysisRequest', { origin: 'lab-a', id: 'A-S-1' }), 'apply'],
    ['own object by local prefix (origin unknown to us): applied', obj('AnalysisRequest', { origin: 'legacy', id: 'A-S-1' }), 'apply'],
    ['other types are not affected', obj('Client', { origin: 'lab-b' }), 'apply']
  ])('%s', (_name, incoming, expected) => {
    const d = decideInbound(rules, incoming)
    expect(d.action === 'apply' ? 'apply' : d.reason).toBe(expected)
  })
  it('even a required foreign object is not created', () => {
    expect(decideInbound(rules, obj('AnalysisRequest', { origin: 'lab-b' }), { required: true }).action).toBe('ignore')
  })
  it('isOurs looks at origin and local prefix', () => {
    expect(isOurs(rules, obj('X', { origin: 'lab-a' }))).toBe(true)
    expect(isOurs(rules, obj('X', { id: 'A-x' }))).toBe(true)
    expect(isOurs(rules, obj('X', { id: 'AB-x' }))).toBe(false)
  })
})

describe('types.readOnly', () => {
  const rules = [rulesFor({ types: { readOnly: ['Method', 'Calculation'] } }, { domain: 'lab-a' })]
  it('protects imported objects of read-only types, naming the peer', () => {
    expect(readOnlyRuleFor(rules, { type: 'Method', origin: 'master' })).toEqual({ peer: 'master', type: 'Method' })
  })
  it('does not protect our own objects or other types', () => {
    expect(readOnlyRuleFor(rules, { type: 'Method', origin: 'lab-a' })).toBeUndefined()
    expect(readOnlyRuleFor(rules, { type: 'Client', origin: 'master' })).toBeUndefined()
  })
  it('imports read-only types normally', () => {
    expect(decideInbound(rules[0]!, obj('Method')).action).toBe('apply')
  })
})

describe('users, registry and settings', () => {
  const user = obj(SPECIAL_TYPES.user, { id: 'labman', data: { roles: ['LabManager'], groups: ['Analysts'] } })
  const lims = obj(SPECIAL_TYPES.registry, { id: 'senaite.core.show_partitions' })
  const bika = obj(SPECIAL_TYPES.registry, { id: 'bika.lims.client.sampling_workflow' })
  const plone = obj(SPECIAL_TYPES.registry, { id: 'plone.app.theming.interfaces.IThemeSettings.enabled' })
  const settings = obj(SPECIAL_TYPES.settings, { id: 'mail' })
  it('are not imported by default', () => {
    for (const o of [user, lims, settings]) expect(decideInbound(rulesFor(), o).action).toBe('ignore')
  })
  it('are imported when their flag is on; registry only for bika/senaite keys', () => {
    const r = rulesFor({ import: { users: true, registry: true, settings: true } })
    expect(decideInbound(r, user).action).toBe('apply')
    expect(decideInbound(r, lims).action).toBe('apply')
    expect(decideInbound(r, bika).action).toBe('apply')
    expect(decideInbound(r, plone)).toMatchObject({ action: 'ignore', reason: 'registry-not-imported' })
    expect(decideInbound(r, settings).action).toBe('apply')
  })
  it('are not subject to the type filters, nor waived by them', () => {
    const r = rulesFor({ types: { only: ['Client'] }, import: { users: true } })
    expect(decideInbound(r, user).action).toBe('apply')
    expect(decideInbound(rulesFor({ types: { only: [SPECIAL_TYPES.user] } }), user, { required: true }).action).toBe('ignore')
  })
})

describe('tombstones under each rule', () => {
  const tomb = (type: string, extra: Partial<ObjectVersion> = {}): WireObject => obj(type, { deleted: true, vector: { master: 2 }, data: {}, ...extra })
  it.each([
    ['skipped type: ignored like any version of it', { types: { skip: ['Method'] } }, tomb('Method'), 'skipped-type'],
    ['not in only: ignored', { types: { only: ['Client'] } }, tomb('Method'), 'not-in-only'],
    ['update-only, foreign: ignored', { types: { updateOnly: ['AnalysisRequest'] } }, tomb('AnalysisRequest', { origin: 'lab-b' }), 'update-only-foreign'],
    ['update-only, own: applied', { types: { updateOnly: ['AnalysisRequest'] } }, tomb('AnalysisRequest', { origin: 'lab-a' }), 'apply'],
    ['read-only: applied', { types: { readOnly: ['Method'] } }, tomb('Method'), 'apply'],
    ['prefixable: applied', { prefix: 'M', types: { prefixable: ['Method'] } }, tomb('Method'), 'apply']
  ])('%s', (_name, rules, incoming, expected) => {
    const d = decideInbound(rulesFor(rules), incoming)
    expect(d.action === 'apply' ? 'apply' : d.reason).toBe(expected)
  })
  it('a tombstone needs no dependencies', () => {
    const t = tomb('Analysis', { parent: 'gone', refs: ['also-gone'] })
    expect(classifyIncoming({ rules: rulesFor(), incoming: t, local: undefined, unavailable: new Set(['gone', 'also-gone']) }).action).toBe('create')
  })
  it('a tombstone of a held object is an update; a stale one changes nothing', () => {
    const live = obj('Client', { vector: { master: 1 } })
    expect(classifyIncoming({ rules: rulesFor(), incoming: tomb('Client'), local: stored(live) }).action).toBe('update')
    expect(classifyIncoming({ rules: rulesFor(), incoming: obj('Client', { vector: { master: 1 } }), local: stored(tomb('Client')) }).action).toBe('unchanged')
  })
})

describe('classification', () => {
  const rules = rulesFor()
  it('needs dependencies when a parent or ref cannot be had', () => {
    const analysis = obj('Analysis', { parent: 'sample-9', refs: ['service-1'] })
    expect(classifyIncoming({ rules, incoming: analysis, local: undefined, unavailable: new Set(['service-1']) }))
      .toEqual({ action: 'needs-dependencies', missing: ['service-1'] })
  })
  it('flags a concurrent version as a conflict', () => {
    const local = stored(obj('Client', { vector: { master: 1, 'lab-a': 1 } }))
    expect(classifyIncoming({ rules, incoming: obj('Client', { vector: { master: 2 } }), local })).toEqual({ action: 'conflict', siblings: 1 })
  })
  it('a sender\'s siblings make a conflict here too', () => {
    const incoming: WireObject = { ...obj('Client', { vector: { master: 2 } }), conflicts: [obj('Client', { vector: { master: 1, 'lab-b': 1 } })] }
    expect(classifyIncoming({ rules, incoming, local: undefined })).toMatchObject({ action: 'create' })
    expect(classifyIncoming({ rules, incoming, local: stored(obj('Client', { vector: { master: 2 } })) })).toEqual({ action: 'conflict', siblings: 1 })
  })
})

describe('serve rules', () => {
  const serve = (s: Record<string, unknown>) => compileServeRules(peer({ serve: s }))
  it.each([
    ['default serves everything', {}, obj('Calculation'), undefined],
    ['only excludes unlisted types', { types: { only: ['Client'] } }, obj('Calculation'), 'not-in-only'],
    ['only serves listed types', { types: { only: ['Client'] } }, obj('Client'), undefined],
    ['skip excludes', { types: { skip: ['Client'] } }, obj('Client'), 'skipped-type'],
    ['users can be withheld', { users: false }, obj(SPECIAL_TYPES.user), 'users-not-served'],
    ['registry can be withheld', { registry: false }, obj(SPECIAL_TYPES.registry), 'registry-not-served'],
    ['settings can be withheld', { settings: false }, obj(SPECIAL_TYPES.settings), 'settings-not-served'],
    ['type filters do not apply to users', { types: { only: ['Client'] } }, obj(SPECIAL_TYPES.user), undefined]
  ])('%s', (_name, rules, o, expected) => {
    expect(serveExclusion(serve(rules), o)).toBe(expected)
  })
})

describe('rules hash', () => {
  it('is stable and changes with any rule that decides what is imported', () => {
    const base = inboundRulesHash(rulesFor())
    expect(inboundRulesHash(rulesFor())).toBe(base)
    expect(inboundRulesHash(rulesFor({ types: { skip: ['X'] } }))).not.toBe(base)
    expect(inboundRulesHash(rulesFor({ import: { users: true } }))).not.toBe(base)
    expect(inboundRulesHash(rulesFor({}, { localPrefix: 'A' }))).not.toBe(base)
    // list order does not matter
    expect(inboundRulesHash(rulesFor({ types: { skip: ['X', 'Y'] } }))).toBe(inboundRulesHash(rulesFor({ types: { skip: ['Y', 'X'] } })))
    // the sync interval is not an import rule
    expect(inboundRulesHash(rulesFor({ autoSync: { interval: '5m' } }))).toBe(base)
  })
})
