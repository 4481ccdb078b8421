import { readFile } from 'node:fs/promises'
import { readdir } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { parseConfigText } from '../../config/load.js'
import { EXAMPLES_DIR, exampleFiles, instantiateExample } from '../helpers/examples.js'
import { adminRequest } from '../helpers/admin.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { clientDocs } from '../helpers/documents.js'
import { waitFor } from '../helpers/nodes.js'

const COLLABORATORS = ['lab-a', 'lab-b', 'lab-c', 'lab-d'] as const

describe('example configs', () => {
  const frame = useTestMesh([])

  async function startExample (topology: string): Promise<Map<string, Agent>> {
    const { configs } = await instantiateExample(topology, frame.root)
    return new Map(await Promise.all(Object.values(configs).map(async (c) => [c.domain, await frame.start(c)] as const)))
  }
  const idOn = async (agent: Agent, uid: string): Promise<string | undefined> => (await agent.documents.get(uid))?.id

  it('every example file is a valid config', async () => {
    const topologies = (await readdir(EXAMPLES_DIR, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name)
    expect(topologies.sort()).toEqual(['advanced-1', 'advanced-2', 'backup', 'bidirectional', 'four-labs-master', 'migration'])
    for (const topology of topologies) {
      for (const file of await exampleFiles(topology)) parseConfigText(await readFile(file, 'utf8'), file)
    }
  })

  it('four labs through one master: a change anywhere reaches everyone', async () => {
    const mesh = await startExample('four-labs-master')
    await mesh.get('lab-a')!.documents.put({ uid: 'dept-1', type: 'Department', id: 'department-1', data: { title: 'Chemistry' } })
    await mesh.get('lab-d')!.documents.put({ uid: 'client-9', type: 'Client', id: 'client-9', data: { name: 'Dairy Co' } })
    await waitFor(async () => {
      for (const agent of mesh.values()) if ((await agent.documents.get('dept-1')) === undefined || (await agent.documents.get('client-9')) === undefined) return false
      return true
    }, { what: 'both objects on all five agents' })
    await mesh.get('lab-c')!.documents.put({ uid: 'dept-1', type: 'Department', id: 'department-1', data: { title: 'Chemistry & Physics' } })
    await waitFor(async () => (await mesh.get('lab-a')!.documents.get('dept-1'))?.data.title === 'Chemistry & Physics', { what: 'edit from lab-c on lab-a' })
  })

  it('advanced example 1: prefixed on the master, updated back only at the origin', async () => {
    const mesh = await startExample('advanced-1')
    const [m, a, b] = [mesh.get('master')!, mesh.get('lab-a')!, mesh.get('lab-b')!]
    await a.documents.putMany([
      { uid: 'client-a', type: 'Client', id: 'client-1', data: { name: 'Happy Hills' } },
      { uid: 'sample-a', type: 'AnalysisRequest', id: 'S-0001', parent: 'client-a', data: { state: 'sample_received' } },
      { uid: 'analysis-a', type: 'Analysis', id: 'Ca', parent: 'sample-a', data: { result: null } }
    ])
    await b.documents.putMany([{ uid: 'sample-b', type: 'AnalysisRequest', id: 'S-0001', parent: null, data: {} }])
    await waitFor(async () => (await idOn(m, 'analysis-a')) !== undefined && (await idOn(m, 'sample-b')) !== undefined, { what: 'samples on the master' })
    expect(await idOn(m, 'sample-a')).toBe('A-S-0001')
    expect(await idOn(m, 'analysis-a')).toBe('A-Ca')
    expect(await idOn(m, 'sample-b')).toBe('B-S-0001')
    expect(await idOn(m, 'client-a')).toBe('client-1') // not prefixable

    // the master reports a result: it goes back to lab-a only, with lab-a's own ids
    await m.documents.put({ uid: 'analysis-a', type: 'Analysis', id: 'A-Ca', parent: 'sample-a', data: { result: 42 } })
    await waitFor(async () => (await a.documents.get('analysis-a'))?.data.result === 42, { what: 'result back at lab-a' })
    expect(await idOn(a, 'analysis-a')).toBe('Ca')
    expect(await idOn(a, 'sample-a')).toBe('S-0001')
    // shared types reach every collaborator; other labs' samples never do
    await waitFor(async () => (await idOn(mesh.get('lab-d')!, 'client-a')) === 'client-1', { what: 'client shared with lab-d' })
    for (const other of ['lab-b', 'lab-c', 'lab-d']) {
      expect(await mesh.get(other)!.documents.get('sample-a'), other).toBeUndefined()
      expect(await mesh.get(other)!.documents.get('analysis-a'), other).toBeUndefined()
    }
    expect(await a.documents.get('sample-b')).toBeUndefined()
  })

  it('advanced example 2: master-owned types are skipped from collaborators and read-only on them', async () => {
    const mesh = await startExample('advanced-2')
    const [m, a, c] = [mesh.get('master')!, mesh.get('lab-a')!, mesh.get('lab-c')!]
    await m.documents.put({ uid: 'method-1', type: 'Method', id: 'method-1', data: { title: 'ICP-MS' } })
    await waitFor(async () => {
      for (const lab of COLLABORATORS) if ((await mesh.get(lab)!.documents.get('method-1')) === undefined) return false
      return true
    }, { what: 'method on every collaborator' })

    // a collaborator cannot edit it: the document API refuses, naming type, peer and rule
    const response = await adminRequest(a, 'PUT', '/api/objects/method-1', { body: { type: 'Method', id: 'method-1', data: { title: 'changed on lab-a' } } })
    expect(response.status).toBe(403)
    const body = await response.json() as { error: string, message: string }
    expect(body.error).toBe('RULE_VIOLATION')
    expect(body.message).toContain('Method')
    expect(body.message).toContain('master')
    expect(body.message).toContain('types.readOnly')
    expect((await a.documents.get('method-1'))!.data.title).toBe('ICP-MS')

    // a method created on a collaborator is its own to edit, and the master skips it
    await c.documents.put({ uid: 'method-c', type: 'Method', id: 'method-c', data: { title: 'local method' } })
    await c.documents.put({ uid: 'client-c', type: 'Client', id: 'client-c', data: {} })
    await waitFor(async () => (await m.documents.get('client-c')) !== undefined, { what: 'client-c on the master' })
    expect(await m.documents.get('method-c')).toBeUndefined()
  })

  it('migration and back-up: one way only', async () => {
    const mesh = await startExample('migration')
    const [oldA, newA] = [mesh.get('old')!, mesh.get('new')!]
    await oldA.documents.putMany(clientDocs(300))
    // autoSync is off in the migration example: "Get updates" by hand
    await waitFor(async () => { await newA.syncNow('old'); return newA.status().objects === 300 }, { what: 'migrated' })
    await newA.documents.put({ uid: 'o-1', type: 'Client', id: 'c-1', data: { edited: 'on new' } })
    await new Promise((r) => setTimeout(r, 300))
    expect((await oldA.documents.get('o-1'))!.data).toEqual({ i: 1 })

    const backupMesh = await startExample('backup')
    const [lab, backup] = [backupMesh.get('lab-a')!, backupMesh.get('master')!]
    await lab.documents.put({ uid: 'sample-1', type: 'AnalysisRequest', id: 'W-1', data: { v: 1 } })
    await waitFor(async () => (await backup.documents.get('sample-1'))?.data.v === 1, { what: 'live back-up' })
    await backup.documents.put({ uid: 'sample-1', type: 'AnalysisRequest', id: 'W-1', data: { v: 'edited on the back-up' } })
    await new Promise((r) => setTimeout(r, 300))
    expect((await lab.documents.get('sample-1'))!.data).toEqual({ v: 1 })
  })
})
