/**
 * The SENAITE connector's pure pieces beside convert.ts: what a write sends
 * (payload.ts: base64 files, Dexterity names and form-posted references,
 * title first), the AT ↔ DX field names (field-names.ts), what a new object
 * waits for (dependencies.ts), the write order (agent/rules/write-order.ts),
 * the layout check (layouts.ts), and how a leftover is recognised
 * (leftovers.ts markerOf).
 */
import { describe, expect, it } from 'vitest'
import { requiredOf } from '../../agent/connectors/senaite/dependencies.js'
import { atName, dexterityField, unreadableOnDexterity } from '../../agent/connectors/senaite/field-names.js'
import { checkLayout, type DetectedSite } from '../../agent/connectors/senaite/layouts.js'
import { markerOf } from '../../agent/connectors/senaite/leftovers.js'
import { sitePayload } from '../../agent/connectors/senaite/payload.js'
import { writeLevels } from '../../agent/rules/write-order.js'
import type { ObjectVersion } from '../../protocol/object.js'

const U = (n: number): string => n.toString(16).padStart(32, 'a')
const FILE = { filename: 'sop.pdf', content_type: 'application/pdf', data: 'JVBERi0xLjQK' }

describe('payload for the site', () => {
  it('a file field is the base64 string itself, filename and mimetype beside it; a second file goes in a record of its own', () => {
    const p = sitePayload('Method', { MethodDocument: FILE, title: 'ICP', Other: { ...FILE, filename: 'b.pdf' } }, false)
    expect(p.body).toEqual({ title: 'ICP', MethodDocument: FILE.data, filename: 'sop.pdf', mimetype: 'application/pdf' })
    expect(p.files).toEqual([{ Other: FILE.data, filename: 'b.pdf', mimetype: 'application/pdf' }])
    expect(Object.keys(p.body)[0]).toBe('title')
  })

  it('on a Dexterity type: DX names, references out of the JSON body into a form post of name:list', () => {
    const p = sitePayload('Department', { Manager: U(1), DepartmentID: 'CH', title: 'Chemistry' }, true)
    expect(p.body).toEqual({ title: 'Chemistry', department_id: 'CH' })
    expect(p.formRefs).toEqual([['manager', [U(1)]]])
    expect(p.uncleared).toEqual([])
    // an emptied DX reference cannot be posted: it is reported
    expect(sitePayload('AnalysisCategory', { Department: [] }, true).uncleared).toEqual(['Department'])
    // the same fields on an AT site go as they are
    expect(sitePayload('Department', { Manager: U(1), DepartmentID: 'CH' }, false).body).toEqual({ Manager: U(1), DepartmentID: 'CH' })
  })

  it('field names map both ways; a DX multi-valued reference is written but never read back', () => {
    expect(dexterityField('SampleType', 'MinimumVolume')).toEqual({ name: 'min_volume' })
    expect(dexterityField('SampleType', 'SampleMatrix')).toEqual({ name: 'sample_matrix', reference: 'single' })
    expect(dexterityField('Client', 'ClientID')).toBeUndefined()
    expect(atName('SampleType', 'min_volume')).toBe('MinimumVolume')
    expect(atName('SampleType', 'title')).toBe('title')
    expect(unreadableOnDexterity('SamplePoint')).toEqual(['SampleTypes'])
  })
})

const v = (uid: string, type: string, extra: Partial<ObjectVersion> = {}): ObjectVersion => ({ uid, type, id: uid, parent: null, refs: [], data: {}, vector: { a: 1 }, origin: 'a', deleted: false, at: 0, ...extra })

describe('what a new object waits for, and the order a batch is written in', () => {
  const sample = v('s', 'AnalysisRequest', { parent: 'c', refs: ['ct', 'st', 'b'], data: { Contact: 'ct', SampleType: 'st', Batch: 'b' } })

  it('a sample needs its client, contact and sample type — not its batch', () => {
    expect(requiredOf(sample).sort()).toEqual(['c', 'ct', 'st'])
    expect(requiredOf(v('x', 'Method', { refs: ['calc'], data: { Calculation: 'calc' } }))).toEqual([])
    expect(requiredOf(v('w', 'Worksheet', { refs: ['a1', 'a2'], data: { Analyses: ['a1', 'a2'] } }))).toEqual(['a1', 'a2'])
  })

  it('levels: dependencies first; a cycle broken on soft references only; hard ones always respected', () => {
    const lc = v('lc', 'LabContact', { refs: ['dep'], data: { Departments: ['dep'] } })
    const dep = v('dep', 'Department', { refs: ['lc'], data: { Manager: 'lc' } })
    const st = v('st', 'SampleType')
    const hard = (x: ObjectVersion): string[] => requiredOf(x)
    // the department cannot be made without its manager: the lab contact goes first, its Departments patched later
    expect(writeLevels([dep, lc], hard)).toEqual([[1], [0]])
    expect(writeLevels([sample, st, v('c', 'Client'), v('ct', 'Contact', { parent: 'c' })], hard)).toEqual([[1, 2], [3], [0]])
    // a cycle is broken where it is: what waits on it still waits
    const a = v('a', 'Method', { refs: ['b'] })
    const b = v('b', 'Calculation', { refs: ['a'] })
    const c = v('c', 'AnalysisService', { refs: ['a'] })
    expect(writeLevels([c, a, b, v('d', 'Client')])).toEqual([[3], [1, 2], [0]])
    // hard dependencies that are not references (a sample's analyses' services) order too
    expect(writeLevels([v('s2', 'AnalysisRequest'), v('svc', 'AnalysisService')], (x) => x.uid === 's2' ? ['svc'] : [])).toEqual([[1], [0]])
  })
})

describe('layout check', () => {
  const site = (layout: DetectedSite['layout']): DetectedSite => ({ layout, jsonapi: layout === '1.3' ? '1.2.4' : '2.5.0', departments: undefined })
  it('auto and the matching family or layout pass; anything else is refused, saying what the site is', () => {
    expect(checkLayout('auto', site('2.5'), 'u')).toBe('2.5')
    expect(checkLayout('2.x', site('2.6'), 'u')).toBe('2.6')
    expect(checkLayout('1.x', site('1.3'), 'u')).toBe('1.3')
    expect(checkLayout('2.0-2.4', site('2.0-2.4'), 'u')).toBe('2.0-2.4')
    expect(() => checkLayout('1.x', site('2.5'), 'https://lims/senaite')).toThrow(/instance.layout is 1.x, but the site at https:\/\/lims\/senaite answers as a SENAITE 2.5 site \(senaite.jsonapi 2.5.0\): set instance.layout to 2.5 \(or auto\)/)
    expect(() => checkLayout('2.x', site('1.3'), 'u')).toThrow(/answers as a SENAITE 1.3 site/)
    expect(() => checkLayout('2.6', site('2.5'), 'u')).toThrow(/set instance.layout to 2.5/)
  })
})

describe('what identifies a create', () => {
  it('scalar fields, title first, no UIDs, no long texts; a person\'s title is computed and left out', () => {
    expect(markerOf({ Keyword: 'Ca', title: 'Calcium', Category: U(3), Unit: 'mg/l', Notes: 'x'.repeat(300), Price: 15 }, 'AnalysisService')).toEqual({ title: 'Calcium', Keyword: 'Ca', Unit: 'mg/l', Price: 15 })
    expect(Object.keys(markerOf({ Keyword: 'Ca', title: 'Calcium' }, 'AnalysisService'))[0]).toBe('title')
    expect(markerOf({ title: 'Pat Doe', Firstname: 'Pat', Surname: 'Doe' }, 'Contact')).toEqual({ Firstname: 'Pat', Surname: 'Doe' })
  })
})
