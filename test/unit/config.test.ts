import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../config/errors.js'
import { loadConfigFile, parseConfigText } from '../../config/load.js'

const PEER_A = '12D3KooWAcTaJ23seN9VarBkxhFAWZAo4mwwYsMbYCkdWpEu8kj9'
const PEER_B = '12D3KooWNU2E8j3Wpi2JsXAH6RdWDfvZ5nQTtk9PSGfrakSpdpaL'

function issuesOf (text: string): Array<{ path: string, message: string, fix: string }> {
  try {
    parseConfigText(text, '/etc/labmesh/lab-a.yaml')
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError)
    return [...(err as ConfigError).issues]
  }
  throw new Error('expected a ConfigError')
}

describe('config loading', () => {
  it('accepts the documented shape and fills defaults', () => {
    const config = parseConfigText(`
domain: lab-a
dataDir: ./data
listen: [/ip4/127.0.0.1/tcp/4101]
http: { listen: 127.0.0.1:8101 }
instance: { kind: embedded }
localPrefix: ""
peers:
  - name: master
    peerId: ${PEER_A}
    addrs: [/ip4/127.0.0.1/tcp/4100]
    pull: true
    autoSync: { interval: 60s, live: true }
    prefix: ""
    types: { only: [], skip: [], prefixable: [], readOnly: [], updateOnly: [] }
    import: { users: false, registry: false, settings: false }
`, '/etc/labmesh/lab-a.yaml')
    expect(config.domain).toBe('lab-a')
    expect(config.paths.dataDir).toBe('/etc/labmesh/data')
    expect(config.paths.keyFile).toBe('/etc/labmesh/data/identity.key')
    expect(config.peers[0]!.autoSync.interval).toBe(60_000)
    expect(config.peers[0]!.serve.types.only).toEqual([])
    expect(config.sync.batchSize).toBe(500)
    expect(config.history.versions).toBe(20)
    expect(config.provenance.requireSigned).toBe(false)
    expect(Object.isFrozen(config.peers[0])).toBe(true)
  })

  it('reports all three mistakes of a config, each by field with a fix', () => {
    const issues = issuesOf(`
domain: lab-a
listen: [not-a-multiaddr]
http: { listen: localhost }
peers:
  - name: master
    peerId: 12D3KooWnotreally
    addrs: [/ip4/127.0.0.1/tcp/4100]
`)
    expect(issues.map((i) => i.path).sort()).toEqual(['http.listen', 'listen[0]', 'peers[0].peerId'])
    for (const issue of issues) expect(issue.fix.length).toBeGreaterThan(10)
    expect(issues.find((i) => i.path === 'peers[0].peerId')!.fix).toContain('labmesh id')
  })

  it('validates the history retention and the provenance switch', () => {
    const paths = (extra: string): string[] => issuesOf(`domain: lab-a\n${extra}\n`).map((i) => `${i.path}: ${i.message}`)
    expect(paths('history: { versions: -1 }')).toEqual([expect.stringMatching(/^history\.versions: /)])
    expect(paths('history: { versions: 1001 }')).toEqual([expect.stringMatching(/^history\.versions: .*1000/)])
    expect(paths('history: { versions: 2.5 }')).toEqual([expect.stringMatching(/^history\.versions: /)])
    expect(paths('history: { keep: 3 }')).toEqual(['history: unknown key "keep"'])
    expect(paths('provenance: { requireSigned: "yes" }')).toEqual([expect.stringMatching(/^provenance\.requireSigned: /)])
    const config = parseConfigText('domain: lab-a\nhistory: { versions: 0 }\nprovenance: { requireSigned: true }\n', '/etc/labmesh/lab-a.yaml')
    expect([config.history.versions, config.provenance.requireSigned]).toEqual([0, true])
  })

  it('names unknown keys (misspellings) instead of ignoring them', () => {
    const issues = issuesOf(`
domain: lab-a
peers:
  - name: m
    peerId: ${PEER_A}
    addrs: [/ip4/127.0.0.1/tcp/1]
    pul: true
`)
    expect(issues).toEqual([expect.objectContaining({ path: 'peers[0]', message: 'unknown key "pul"' })])
  })

  it('reports duplicate peer names and IDs, wrong types and contradicting rules', () => {
    const issues = issuesOf(`
domain: lab-a
localPrefix: A
peers:
  - { name: m, peerId: ${PEER_A}, addrs: [/ip4/127.0.0.1/tcp/1], pull: yes-please }
  - { name: m, peerId: ${PEER_A}, prefix: A, types: { only: [Client], skip: [Client], readOnly: [Method], updateOnly: [Method] } }
  - { name: lab-a, peerId: ${PEER_B}, pull: true }
`)
    const paths = issues.map((i) => i.path)
    expect(paths).toEqual(expect.arrayContaining([
      'peers[0].pull', 'peers[1].name', 'peers[1].peerId', 'peers[1].types.skip', 'peers[1].types.updateOnly',
      'peers[1].types.prefixable', 'peers[1].prefix', 'peers[2].name', 'peers[2].addrs'
    ]))
    expect(issues.find((i) => i.path === 'peers[0].pull')!.message).toContain('expected boolean')
  })

  it('limits lab prefixes to a short code, naming the field', () => {
    const long = 'L'.repeat(65)
    const issues = issuesOf(`
domain: lab-a
localPrefix: ${long}
peers:
  - { name: m, peerId: ${PEER_A}, prefix: ${long}, types: { prefixable: [Sample] } }
`)
    expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(['localPrefix', 'peers[0].prefix']))
    expect(issues.find((i) => i.path === 'peers[0].prefix')!.message).toContain('at most 64 characters')
  })

  it('reports YAML syntax errors and unreadable files', async () => {
    expect(issuesOf('domain: [unclosed\n')[0]!.path).toBe('(yaml)')
    const dir = await mkdtemp(join(tmpdir(), 'labmesh-cfg-'))
    await expect(loadConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(/labmesh init/)
    await writeFile(join(dir, 'empty.yaml'), '')
    await expect(loadConfigFile(join(dir, 'empty.yaml'))).rejects.toThrow(/domain: is required/)
  })
})
