/**
 * Config files changed by labmesh: a peer entry spliced into the admin's YAML
 * with every other byte kept (block lists, flow `[]`, `~`, a missing key,
 * CRLF), validated before it is written and written atomically; and what a
 * reload may change: restart-only keys named with both values, peers added,
 * removed and changed.
 */
import { readdir, readFile, stat, writeFile, chmod } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { addPeerToConfigText, commitConfigEdit, prepareConfigEdit } from '../../config/edit-peers.js'
import { ConfigError } from '../../config/errors.js'
import { liveChanges, nothingChanged } from '../../config/live-changes.js'
import { parseConfigText } from '../../config/load.js'
import { keepsEveryLine } from '../helpers/config-files.js'
import { makeTempDir, removeDir } from '../helpers/nodes.js'

const PEER_B = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'
const PEER_C = '12D3KooWRBy97UB99e3J6hiPesre1MZeuNQvfan4gBziswrRJsNK'
const entry = { name: 'lab-b', peerId: PEER_B, addrs: ['/ip4/10.0.0.6/tcp/4101'], pull: true }
const NOTE = 'added by labmesh join on 2026-11-25T10:00:00.000Z (lab-b)'

const HEAD = `# the admin's own words
domain: lab-a     # aligned
dataDir: ./data   # comments
`

describe('adding a peer to the admin\'s YAML', () => {
  it('appends to a block list, indented like it, keeping every byte around it', () => {
    const text = `${HEAD}peers:
    - name: lab-c     # the master
      peerId: ${PEER_C}
      addrs: [/ip4/10.0.0.7/tcp/4100]
    # more to come
log: { level: info }  # quiet
`
    const out = addPeerToConfigText(text, entry, NOTE)
    expect(keepsEveryLine(text, out)).toBe(true)
    expect(out).toContain(`      addrs: [/ip4/10.0.0.7/tcp/4100]\n    # ${NOTE}\n    - name: lab-b\n      peerId: ${PEER_B}\n      addrs: [/ip4/10.0.0.6/tcp/4101]\n      pull: true\n    # more to come`)
    expect(parseConfigText(out, undefined).peers.map((p) => [p.name, p.pull])).toEqual([['lab-c', false], ['lab-b', true]])
  })

  it('turns `peers: []`, `peers: ~`, `peers:` and a missing key into a block list, keeping the line\'s comment', () => {
    const cases: Array<[string, string]> = [
      [`${HEAD}peers: []   # none yet\n# the end\n`, 'peers:   # none yet'],
      [`${HEAD}peers: ~\nlog: {}\n`, 'peers:'],
      [`${HEAD}peers:\n`, 'peers:'],
      [HEAD, 'peers:'],
      [HEAD.trimEnd(), 'peers:']
    ]
    for (const [text, line] of cases) {
      const out = addPeerToConfigText(text, entry, NOTE)
      expect(out, text).toContain(`${line}\n  # ${NOTE}\n  - name: lab-b\n`)
      expect(parseConfigText(out, undefined).peers, text).toMatchObject([{ name: 'lab-b', peerId: PEER_B, addrs: entry.addrs, pull: true }])
      for (const kept of text.split('\n').filter((l) => !l.startsWith('peers'))) expect(out).toContain(kept)
    }
    // a flow list with entries: they become block entries too, the new one last
    const flow = addPeerToConfigText(`${HEAD}peers: [{ name: lab-c, peerId: ${PEER_C} }]\n`, entry, NOTE)
    expect(parseConfigText(flow, undefined).peers.map((p) => p.name)).toEqual(['lab-c', 'lab-b'])
  })

  it('keeps CRLF line ends, and refuses what is not a config it can extend', () => {
    const crlf = `${HEAD}peers: []\n`.replace(/\n/g, '\r\n')
    const out = addPeerToConfigText(crlf, entry, NOTE)
    expect(out.replace(/\r\n/g, '')).not.toContain('\n')
    expect(parseConfigText(out, undefined).peers).toHaveLength(1)
    expect(() => addPeerToConfigText(`${HEAD}peers: lab-c\n`, entry, NOTE)).toThrow(ConfigError)
    expect(() => addPeerToConfigText('- a list\n', entry, NOTE)).toThrow(/top level/)
    expect(() => addPeerToConfigText(`${HEAD}peers: [\n`, entry, NOTE)).toThrow(/\(yaml\)/)
  })
})

describe('writing the edited file', () => {
  let dir: string
  beforeEach(async () => { dir = await makeTempDir('labmesh-edit-') })
  afterEach(async () => { await removeDir(dir) })

  it('validates before writing (nothing written when invalid), writes atomically keeping the mode, refuses a file changed meanwhile', async () => {
    const file = join(dir, 'labmesh.yaml')
    const text = `${HEAD}peers: []\n`
    await writeFile(file, text)
    await chmod(file, 0o640)

    // the same schema as at start: an entry that would be invalid is refused, the file untouched
    await expect(prepareConfigEdit(file, (t) => addPeerToConfigText(t, { ...entry, pull: true, addrs: [] }, NOTE))).rejects.toThrow(/peers\[0\]\.addrs/)
    await expect(prepareConfigEdit(file, (t) => addPeerToConfigText(t, { ...entry, name: 'lab-a' }, NOTE))).rejects.toThrow(/this agent's own domain/)
    expect(await readFile(file, 'utf8')).toBe(text)

    const edit = await prepareConfigEdit(file, (t) => addPeerToConfigText(t, entry, NOTE))
    expect(edit.config.peers).toHaveLength(1)
    expect(await readFile(file, 'utf8')).toBe(text)
    await commitConfigEdit(edit)
    expect(await readFile(file, 'utf8')).toBe(edit.text)
    expect((await stat(file)).mode & 0o777).toBe(0o640)
    expect(await readdir(dir)).toEqual(['labmesh.yaml'])

    const stale = await prepareConfigEdit(file, (t) => addPeerToConfigText(t, { ...entry, name: 'lab-c', peerId: PEER_C }, NOTE))
    await writeFile(file, `${edit.text}# the admin was here\n`)
    await expect(commitConfigEdit(stale)).rejects.toThrow(/changed while labmesh was editing it/)
    expect(await readFile(file, 'utf8')).toBe(`${edit.text}# the admin was here\n`)
  })
})

describe('what a reload may change', () => {
  const base = (extra: string = '', peers: string = ''): string => `domain: lab-a
listen: [/ip4/127.0.0.1/tcp/4101]
${extra}peers:
  - name: lab-b
    peerId: ${PEER_B}
    addrs: [/ip4/10.0.0.6/tcp/4101]
    pull: true
${peers}`
  const load = (text: string) => parseConfigText(text, '/srv/lab-a/labmesh.yaml')
  const changes = (before: string, after: string) => liveChanges(load(before), load(after))

  it('names every key read only at start, with both values', () => {
    const c = changes(base(), base('http: { listen: 127.0.0.1:9000 }\nsync: { batchSize: 10 }\ndataDir: ./elsewhere\n').replace('tcp/4101]', 'tcp/4102]'))
    expect(c.restart.map((i) => i.path)).toEqual(['dataDir', 'listen', 'http.listen', 'sync.batchSize'])
    expect(c.restart.find((i) => i.path === 'http.listen')!.message).toContain('"127.0.0.1:8101" → "127.0.0.1:9000"')
    expect(c.restart[0]!.fix).toContain('restart the agent')
    expect(changes(base(), base('log: { level: debug }\n')).restart.map((i) => i.path)).toEqual(['log.level'])
    expect(changes(base(), base().replace('domain: lab-a', 'domain: lab-z')).restart.map((i) => i.path)).toEqual(['domain'])
    expect(changes(base(), base('localPrefix: A\nprefixSeparator: _\n')).restart).toEqual([])
  })

  it('sorts peers into added, removed and changed; a rename or a new peer ID is a removal and an addition', () => {
    const third = `  - name: lab-c\n    peerId: ${PEER_C}\n`
    expect(changes(base(), base('', third))).toMatchObject({ added: ['lab-c'], removed: [], changed: [], restart: [] })
    expect(changes(base('', third), base())).toMatchObject({ added: [], removed: ['lab-c'], changed: [] })
    expect(changes(base(), base().replace('pull: true', 'pull: true\n    prefix: B\n    types: { prefixable: [Sample] }'))).toMatchObject({ changed: ['lab-b'] })
    expect(changes(base(), base().replace('name: lab-b', 'name: lab-bee'))).toMatchObject({ added: ['lab-bee'], removed: ['lab-b'], changed: [] })
    expect(changes(base(), base().replace(PEER_B, PEER_C))).toMatchObject({ added: ['lab-b'], removed: ['lab-b'] })
    // agent-wide rules change every peer's import rules
    expect(changes(base(), base('localPrefix: A\n'))).toMatchObject({ changed: ['lab-b'], agentRules: true })
    // key order and spelled-out defaults are no change
    expect(nothingChanged(changes(base(), base().replace('pull: true', 'pull: true\n    autoSync: { live: true, interval: 60s }')))).toBe(true)
  })
})
