import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import { collectField, describeResolution, resolveBody } from '../../agent/cli/resolve.js'

describe('labmesh resolve options', () => {
  it('turn into the request body', () => {
    expect(resolveBody({ pick: 'remote' })).toEqual({ pick: 'remote' })
    expect(resolveBody({ merge: 'auto' })).toEqual({ merge: 'auto' })
    expect(resolveBody({ merge: 'auto', field: ['result=remote'] })).toEqual({ merge: 'auto', fields: { result: 'remote' } })
    const fields = ['data.analyses[keyword=Ca].result=base', 'remarks=local'].reduce<string[]>((all, f) => collectField(f, all), [])
    expect(resolveBody({ field: fields })).toEqual({ fields: { 'data.analyses[keyword=Ca].result': 'base', remarks: 'local' } })
  })

  it('refuse what they cannot mean, saying how to write it', () => {
    for (const opts of [{}, { pick: 'sideways' }, { pick: 'local', merge: 'auto' }, { pick: 'local', field: ['a=local'] }, { merge: 'manual' }, { field: ['result'] }, { field: ['=local'] }, { field: ['result=theirs'] }]) {
      expect(() => resolveBody(opts), JSON.stringify(opts)).toThrow(InvalidArgumentError)
    }
    expect(() => resolveBody({ field: ['result=theirs'] })).toThrow('--field result=theirs: write NAME=local, NAME=remote or NAME=base')
  })

  it('print what was done', () => {
    expect(describeResolution('s-1', { pick: 'local' }, { a: 2 })).toBe('resolved s-1 (local); new version {"a":2} replicates to every agent')
    expect(describeResolution('s-1', { merge: 'auto', fields: { result: 'remote' } }, { a: 2 })).toBe('resolved s-1 (merge auto, result=remote); new version {"a":2} replicates to every agent')
  })
})
