/**
 * The status page in a real browser (Debian's Chromium driven by
 * playwright-core): a two-agent mesh, a 20,000-object initial pull watched
 * to 100 % (with percent and ETA on the way), a conflict resolved with a
 * click and gone on both agents, a parked object retried from the page, and
 * a file being fetched shown with its bytes, percent and ETA.
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
import { seedStore } from '../helpers/processes.js'
import { blobRef, putBlob, seededBytes } from '../helpers/blobs.js'

const CHROMIUM = '/usr/bin/chromium'
const OBJECTS = 20_000

describe('status page in Chromium', () => {
  const mesh = useTestMesh(['lab-a', 'lab-b', 'lab-c', 'lab-d'], { prefix: 'labmesh-browser-', shared: true })
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
    const A = mesh.node('lab-a')
    const B = mesh.node('lab-b')
    const pad = 'Sample received in good condition; stored at 4 °C. '.repeat(12)
    await seedStore(A, (function * () {
      for (let i = 0; i < OBJECTS; i++) yield { uid: `s-${String(i).padStart(6, '0')}`, type: 'AnalysisRequest', id: `W-${String(i).padStart(5, '0')}`, data: { ClientSampleID: `CS-${i}`, Remarks: pad } }
    })())
    const aConfig = meshConfig(A, [{ node: B, pull: true }], { sync: { batchSize: 250, window: 1000 } })
    // B first, while A is down: the page is open before the pull begins
    const b = await mesh.start(meshConfig(B, [{ node: A, pull: true }], { sync: { batchSize: 250, window: 1000 } }))
    const pageB = await open(b)
    await pageB.waitForSelector('[data-testid="peer-lab-a"][data-connected="false"]')
    await pageB.evaluate(() => {
      const seen: number[] = []
      ;(window as unknown as { seen: number[] }).seen = seen
      const record = (): void => {
        const bar = document.querySelector('[data-testid="progress-lab-a"]') as HTMLProgressElement | null
        if (bar !== null && (seen.length === 0 || seen[seen.length - 1] !== bar.value)) seen.push(bar.value)
      }
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true })
    })

    let a = await mesh.start(aConfig)
    await pageB.waitForSelector('[data-testid="peer-lab-a"][data-connected="true"]', { timeout: 30_000 })
    // during the pull the row says how far, how many and how long to go
    await pageB.waitForFunction(() => /^\d+\.\d % · [\d,]+ \/ 20,000 · ETA \d+/.test(document.querySelector('[data-testid="progress-text-lab-a"]')?.textContent ?? ''), undefined, { timeout: 30_000 })
    await mkdir('test-results', { recursive: true })
    await pageB.screenshot({ path: 'test-results/status-page-pulling.png' })
    await pageB.waitForFunction(() => document.querySelector('[data-testid="progress-text-lab-a"]')?.textContent === 'up to date', undefined, { timeout: 60_000 })
    const seen = await pageB.evaluate(() => (window as unknown as { seen: number[] }).seen)
    expect(seen[seen.length - 1]).toBe(100)
    expect(seen.some((v) => v > 0 && v < 100), `progress values seen: ${seen.join(', ')}`).toBe(true)
    // never backwards during one pull
    const during = seen.slice(seen.findIndex((v) => v > 0))
    expect(during).toEqual([...during].sort((x, y) => x - y))
    expect(b.status().objects).toBe(OBJECTS)

    // both sides see each other connected
    const pageA = await open(a)
    await pageA.waitForSelector('[data-testid="peer-lab-b"][data-connected="true"]')

    // a conflict: A goes down, both sides edit the same sample, A comes back
    await a.documents.put({ uid: 's-000042', type: 'AnalysisRequest', id: 'W-00042', data: { ClientSampleID: 'CS-42', Remarks: 'checked' } })
    await waitFor(async () => (await b.documents.get('s-000042'))?.data.Remarks === 'checked', { what: 'edit on B' })
    await pageA.close()
    await mesh.stop(a)
    await b.documents.put({ uid: 's-000042', type: 'AnalysisRequest', id: 'W-00042', data: { ClientSampleID: 'CS-42', Remarks: 'edited at lab B' } })
    {
      const store = createLevelStore({ location: join(A.dir, 'data', 'store'), domain: 'lab-a' })
      await store.open()
      await writeDocument({ store, domain: 'lab-a', now: Date.now, rules: [] }, { uid: 's-000042', type: 'AnalysisRequest', id: 'W-00042', data: { ClientSampleID: 'CS-42', Remarks: 'edited at lab A' } })
      await store.close()
    }
    a = await mesh.start(aConfig)
    const card = await pageB.waitForSelector('[data-testid="conflict-s-000042"]', { timeout: 30_000 })
    expect(await card.textContent()).toContain('data.Remarks')
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
    // once the client exists, the parked sample is applied and leaves the page
    await a.documents.put({ uid: 'client-nowhere', type: 'Client', id: 'client-nowhere', data: {} })
    await pageB.waitForSelector('[data-testid="failed-orphan-1"]', { state: 'detached', timeout: 30_000 })
    expect(b.status().failed).toBe(0)
    await pageB.screenshot({ path: 'test-results/status-page-resolved.png', fullPage: true })
  }, 180_000)

  it('asks for the token once when there is none, and shows status read-only under publicStatus', async () => {
    const C = mesh.node('lab-c')
    const D = mesh.node('lab-d')
    // D is configured but never started: C shows it as not connected
    const c = await mesh.start(meshConfig(C, [{ node: D, pull: true }]))
    const page = await browser.newPage()
    await page.goto(c.httpUrl!)
    await page.waitForSelector('#login:not([hidden])')
    await page.getByLabel('Admin token').fill(agentInternals(c).token)
    await page.getByRole('button', { name: 'Show status' }).click()
    await page.waitForSelector('[data-testid="peer-lab-d"][data-connected="false"]')
    expect(await page.isHidden('#login')).toBe(true)
    expect(await page.textContent('[data-testid="progress-text-lab-d"]')).toBe('not reached yet')
    // kept for this tab: a reload needs no token
    await page.reload()
    await page.waitForSelector('[data-testid="peer-lab-d"]')
    await page.close()
    await mesh.stop(c)

    const open = await mesh.start(meshConfig(C, [{ node: D, pull: true }], { http: { listen: `127.0.0.1:${C.httpPort}`, publicStatus: true } }))
    const anonymous = await browser.newPage()
    await anonymous.goto(open.httpUrl!)
    await anonymous.waitForSelector('[data-testid="peer-lab-d"]')
    await anonymous.waitForFunction(() => document.getElementById('live')?.textContent === 'live')
    expect(await anonymous.isHidden('#login')).toBe(true)
    expect(await anonymous.textContent('[data-testid="domain"]')).toBe('lab-c')
    await anonymous.close()
  })

  it('shows a file being fetched from a peer with its bytes, percent and ETA, gone once it is here', async () => {
    const C = mesh.node('lab-c')
    const D = mesh.node('lab-d')
    const c = await mesh.start(meshConfig(C, [{ node: D }]))
    const d = await mesh.start(meshConfig(D, [{ node: C, pull: true }]))
    const page = await open(d)
    await page.waitForSelector('[data-testid="peer-lab-c"][data-connected="true"]', { timeout: 30_000 })
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
})
