/**
 * The status page's script, served verbatim as /app.js (plain browser
 * JavaScript in a string: no front-end build). It never puts data into HTML
 * unescaped: every value goes through textContent.
 */
export const PAGE_SCRIPT = String.raw`
'use strict'
const state = { token: '', status: null, conflicts: [], failed: [], timer: 0, progress: {} }

// A status refresh can be answered after a newer progress event arrived: keep
// the newest progress per peer (same pull started later, or more done).
function newer (a, b) {
  if (!a) return b
  if (!b) return a
  if ((b.startedAt || 0) !== (a.startedAt || 0)) return (b.startedAt || 0) > (a.startedAt || 0) ? b : a
  if (a.state !== b.state) return b.finishedAt ? b : a.finishedAt ? a : b
  return b.done >= a.done ? b : a
}
function mergeProgress (peer, progress) {
  state.progress[peer] = newer(state.progress[peer], progress)
  return state.progress[peer]
}
const $ = (id) => document.getElementById(id)
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
    else node.setAttribute(k, v)
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)))
  return node
}

function takeToken () {
  const match = /token=([^&]+)/.exec(location.hash)
  if (match) {
    sessionStorage.setItem('labmesh-token', decodeURIComponent(match[1]))
    history.replaceState(null, '', location.pathname)
  }
  return sessionStorage.getItem('labmesh-token') || ''
}

async function api (method, path, body) {
  const response = await fetch(path, { method, headers: { authorization: 'Bearer ' + state.token, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) })
  if (response.status === 401) { showLogin('That token was not accepted.'); throw new Error('unauthorized') }
  const json = await response.json()
  if (!response.ok) throw new Error(json.message || ('HTTP ' + response.status))
  return json
}

function ago (ms) {
  if (!ms) return 'never'
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000))
  return s < 60 ? s + ' s ago' : s < 3600 ? Math.floor(s / 60) + ' min ago' : Math.floor(s / 3600) + ' h ago'
}
function eta (s) { return s === undefined || s === null ? '' : s < 60 ? s + ' s' : Math.floor(s / 60) + ' min ' + (s % 60) + ' s' }
const n = (x) => Number(x || 0).toLocaleString('en-US')

function renderStatus () {
  const s = state.status
  if (!s) return
  $('domain').textContent = s.domain
  $('summary').textContent = n(s.objects) + ' objects · feed head ' + n(s.feedHead) + ' · ' + s.conflicts + ' conflict(s) · ' + s.failed + ' failed · peer ID ' + s.peerId
  const body = $('peers').tBodies[0]
  body.replaceChildren(...s.peers.map(renderPeer))
  $('conflict-count').textContent = String(s.conflicts)
  $('failed-count').textContent = String(s.failed)
}

function renderPeer (p) {
  const pr = p.progress
  const pulling = pr.state === 'pulling'
  const bar = el('progress', { max: '100', value: String(pr.percent), 'aria-label': 'sync progress with ' + p.name, 'data-testid': 'progress-' + p.name })
  const label = p.pull ? (pulling ? pr.percent.toFixed(1) + ' %' + (pr.etaSeconds !== undefined ? ' · ETA ' + eta(pr.etaSeconds) : '') + ' · ' + n(pr.done) + ' / ' + n(pr.done + pr.remaining) : (pr.percent === 100 ? 'up to date' : pr.percent + ' %')) : 'serves only'
  return el('tr', { 'data-testid': 'peer-' + p.name, 'data-connected': String(p.connected) },
    el('td', {}, el('span', { class: 'dot' + (p.connected ? ' up' : ''), role: 'img', 'aria-label': p.connected ? 'connected' : 'not connected' }), p.name, el('div', { class: 'muted' }, (p.address || '').replace(/\/p2p\/.*$/, ''))),
    el('td', {}, p.pull ? 'pull + serve' : 'serve'),
    el('td', {}, p.pull ? bar : '', ' ', el('span', { 'data-testid': 'progress-text-' + p.name }, label)),
    el('td', {}, n(p.lagIn) + ' / ' + n(p.lagOut)),
    el('td', {}, n(p.pulled) + ' / ' + n(p.served)),
    el('td', {}, String(p.conflicts)),
    el('td', {}, ago(p.lastContact)),
    el('td', { class: p.lastError ? 'error' : '' }, p.lastError || ''))
}

function renderConflicts () {
  $('conflicts').replaceChildren(...(state.conflicts.length === 0 ? [el('li', { class: 'muted' }, 'No conflicts.')] : state.conflicts.map(renderConflict)))
}

function renderConflict (c) {
  const diff = new Set(c.differingFields)
  const here = state.status ? state.status.domain : 'this agent'
  const rows = [el('div', { class: 'head' }, 'field'), el('div', { class: 'head' }, 'kept here at ' + here + ' ' + JSON.stringify(c.local.vector)), el('div', { class: 'head' }, 'the other side ' + JSON.stringify(c.remote.vector))]
  const keys = [...new Set([...Object.keys(c.local.data), ...Object.keys(c.remote.data)])].sort()
  for (const key of ['id', 'deleted', ...keys.map((k) => 'data.' + k)]) {
    const pick = (v) => key.startsWith('data.') ? v.data[key.slice(5)] : v[key]
    const cls = diff.has(key) ? 'diff' : ''
    rows.push(el('div', { class: cls }, key), el('div', { class: cls }, JSON.stringify(pick(c.local)) ?? '—'), el('div', { class: cls }, JSON.stringify(pick(c.remote)) ?? '—'))
  }
  const resolve = (pick) => async (event) => {
    event.target.disabled = true
    try { await api('POST', '/api/conflicts/' + encodeURIComponent(c.uid) + '/resolve', { pick }); await refresh() } catch (err) { alert('Could not resolve: ' + err.message); event.target.disabled = false }
  }
  return el('li', { class: 'card', 'data-testid': 'conflict-' + c.uid },
    el('strong', {}, c.type + ' ' + c.id), ' ', el('span', { class: 'muted' }, c.uid + ' · differs in ' + c.differingFields.join(', ')),
    el('div', { class: 'side', role: 'table', 'aria-label': 'both versions of ' + c.id }, ...rows),
    el('button', { class: 'primary', type: 'button', onclick: resolve('local'), 'data-testid': 'keep-local-' + c.uid }, 'Keep this side'), ' ',
    el('button', { type: 'button', onclick: resolve('remote'), 'data-testid': 'take-remote-' + c.uid }, 'Take the other side'))
}

function renderFailed () {
  $('failed').replaceChildren(...(state.failed.length === 0 ? [el('li', { class: 'muted' }, 'Nothing parked.')] : state.failed.map((f) => el('li', { class: 'card', 'data-testid': 'failed-' + f.uid },
    el('strong', {}, f.version.type + ' ' + f.version.id), ' ', el('span', { class: 'muted' }, 'from ' + f.peer + ' · attempt ' + f.attempts + ' · next retry ' + new Date(f.nextRetryAt).toLocaleTimeString()),
    el('div', { class: 'error' }, f.reason), ' ',
    el('button', { type: 'button', onclick: async (event) => { event.target.disabled = true; try { await api('POST', '/api/failed/' + encodeURIComponent(f.uid) + '/retry'); } catch (err) { alert(err.message) } await refresh() } }, 'Retry now')))))
}

async function refresh () {
  const [status, conflicts, failed] = await Promise.all([api('GET', '/api/status'), api('GET', '/api/conflicts'), api('GET', '/api/failed')])
  for (const p of status.peers) p.progress = mergeProgress(p.name, p.progress)
  state.status = status
  state.conflicts = conflicts.items
  state.failed = failed.items
  renderStatus(); renderConflicts(); renderFailed()
}

function scheduleRefresh () {
  if (state.timer) return
  state.timer = setTimeout(() => { state.timer = 0; refresh().catch(() => {}) }, 200)
}

function listen () {
  const source = new EventSource('/api/events?token=' + encodeURIComponent(state.token))
  source.addEventListener('open', () => { $('live').textContent = 'live' })
  source.addEventListener('error', () => { $('live').textContent = 'reconnecting…' })
  source.addEventListener('progress', (e) => {
    const event = JSON.parse(e.data)
    const peer = state.status && state.status.peers.find((p) => p.name === event.peer)
    if (peer) { peer.progress = mergeProgress(event.peer, event.progress); renderStatus() }
  })
  for (const type of ['peer', 'batch', 'pull-finished', 'conflict', 'failure', 'commit', 'read-only-revert']) source.addEventListener(type, scheduleRefresh)
}

function showLogin (message) {
  $('login').hidden = false
  $('login-error').textContent = message || ''
  $('live').textContent = 'no token'
}

async function start () {
  state.token = takeToken()
  $('login').addEventListener('submit', (event) => {
    event.preventDefault()
    sessionStorage.setItem('labmesh-token', $('token').value.trim())
    location.reload()
  })
  if (!state.token) return showLogin()
  try { await refresh(); listen() } catch (err) { if (err.message !== 'unauthorized') $('live').textContent = 'error: ' + err.message }
  setInterval(() => { if (state.status) renderStatus() }, 5000) // keep "last contact" ages fresh
}
start()
`
