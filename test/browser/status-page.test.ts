/**
 * The status page in a real browser (Debian's Chromium driven by
 * playwright-core): a two-agent mesh, a 20,000-object initial pull watched
 * to 100 % (with percent and ETA on the way), a conflict resolved with a
 * click and gone on both agents, a parked object retried from the page, an
 * echo loop shown and released, the failed queue grouped by reason with a
 * group retried, and a file being fetched shown with its bytes, percent and
 * ETA; an invite code made with a click on one agent's page and pasted into
 * the other's joins them.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Agent } from '../../agent/agent.js'
import { agentInternals } from '../../agent/test-hooks.js'
import { writeDocument } from '../../agent/apply/local-writes.js'
import { createLevelStore } from '../../store/level-store.js'
import { useTestMesh } from '../helpers/lifecycle.js'
import { meshConfig, waitFor } from '../helpers/nodes.js'
import { writeCommentedConfig } from '../helpers/config-files.js'
import { loadConfigFile } from '../../config/load.js'
import { seedStore } from '../helpers/processes.js'
import { blobRef, putBlob, seededBytes } from '../helpers/blobs.js'
import { dateFormat, labDocument, startEchoPair } from '../helpers/echo.js'

const CHROMIUM = '/usr/bin/chromium'
const OBJECTS = 20_000

/** every test's own nodes: no name is used by two tests (checked below) */
const NODES = {
  sync: ['lab-sync-a', 'lab-sync-b'],
  merge: ['lab-merge-i', 'lab-merge-j'],
  token: ['lab-token-c', 'lab-token-d'],
  blob: ['lab-blob-k', 'lab-blob-l'],
  invite: ['lab-invite-e', 'lab-invite-f'],
  echo: ['lab-echo-g', 'lab-echo-h']
} as const
if (new Set(Object.values(NODES).flat()).size !== Object.values(NODES).flat().length) throw new Error('two browser tests share a node name')

describe('status page in Chromium', () => {
  // Each test has nodes of its own, named after it, and a fresh set of them
  // (directories, ports, keys) with its agents stopped after it: no test can
  // reach, restart or be slowed by another's agents (the 20,000-object pair
  // of the first would otherwise keep running through every later test).
  const mesh = useTestMesh(Object.values(NODES).flat(), { prefix: 'labmesh-browser-' })
  let browser: Browser

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']
    })
  })
  afterAll(async () => {
    await browser?.close()
  })

  const open = async (agent: Agent): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    await page.goto(`${agent.httpUrl!}/#token=${agentInternals(agent).token}`)
    return page
  }

  it('shows peers, a live initial-sync progress bar reaching 100 %, and resolves a conflict with a click', async () => {
    const A = mesh.node('lab-sync-a')
    const B = mesh.node('lab-sync-b')
    const pad = 'Sample received in good condition; stored at 4 °C. '.repeat(12)
    await seedStore(A, (function * () {
      for (let i = 0; i < OBJECTS; i++) yield { uid: `s-${String(i).padStart(6, '0')}`, type: 'AnalysisRequest', id: `W-${String(i).padStart(5, '0')}`, data: { ClientSampleID: `CS-${i}`, Remarks: pad } }
    })())
    const aConfig = meshConfig(A, [{ node: B, pull: true }], { sync: { batchSize: 250, window: 1000 } })
    // B first, while A is down: the page is open before the pull begins
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }], { sync: { batchSize: 250, window: 1000 } }))
    const pageB = await open(b)
    await pageB.waitForSelector('[data-testid="peer-lab-sync-a"][data-connected="false"]')
    await pageB.evaluate(() => {
      const seen: number[] = []
      ;(window as unknown as { seen: number[] }).seen = seen
      const record = (): void => {
        const bar = document.querySelector('[data-testid="progress-lab-sync-a"]') as HTMLProgressElement | null
        if (bar !== null && (seen.length === 0 || seen[seen.length - 1] !== bar.value)) seen.push(bar.value)
      }
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true })
    })

    let a = await mesh.start(aConfig)
    await pageB.waitForSelector('[data-testid="peer-lab-sync-a"][data-connected="true"]', { timeout: 30_000 })
    // during the pull the row says how far, how many and how long to go
    await pageB.waitForFunction(() => /^\d+\.\d % · [\d,]+ \/ 20,000 · ETA \d+/.test(document.querySelector('[data-testid="progress-text-lab-sync-a"]')?.textContent ?? ''), undefined, { timeout: 30_000 })
    await mkdir('test-results', { recursive: true })
    await pageB.screenshot({ path: 'test-results/status-page-pulling.png' })
    await pageB.waitForFunction(() => document.querySelector('[data-testid="progress-text-lab-sync-a"]')?.textContent === 'up to date', undefined, { timeout: 60_000 })
    const seen = await pageB.evaluate(() => (window as unknown as { seen: number[] }).seen)
    expect(seen[seen.length - 1]).toBe(100)
    expect(seen.some((v) => v > 0 && v < 100), `progress values seen: ${seen.join(', ')}`).toBe(true)
    // never backwards during one pull
    const during = seen.slice(seen.findIndex((v) => v > 0))
    expect(during).toEqual([...during].sort((x, y) => x - y))
    expect(b.status().objects).toBe(OBJECTS)

    // both sides see each other connected
    const pageA = await open(a)
    await pageA.waitForSelector('[data-testid="peer-lab-sync-b"][data-connected="true"]')

    // a conflict: A goes down, both sides edit the same sample, A comes back
    await a.documents.put({ uid: 's-000042', type: 'AnalysisRequest', id: 'W-00042', data: { ClientSampleID: 'CS-42', Remarks: 'checked' } })
    await waitFor(async () => (await b.documents.get('s-000042'))?.data.Remarks === 'checked', { what: 'edit on B' })
    await pageA.close()
    await mesh.stop(a)
    await b.documents.put({ uid: 's-000042', type: 'AnalysisRequest', id: 'W-00042', data: { ClientSampleID: 'CS-42', Remarks: 'edited at lab B' } })
    {
      const store = createLevelStore({ location: join(A.dir, 'data', 'store'), domain: 'lab-sync-a' })
      await store.open()
      await writeDocument({ store, domain: 'lab-sync-a', now: Date.now, rules: [] }, { uid: 's-000042', type: 'AnalysisRequest', id: 'W-00042', data: { ClientSampleID: 'CS-42', Remarks: 'edited at lab A' } })
      await store.close()
    }
    a = await mesh.start(aConfig)
    const card = await pageB.waitForSelector('[data-testid="conflict-s-000042"]', { timeout: 30_000 })
    expect(await card.textContent()).toContain('data.Remarks')
    // its history, from the conflict card: the versions B saw, lab-sync-a's concurrent one among them
    await pageB.click('[data-testid="history-of-s-000042"]')
    await pageB.waitForFunction(() => Array.from(document.querySelectorAll('[data-testid="history-row"]')).some((r) => r.textContent?.includes('conflict') === true), undefined, { timeout: 30_000 })
    // and a failure: a sample whose client exists nowhere is parked on B
    await a.documents.put({ uid: 'orphan-1', type: 'AnalysisRequest', id: 'W-ORPHAN', refs: ['client-nowhere'], data: {} })
    const failed = await pageB.waitForSelector('[data-testid="failed-orphan-1"]', { timeout: 30_000 })
    expect(await failed.textContent()).toContain('client-nowhere')
    await pageB.screenshot({ path: 'test-results/status-page.png', fullPage: true })
    // Retry while the client is still missing: it stays parked, and the page says so
    await pageB.click('[data-testid="retry-orphan-1"]')
    await pageB.waitForFunction(() => document.getElementById('message')?.textContent?.includes('still parked') === true, undefined, { timeout: 30_000 })

    await pageB.click('[data-testid="take-remote-s-000042"]')
    await pageB.waitForSelector('[data-testid="conflict-s-000042"]', { state: 'detached', timeout: 30_000 })
    await waitFor(async () => a.status().conflicts === 0 && b.status().conflicts === 0, { what: 'conflict gone on both agents', timeout: 30_000 })
    const [onA, onB] = await Promise.all([a.documents.get('s-000042'), b.documents.get('s-000042')])
    expect(onB!.data.Remarks).toBe('edited at lab A')
    expect(onA!.data.Remarks).toBe('edited at lab A')
    expect(onA!.vector).toEqual(onB!.vector)
    // the lookup box shows an object's history by uid: the resolution written here last
    await pageB.fill('[data-testid="history-uid"]', 's-000042')
    await pageB.click('[data-testid="history-show"]')
    await pageB.waitForFunction(() => {
      const rows = document.querySelectorAll('[data-testid="history-row"]')
      return rows[rows.length - 1]?.textContent?.includes('resolution') === true
    }, undefined, { timeout: 30_000 })
    await pageB.locator('#history').screenshot({ path: 'test-results/status-page-history.png' })
    // once the client exists, the parked sample is applied and leaves the page
    await a.documents.put({ uid: 'client-nowhere', type: 'Client', id: 'client-nowhere', data: {} })
    await pageB.waitForSelector('[data-testid="failed-orphan-1"]', { state: 'detached', timeout: 30_000 })
    expect(b.status().failed).toBe(0)
    await pageB.screenshot({ path: 'test-results/status-page-resolved.png', fullPage: true })
  }, 180_000)

  it('merges a conflict field by field: the one-sided change pre-selected, the field changed on both sides picked by the admin', async () => {
    const [I, J] = [mesh.node('lab-merge-i'), mesh.node('lab-merge-j')]
    const iConfig = meshConfig(I, [{ node: J, pull: true }])
    const jConfig = meshConfig(J, [{ node: I, pull: true }])
    let i = await mesh.start(iConfig)
    let j = await mesh.start(jConfig)
    const sample = { uid: 's-77', type: 'AnalysisRequest', id: 'W-00077' }
    const base = { result: '5.1', remarks: '', analyst: 'ann' }
    await i.documents.put({ ...sample, data: base })
    await waitFor(async () => await j.documents.get('s-77'), { what: 'the sample on J' })
    // each edits while the other is down: both the result, and J the remarks too
    await mesh.stop(j)
    await i.documents.put({ ...sample, data: { ...base, result: '5.3' } })
    await mesh.stop(i)
    j = await mesh.start(jConfig)
    await j.documents.put({ ...sample, data: { ...base, result: '5.4', remarks: 'rechecked' } })
    i = await mesh.start(iConfig)
    await waitFor(() => i.status().conflicts === 1 && j.status().conflicts === 1, { what: 'the conflict on both' })

    const page = await open(i)
    const card = await page.waitForSelector('[data-testid="conflict-s-77"]', { timeout: 30_000 })
    // three columns: base, local, remote; the remarks (changed at J only) come selected on remote's side, the result on no side
    expect(await card.$$eval('thead th', (ths) => ths.map((th) => th.textContent))).toEqual(['field', 'base {"lab-merge-i":1}', 'local, kept at lab-merge-i {"lab-merge-i":2}', 'remote {"lab-merge-i":1,"lab-merge-j":1}'])
    const checked = async (path: string, side: string): Promise<boolean> => await page.isChecked(`[data-testid="pick-s-77-${path}-${side}"]`)
    expect(await checked('data.remarks', 'remote')).toBe(true)
    expect(await Promise.all(['base', 'local', 'remote'].map(async (side) => await checked('data.result', side)))).toEqual([false, false, false])
    expect(await card.$eval('tr[data-change="both"] th', (th) => th.textContent)).toContain('changed on both sides')
    // merging before the result is picked: the page asks for it and writes nothing
    await page.click('[data-testid="merge-s-77"]')
    await page.waitForFunction(() => document.getElementById('message')?.textContent?.includes('Pick a side for data.result') === true, undefined, { timeout: 10_000 })
    expect(i.status().conflicts).toBe(1)

    await page.click('[data-testid="pick-s-77-data.result-remote"]')
    await page.screenshot({ path: 'test-results/status-page-merge.png', fullPage: true })
    await page.click('[data-testid="merge-s-77"]')
    await page.waitForSelector('[data-testid="conflict-s-77"]', { state: 'detached', timeout: 30_000 })
    await waitFor(async () => i.status().conflicts === 0 && j.status().conflicts === 0 && (await j.documents.get('s-77'))?.vector['lab-merge-i'] === 3, { what: 'the merge on both agents', timeout: 30_000 })
    const [onI, onJ] = await Promise.all([i.documents.get('s-77'), j.documents.get('s-77')])
    expect(onI!.data).toEqual({ ...base, result: '5.4', remarks: 'rechecked' })
    expect(onJ!.data).toEqual(onI!.data)
    expect(onJ!.vector).toEqual(onI!.vector)
    await page.close()
  })

  it('asks for the token once when there is none, and shows status read-only under publicStatus', async () => {
    const C = mesh.node('lab-token-c')
    const D = mesh.node('lab-token-d')
    // D is configured but never started: C shows it as not connected
    const c = await mesh.start(meshConfig(C, [{ node: D, pull: true }]))
    const page = await browser.newPage()
    await page.goto(c.httpUrl!)
    await page.waitForSelector('#login:not([hidden])')
    await page.getByLabel('Admin token').fill(agentInternals(c).token)
    await page.getByRole('button', { name: 'Show status' }).click()
    await page.waitForSelector('[data-testid="peer-lab-token-d"][data-connected="false"]')
    expect(await page.isHidden('#login')).toBe(true)
    expect(await page.textContent('[data-testid="progress-text-lab-token-d"]')).toBe('not reached yet')
    // kept for this tab: a reload needs no token
    await page.reload()
    await page.waitForSelector('[data-testid="peer-lab-token-d"]')
    await page.close()
    await mesh.stop(c)

    const open = await mesh.start(meshConfig(C, [{ node: D, pull: true }], { http: { listen: `127.0.0.1:${C.httpPort}`, publicStatus: true } }))
    const anonymous = await browser.newPage()
    await anonymous.goto(open.httpUrl!)
    await anonymous.waitForSelector('[data-testid="peer-lab-token-d"]')
    await anonymous.waitForFunction(() => document.getElementById('live')?.textContent === 'live')
    expect(await anonymous.isHidden('#login')).toBe(true)
    expect(await anonymous.textContent('[data-testid="domain"]')).toBe('lab-token-c')
    await anonymous.close()
  })

  it('shows a file being fetched from a peer with its bytes, percent and ETA, gone once it is here', async () => {
    const C = mesh.node('lab-blob-k')
    const D = mesh.node('lab-blob-l')
    const c = await mesh.start(meshConfig(C, [{ node: D }]))
    const d = await mesh.start(meshConfig(D, [{ node: C, pull: true }]))
    const page = await open(d)
    await page.waitForSelector('[data-testid="peer-lab-blob-k"][data-connected="true"]', { timeout: 30_000 })
    await page.evaluate(() => {
      const seen: string[] = []
      ;(window as unknown as { blobs: string[] }).blobs = seen
      new MutationObserver(() => {
        document.querySelectorAll('.blob').forEach((row) => { if (seen.at(-1) !== row.textContent) seen.push(row.textContent ?? '') })
      }).observe(document.body, { subtree: true, childList: true, characterData: true })
    })
    const size = 24 * 1024 * 1024
    const { json } = await putBlob(c, seededBytes(size, 'page'))
    await c.documents.put({ uid: 'scan-1', type: 'Attachment', id: 'SCAN-1', data: { file: blobRef(json.hash, size, 'scan.tiff', 'image/tiff') } })
    await waitFor(async () => (await d.documents.get('scan-1')) !== undefined, { timeout: 60_000, what: 'scan-1 on D' })
    await page.waitForFunction(() => document.querySelectorAll('.blob').length === 0, undefined, { timeout: 30_000 })
    const seen = await page.evaluate(() => (window as unknown as { blobs: string[] }).blobs)
    expect(seen.length, 'the transfer was shown').toBeGreaterThan(0)
    expect(seen[0]).toMatch(/^scan\.tiff \d+(\.\d)? MiB \/ 24 MiB \(\d+ %\)/)
    await page.close()
  })

  it('joins two agents with an invite code made on one page and pasted into the other', async () => {
    const [E, F] = [mesh.node('lab-invite-e'), mesh.node('lab-invite-f')]
    const e = await mesh.start(await loadConfigFile(await writeCommentedConfig(E)))
    const f = await mesh.start(await loadConfigFile(await writeCommentedConfig(F)))
    const [pageE, pageF] = await Promise.all([open(e), open(f)])
    await pageE.waitForFunction(() => document.getElementById('live')?.textContent === 'live')
    expect(await pageE.textContent('[data-testid="config"]')).toContain(`config ${e.config.configFile!}`)

    await pageE.getByLabel('Valid for').selectOption('1h')
    await pageE.getByTestId('create-invite').click()
    const code = await (await pageE.waitForSelector('[data-testid="invite-code"]')).evaluate((t) => (t as HTMLTextAreaElement).value)
    expect(code).toMatch(/^labmesh_invite_[a-z2-7]+$/)
    await pageE.waitForSelector('[data-testid^="invite-"] >> text=open')

    await pageF.getByLabel('Paste its invite code').fill(`${code}\n`)
    await pageF.locator('#join-pull').check()
    await pageF.getByTestId('join').click()
    await pageF.waitForSelector('[data-testid="join-result"].ok')
    expect(await pageF.textContent('[data-testid="join-result"]')).toContain('Joined lab-invite-e as peer "lab-invite-e", pulling from it')
    // both pages follow the reload the join made: the new peer appears, connected
    await pageF.waitForSelector('[data-testid="peer-lab-invite-e"][data-connected="true"]')
    await pageE.waitForSelector('[data-testid="peer-lab-invite-f"][data-connected="true"]')
    await pageE.waitForSelector('[data-testid^="invite-"] >> text=used')
    await e.documents.put({ uid: 'from-e', type: 'Client', id: 'c-e', data: {} })
    await waitFor(async () => await f.documents.get('from-e'), { what: 'E\'s object on F' })

    // a code cut short: the page says why it is refused
    await pageF.getByLabel('Paste its invite code').fill(code.slice(0, -4))
    await pageF.getByTestId('join').click()
    await pageF.waitForSelector('[data-testid="join-result"].error')
    expect(await pageF.textContent('[data-testid="join-result"]')).toContain('INVITE_DAMAGED')
    await pageF.screenshot({ path: 'test-results/status-page-joined.png', fullPage: true })
    await Promise.all([pageE.close(), pageF.close()])
  })

  it('shows an echo loop with what the instance does to the field and releases it; shows the failed queue by reason and retries a group', async () => {
    const fixed = { on: true }
    const refusing = { on: true }
    const { a, b } = await startEchoPair(mesh, {
      a: dateFormat('/', fixed),
      b: { ...dateFormat('-', fixed), refuse: (doc) => refusing.on && doc.type === 'Department' ? { code: 'INSTANCE_REFUSED', reason: "Creation of 'Department' in '/senaite/clients' is not allowed", retryable: false } : undefined }
    }, {}, ['lab-echo-g', 'lab-echo-h'])
    a.instance.edit(labDocument('e-1', { date: '2024/01/31' }))
    for (const uid of ['dept-1', 'dept-2']) a.instance.edit(labDocument(uid, { title: uid }, { type: 'Department' }))
    await waitFor(() => a.agent.status().echoHeld + b.agent.status().echoHeld === 1 && b.agent.status().failed === 2, { what: 'a loop held and two departments parked' })
    const holder = a.agent.status().echoHeld === 1 ? a : b

    const page = await open(holder.agent)
    const card = await page.waitForSelector('[data-testid="echo-e-1"]')
    expect(await card.textContent()).toContain('data.date')
    expect(await card.textContent()).toMatch(/2024.01.31/)
    expect(await page.textContent('#echo-count')).toBe('1')
    await page.screenshot({ path: 'test-results/status-page-echo.png', fullPage: true })
    fixed.on = false
    await page.click('[data-testid="release-e-1"]')
    await page.waitForSelector('[data-testid="echo-e-1"]', { state: 'detached' })
    expect(holder.agent.status().echoHeld).toBe(0)
    await page.close()

    const pageB = await open(b.agent)
    const group = await pageB.waitForSelector('[data-testid="failed-group-INSTANCE_REFUSED"]')
    expect(await group.textContent()).toContain("2 × Creation of 'Department' in '/senaite/clients' is not allowed")
    expect(await pageB.textContent('[data-testid="failed-group-count-INSTANCE_REFUSED"]')).toBe('2')
    await pageB.waitForSelector('[data-testid="failed-dept-1"]')
    await pageB.screenshot({ path: 'test-results/status-page-failed-groups.png', fullPage: true })
    refusing.on = false
    await pageB.click('[data-testid="retry-group-INSTANCE_REFUSED"]')
    await pageB.waitForSelector('[data-testid="failed-group-INSTANCE_REFUSED"]', { state: 'detached' })
    expect(await pageB.textContent('#message')).toContain('2 applied')
    expect(b.agent.status().failed).toBe(0)
    await pageB.close()
  })
})
