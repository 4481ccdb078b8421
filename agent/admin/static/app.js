// labmesh status page script: plain browser JavaScript, served as it is.
//
// Reads the admin API with the token (from the URL fragment `#token=…` that
// `labmesh start` prints, kept in sessionStorage, or typed in once) and stays
// live through GET /api/events (EventSource cannot send headers: the token
// goes in its query string, which only that route accepts). Data reaches the
// page through textContent only, never as HTML.
'use strict'

const state = { token: '', status: null, conflicts: [], failed: [], progress: {}, source: null, timer: 0, wanted: new Set() }
const TOKEN_KEY = 'labmesh-token'

const $ = (id) => document.getElementById(id)
function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
    else node.setAttribute(k, v)
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  return node
}
const n = (x) => Number(x || 0).toLocaleString('en-US')

function ago (ms) {
  if (!ms) return 'never'
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000))
  return s < 60 ? s + ' s ago' : s < 3600 ? Math.floor(s / 60) + ' min ago' : Math.floor(s / 3600) + ' h ago'
}
function duration (s) {
  if (s === undefined || s === null) return ''
  return s < 60 ? s + ' s' : s < 3600 ? Math.floor(s / 60) + ' min ' + (s % 60) + ' s' : Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min'
}

// ---- token and API ----

function takeToken () {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash)
  if (match) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(match[1]))
    history.replaceState(null, '', location.pathname) // the token leaves the address bar and the history
  }
  return sessionStorage.getItem(TOKEN_KEY) || ''
}

class Unauthorized extends Error {}

async function api (method, path, body) {
  const headers = {}
  if (state.token) headers.authorization = 'Bearer ' + state.token
  if (body) headers['content-type'] = 'application/json'
  const response = await fetch(path, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) })
  if (response.status === 401) throw new Unauthorized()
  const json = await response.json()
  if (!response.ok) throw new Error(json.message || ('HTTP ' + response.status))
  return json
}

function say (message) { $('message').textContent = message || '' }

function showLogin (message) {
  $('login').hidden = false
  $('live').textContent = 'no token'
  say(message)
  $('token').focus()
}

// ---- progress: a status answer can arrive after a newer progress event; keep the newest ----

function order (p) { return [p.startedAt || 0, p.appliedSeq || 0, p.remoteHead || 0, p.finishedAt ? 1 : 0, p.done || 0] }
function newer (a, b) {
  if (!a) return b
  const x = order(a)
  const y = order(b)
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return y[i] > x[i] ? b : a
  return b
}
function mergeProgress (peer, progress) {
  state.progress[peer] = newer(state.progress[peer], progress)
  return state.progress[peer]
}

// ---- rendering ----

function renderStatus () {
  const s = state.status
  if (!s) return
  $('domain').textContent = s.domain
  $('summary').textContent = n(s.objects) + ' objects · feed head ' + n(s.feedHead) + ' · ' + s.conflicts + ' conflict(s) · ' + s.failed + ' failed · peer ID ' + s.peerId
  $('peers').tBodies[0].replaceChildren(...(s.peers.length === 0 ? [el('tr', {}, el('td', { colspan: '9', class: 'muted' }, 'No peers configured.'))] : s.peers.map(renderPeer)))
  $('conflict-count').textContent = String(s.conflicts)
  $('failed-count').textContent = String(s.failed)
}

function syncText (p) {
  const pr = p.progress
  if (!p.pull) return 'serves only'
  if (pr.caughtUp) return 'up to date'
  if (pr.remoteHead === undefined) return p.connected ? 'waiting for its hello' : 'not reached yet'
  const total = pr.done + pr.remaining
  const eta = pr.etaSeconds !== undefined && pr.state === 'pulling' ? ' · ETA ' + duration(pr.etaSeconds) : ''
  if (pr.state === 'pulling') return pr.percent.toFixed(1) + ' % · ' + n(pr.done) + ' / ' + n(total) + eta
  return n(pr.remaining) + ' to pull'
}

const mib = (bytes) => (bytes / 1048576).toFixed(bytes < 10485760 ? 1 : 0) + ' MiB'

function blobText (t) {
  const eta = t.etaSeconds !== undefined && t.etaSeconds !== null && t.state === 'fetching' ? ' · ETA ' + duration(t.etaSeconds) : ''
  const state = t.state === 'fetching' ? '' : ' · ' + t.state
  return (t.name || t.hash.slice(7, 19) + '…') + ' ' + mib(t.done) + ' / ' + mib(t.size) + ' (' + Math.floor(t.percent) + ' %)' + eta + state
}

// one line per file being fetched from this peer: a bar, bytes, percent and ETA
function renderBlobs (p) {
  const transfers = (p.blobs && p.blobs.transfers) || []
  return transfers.map((t) => el('div', { class: 'blob', 'data-testid': 'blob-' + p.name + '-' + t.hash.slice(7, 19) },
    el('progress', { max: '100', value: String(t.percent), 'aria-label': 'file ' + (t.name || t.hash) + ' from ' + p.name, 'aria-valuetext': blobText(t) }),
    el('span', { class: 'muted' }, blobText(t))))
}

function renderPeer (p) {
  const pr = p.progress
  const cells = [el('span', { 'data-testid': 'progress-text-' + p.name }, syncText(p)), ...renderBlobs(p)]
  if (p.pull) {
    cells.unshift(el('progress', { max: '100', value: String(pr.percent), 'aria-label': 'sync from ' + p.name, 'aria-valuetext': syncText(p), 'data-testid': 'progress-' + p.name }))
  }
  return el('tr', { 'data-testid': 'peer-' + p.name, 'data-connected': String(p.connected) },
    el('td', {},
      el('span', { class: 'dot' + (p.connected ? ' up' : ''), 'aria-hidden': 'true' }), el('strong', {}, p.name), ' ',
      el('span', { class: 'state' }, p.connected ? 'connected' : 'not connected'),
      el('div', { class: 'muted' }, (p.address || '').replace(/\/p2p\/.*$/, ''))),
    el('td', {}, p.pull ? 'pull + serve' : 'serve'),
    el('td', { class: 'sync' }, ...cells),
    el('td', {}, n(p.lagIn) + ' / ' + n(p.lagOut)),
    el('td', {}, n(p.pulled) + ' / ' + n(p.served)),
    el('td', {}, String(p.conflicts)),
    el('td', {}, String(p.failed || 0)),
    el('td', {}, ago(p.lastContact)),
    el('td', { class: p.lastError ? 'error' : '' }, p.lastError || ''))
}

function renderConflicts () {
  $('conflicts').replaceChildren(...(state.conflicts.length === 0 ? [el('li', { class: 'muted' }, 'No conflicts.')] : state.conflicts.map(renderConflict)))
}

function show (value) { return value === undefined ? '—' : JSON.stringify(value) }

function renderConflict (c) {
  const differs = new Set(c.differingFields)
  const here = state.status ? state.status.domain : 'this agent'
  const keys = [...new Set([...Object.keys(c.local.data), ...Object.keys(c.remote.data)])].sort()
  const fields = ['id', 'type', 'parent', 'deleted', ...keys.map((k) => 'data.' + k)]
  const pick = (v, field) => field.startsWith('data.') ? v.data[field.slice(5)] : v[field]
  const rows = fields.filter((f) => f.startsWith('data.') || differs.has(f) || f === 'id').map((f) =>
    el('tr', { class: differs.has(f) ? 'diff' : '' }, el('th', { scope: 'row' }, f), el('td', {}, show(pick(c.local, f))), el('td', {}, show(pick(c.remote, f)))))
  const resolve = (side) => async (event) => {
    const card = event.target.closest('li')
    for (const b of card.querySelectorAll('button')) b.disabled = true
    try {
      await api('POST', '/api/conflicts/' + encodeURIComponent(c.uid) + '/resolve', { pick: side })
      say('')
      await refresh(['status', 'conflicts'])
    } catch (err) {
      for (const b of card.querySelectorAll('button')) b.disabled = false
      if (err instanceof Unauthorized) showLogin('Resolving a conflict needs the admin token.')
      else say('Could not resolve ' + c.id + ': ' + err.message)
    }
  }
  return el('li', { class: 'card', 'data-testid': 'conflict-' + c.uid },
    el('strong', {}, c.type + ' ' + c.id), ' ', el('span', { class: 'muted' }, c.uid + ' · differs in ' + c.differingFields.join(', ')),
    el('table', { class: 'versions' },
      el('caption', { class: 'muted' }, 'Both versions of ' + c.id + '; rows marked ≠ differ'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'field'),
        el('th', { scope: 'col' }, 'local, kept at ' + here + ' ' + JSON.stringify(c.local.vector)),
        el('th', { scope: 'col' }, 'remote ' + JSON.stringify(c.remote.vector)))),
      el('tbody', {}, ...rows)),
    el('div', { class: 'actions' },
      el('button', { class: 'primary', type: 'button', onclick: resolve('local'), 'data-testid': 'keep-local-' + c.uid }, 'Keep local'),
      el('button', { type: 'button', onclick: resolve('remote'), 'data-testid': 'take-remote-' + c.uid }, 'Take remote')))
}

function renderFailed () {
  $('failed').replaceChildren(...(state.failed.length === 0 ? [el('li', { class: 'muted' }, 'Nothing parked.')] : state.failed.map(renderFailure)))
}

function renderFailure (f) {
  const retry = async (event) => {
    event.target.disabled = true
    try {
      const result = await api('POST', '/api/failed/' + encodeURIComponent(f.uid) + '/retry')
      say(result.applied ? '' : 'Retried ' + f.version.id + ': still parked (' + (result.entry ? result.entry.reason : 'unknown reason') + ')')
    } catch (err) {
      if (err instanceof Unauthorized) showLogin('Retrying needs the admin token.')
      else say('Could not retry ' + f.version.id + ': ' + err.message)
    }
    await refresh(['status', 'failed']).catch(() => {})
  }
  return el('li', { class: 'card', 'data-testid': 'failed-' + f.uid },
    el('strong', {}, f.version.type + ' ' + f.version.id), ' ',
    el('span', { class: 'muted' }, f.uid + ' · from ' + f.peer + ' · attempt ' + f.attempts + ' · next retry ' + new Date(f.nextRetryAt).toLocaleTimeString()),
    el('p', { class: 'error' }, f.code + ': ' + f.reason),
    el('div', { class: 'actions' }, el('button', { type: 'button', onclick: retry, 'data-testid': 'retry-' + f.uid }, 'Retry now')))
}

// ---- data flow ----

async function refresh (parts = ['status', 'conflicts', 'failed']) {
  const [status, conflicts, failed] = await Promise.all([
    parts.includes('status') ? api('GET', '/api/status') : null,
    parts.includes('conflicts') ? api('GET', '/api/conflicts') : null,
    parts.includes('failed') ? api('GET', '/api/failed') : null
  ])
  if (status) {
    for (const p of status.peers) p.progress = mergeProgress(p.name, p.progress)
    state.status = status
    renderStatus()
  }
  if (conflicts) { state.conflicts = conflicts.items; renderConflicts() }
  if (failed) { state.failed = failed.items; renderFailed() }
}

// events arrive in bursts (one per batch): gather them into one refresh
function scheduleRefresh (...parts) {
  for (const p of parts) state.wanted.add(p)
  if (state.timer) return
  state.timer = setTimeout(() => {
    state.timer = 0
    const wanted = [...state.wanted]
    state.wanted.clear()
    refresh(wanted).catch((err) => { if (err instanceof Unauthorized) showLogin('That token was not accepted.') })
  }, 200)
}

function listen () {
  state.source?.close()
  const source = new EventSource('/api/events' + (state.token ? '?token=' + encodeURIComponent(state.token) : ''))
  state.source = source
  // after a reconnect (agent restarted, network blip) catch up on what was missed
  source.addEventListener('open', () => { $('live').textContent = 'live'; scheduleRefresh('status', 'conflicts', 'failed') })
  source.addEventListener('error', () => { $('live').textContent = 'reconnecting…' })
  source.addEventListener('progress', (e) => {
    const event = JSON.parse(e.data)
    const peer = state.status && state.status.peers.find((p) => p.name === event.peer)
    if (peer) {
      peer.progress = mergeProgress(event.peer, event.progress)
      // the lag in from a remote is its pending count: keep the row consistent between refreshes
      if (peer.pull) { peer.lagIn = peer.progress.remaining; peer.lag = peer.lagIn }
      renderStatus()
    }
  })
  source.addEventListener('blob', (e) => {
    const event = JSON.parse(e.data)
    const peer = state.status && state.status.peers.find((p) => p.name === event.peer)
    if (!peer || !peer.blobs) return scheduleRefresh('status')
    const others = peer.blobs.transfers.filter((t) => t.hash !== event.transfer.hash)
    peer.blobs.transfers = event.state === 'progress' ? [...others, event.transfer] : others
    renderStatus()
    if (event.state !== 'progress') scheduleRefresh('status', 'failed')
  })
  for (const type of ['peer', 'batch', 'pull-finished', 'commit', 'served']) source.addEventListener(type, () => scheduleRefresh('status'))
  source.addEventListener('conflict', () => scheduleRefresh('status', 'conflicts'))
  source.addEventListener('failure', () => scheduleRefresh('status', 'failed'))
  source.addEventListener('read-only-revert', () => scheduleRefresh('status'))
}

async function start () {
  try {
    await refresh()
    $('login').hidden = true
    say('')
    listen()
  } catch (err) {
    if (err instanceof Unauthorized) showLogin(state.token ? 'That token was not accepted.' : '')
    else $('live').textContent = 'error: ' + err.message
  }
}

$('login').addEventListener('submit', (event) => {
  event.preventDefault()
  state.token = $('token').value.trim()
  sessionStorage.setItem(TOKEN_KEY, state.token)
  $('token').value = ''
  start()
})
setInterval(() => { if (state.status) renderStatus() }, 5000) // keeps "last contact" ages current
state.token = takeToken()
start()
