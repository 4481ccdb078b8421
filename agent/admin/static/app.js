// labmesh status page script: plain browser JavaScript, served as it is.
//
// Reads the admin API with the token (from the URL fragment `#token=…` that
// `labmesh start` prints, kept in sessionStorage, or typed in once) and stays
// live through GET /api/events (EventSource cannot send headers: the token
// goes in its query string, which only that route accepts). Data reaches the
// page through textContent only, never as HTML. "Invite and join" creates
// invite codes (POST /api/invites) and joins with a pasted one (POST
// /api/join); "Reload config" is POST /api/config/reload.
'use strict'

const state = { token: '', status: null, conflicts: [], failed: [], failedSummary: null, groupOpen: {}, progress: {}, source: null, timer: 0, wanted: new Set() }
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
class ApiError extends Error {
  constructor (json, status) {
    super(json.message || ('HTTP ' + status))
    this.code = json.error
    this.details = json.details
  }
}

async function api (method, path, body) {
  const headers = {}
  if (state.token) headers.authorization = 'Bearer ' + state.token
  if (body) headers['content-type'] = 'application/json'
  const response = await fetch(path, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) })
  if (response.status === 401) throw new Unauthorized()
  const json = await response.json()
  if (!response.ok) throw new ApiError(json, response.status)
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
  $('summary').textContent = n(s.objects) + ' objects · feed head ' + n(s.feedHead) + ' · ' + s.conflicts + ' conflict(s) · ' + s.failed + ' failed' + (s.echoHeld ? ' · ' + s.echoHeld + ' held in an echo loop' : '') + backupText(s.backup) + filesText(s.instanceFiles) + ' · peer ID ' + s.peerId
  $('peers').tBodies[0].replaceChildren(...(s.peers.length === 0 ? [el('tr', {}, el('td', { colspan: '9', class: 'muted' }, 'No peers configured.'))] : s.peers.map(renderPeer)))
  $('conflict-count').textContent = String(s.conflicts)
  $('failed-count').textContent = String(s.failed)
  $('config').textContent = s.configFile ? 'config ' + s.configFile + ' · loaded ' + ago(s.configLoadedAt) + ' (' + new Date(s.configLoadedAt).toLocaleTimeString() + ')' : 'config built in code (no file)'
  $('reload').hidden = !s.configFile
  renderEchoLoops()
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

/** The peer's last verify (and the one running, with its progress): labmesh verify, POST /api/peers/:name/verify. */
function verifyText (v) {
  if (!v) return '—'
  if (v.state === 'running' && v.progress) return 'verifying: ' + v.progress.phase + (v.progress.total > 0 ? ' ' + v.progress.percent.toFixed(1) + ' %' + (v.progress.etaSeconds !== undefined ? ' · ETA ' + duration(v.progress.etaSeconds) : '') : '…')
  const last = v.last
  if (!last) return v.intervalMs ? 'every ' + duration(v.intervalMs / 1000) + ', not yet' : 'never'
  const what = last.result === 'in-sync' ? 'in sync' + (last.digest ? ' (' + n(last.digest.count) + ')' : '') : last.result === 'failed' ? 'failed: ' + (last.error || '') : n(last.differences) + ' difference(s)'
  return what + ' · ' + ago(last.finishedAt) + (last.repaired ? ' · repaired' : '')
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

// the open pull session's terms: protocol version, frame codec, push
function sessionText (s) {
  if (!s) return ''
  return 'v' + s.protocol + (s.codec !== 'none' ? ' · ' + s.codec : '') + (s.push ? ' · push' : '')
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
    el('td', {}, p.pull ? 'pull + serve' : 'serve', el('div', { class: 'muted', 'data-testid': 'session-' + p.name }, sessionText(p.session))),
    el('td', { class: 'sync' }, ...cells),
    el('td', {}, n(p.lagIn) + ' / ' + n(p.lagOut)),
    el('td', {}, n(p.pulled) + ' / ' + n(p.served)),
    el('td', {}, String(p.conflicts)),
    el('td', {}, String(p.failed || 0)),
    el('td', { class: p.badSignatures ? 'error' : '', 'data-testid': 'bad-signatures-' + p.name }, n(p.badSignatures) + ' / ' + n(p.unsigned)),
    el('td', { class: p.verification && p.verification.last && p.verification.last.result !== 'in-sync' ? 'error' : '', 'data-testid': 'verify-' + p.name }, verifyText(p.verification)),
    el('td', {}, ago(p.lastContact)),
    el('td', { class: p.lastError ? 'error' : '' }, p.lastError || ''))
}

function renderConflicts () {
  $('conflicts').replaceChildren(...(state.conflicts.length === 0 ? [el('li', { class: 'muted' }, 'No conflicts.')] : state.conflicts.map(renderConflict)))
}

function show (value) { return value === undefined ? '—' : JSON.stringify(value) }

// A conflict three ways: every field of the common ancestor (base), this
// agent's version (local) and the other side's (remote). A field changed on
// one side only comes pre-selected on that side; a field changed on both is
// left for the admin to pick; "Merge selected" sends the picks as
// {fields} (the server refuses, naming them, any field changed on both sides
// that is left unpicked).
const CHANGE_TEXT = { equal: 'same on both sides', local: 'changed here', remote: 'changed at the other side', both: 'changed on both sides' }

function renderConflict (c) {
  const here = state.status ? state.status.domain : 'this agent'
  const fields = c.fields || []
  const differing = fields.filter((f) => f.change !== 'equal')
  // what differs first; what is the same on both sides below it
  const rows = [...differing, ...fields.filter((f) => f.change === 'equal')].map((f) => conflictRow(c, f, fields.indexOf(f)))
  const send = async (event, body) => {
    const card = event.target.closest('li')
    for (const b of card.querySelectorAll('button')) b.disabled = true
    try {
      await api('POST', '/api/conflicts/' + encodeURIComponent(c.uid) + '/resolve', body)
      say('')
      await refresh(['status', 'conflicts'])
    } catch (err) {
      for (const b of card.querySelectorAll('button')) b.disabled = false
      if (err instanceof Unauthorized) showLogin('Resolving a conflict needs the admin token.')
      else say('Could not resolve ' + c.id + ': ' + err.message)
    }
  }
  const mergeSelected = async (event) => {
    const card = event.target.closest('li')
    const picks = {}
    const missing = []
    differing.forEach((f) => {
      const checked = card.querySelector('input[name="' + pickName(c, fields.indexOf(f)) + '"]:checked')
      if (checked) picks[f.path] = checked.value
      else missing.push(f.path)
    })
    if (missing.length > 0) return say('Pick a side for ' + missing.join(', ') + ' (changed on both sides) before merging ' + c.id + '.')
    await send(event, { fields: picks })
  }
  const baseHead = c.baseKnown ? 'base ' + JSON.stringify(c.base.vector) : 'base (not known here)'
  return el('li', { class: 'card', 'data-testid': 'conflict-' + c.uid },
    el('strong', {}, c.type + ' ' + c.id), ' ', el('span', { class: 'muted' }, c.uid + ' · differs in ' + c.differingFields.join(', ')),
    el('table', { class: 'versions three-way' },
      el('caption', { class: 'muted' }, c.baseKnown
        ? 'The version both sides came from (base) and both versions of ' + c.id + '; rows marked ≠ differ. Fields changed on one side only are selected; pick the rest.'
        : 'No common ancestor of ' + c.id + ' is known here, so every differing field counts as changed on both sides: pick each.'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'field'),
        el('th', { scope: 'col' }, baseHead),
        el('th', { scope: 'col' }, 'local, kept at ' + here + ' ' + JSON.stringify(c.local.vector)),
        el('th', { scope: 'col' }, 'remote ' + JSON.stringify(c.remote.vector)))),
      el('tbody', {}, ...rows)),
    el('div', { class: 'actions' },
      el('button', { class: 'primary', type: 'button', onclick: mergeSelected, 'data-testid': 'merge-' + c.uid }, 'Merge selected'),
      el('button', { type: 'button', onclick: (e) => send(e, { pick: 'local' }), 'data-testid': 'keep-local-' + c.uid }, 'Keep local'),
      el('button', { type: 'button', onclick: (e) => send(e, { pick: 'remote' }), 'data-testid': 'take-remote-' + c.uid }, 'Take remote'),
      historyButton(c.uid)))
}

function pickName (c, i) { return 'pick-' + c.uid + '-' + i }

function conflictRow (c, f, i) {
  const cell = (side) => {
    const has = side in f
    const text = has ? show(f[side]) : (side === 'base' && !c.baseKnown ? '?' : '(absent)')
    if (f.change === 'equal' || (side === 'base' && !c.baseKnown)) return el('td', {}, text)
    const radio = el('input', { type: 'radio', name: pickName(c, i), value: side, 'data-testid': 'pick-' + c.uid + '-' + f.path + '-' + side, 'aria-label': 'take ' + f.path + ' from ' + side })
    if (f.change === side) radio.checked = true
    return el('td', {}, el('label', {}, radio, ' ', text))
  }
  return el('tr', { class: f.change === 'equal' ? '' : 'diff' + (f.change === 'both' ? ' both' : ''), 'data-change': f.change },
    el('th', { scope: 'row' }, f.path, el('br'), el('span', { class: 'state' }, CHANGE_TEXT[f.change])),
    cell('base'), cell('local'), cell('remote'))
}

// ---- object history ----

function historyButton (uid) {
  return el('button', { type: 'button', onclick: () => showHistory(uid), 'data-testid': 'history-of-' + uid }, 'History')
}

function when (ms) { return ms === null || ms === undefined ? '—' : new Date(ms).toLocaleString() }

async function showHistory (uid) {
  $('history-uid').value = uid
  const box = $('history')
  box.replaceChildren(el('p', { class: 'muted' }, 'Loading the history of ' + uid + '…'))
  let h
  try {
    h = await api('GET', '/api/objects/' + encodeURIComponent(uid) + '/history')
  } catch (err) {
    if (err instanceof Unauthorized) return showLogin('The object history needs the admin token.')
    box.replaceChildren(el('p', { class: 'error' }, err.message))
    return
  }
  const rows = h.entries.map((e, i) => el('tr', { class: 'event-' + e.event + (e.signature === 'bad' ? ' bad' : ''), 'data-testid': 'history-row' },
    el('td', {}, String(i + 1)),
    el('td', {}, e.event),
    el('td', { class: 'mono' }, JSON.stringify(e.vector)),
    el('td', {}, (e.origin || '?'), el('div', { class: 'muted mono' }, e.peerId || 'unsigned')),
    el('td', { class: e.signature === 'bad' ? 'error' : '' }, e.signature),
    el('td', {}, when(e.at)),
    el('td', {}, when(e.appliedAt)),
    el('td', {}, e.via || '(written here)'),
    el('td', {}, e.deleted ? 'deleted' : e.changed === null ? '(first seen here)' : e.changed.join(', ') || '(nothing)'),
    el('td', { class: e.reason ? 'error' : 'muted' }, e.reason || (e.signedId ? 'signed as id ' + e.signedId : ''))))
  const current = h.current === null ? 'holds no version of it' : 'holds ' + JSON.stringify(h.current.vector) + ' (' + h.current.signature + (h.current.conflicts ? ', ' + h.current.conflicts + ' conflict sibling(s)' : '') + ')'
  box.replaceChildren(
    el('p', {}, el('strong', {}, uid), ' ', el('span', { class: 'muted' }, current + ' · the last ' + h.retention + ' version(s) are kept')),
    el('div', { class: 'scroll' }, el('table', { class: 'history' },
      el('thead', {}, el('tr', {}, ...['#', 'event', 'vector', 'origin / signer', 'signature', 'written there', 'applied here', 'via', 'changed', 'note'].map((t) => el('th', { scope: 'col' }, t)))),
      el('tbody', {}, ...rows))))
}

// the failed queue by reason code: each group with its count, the messages behind it, Retry all, and its objects
function renderFailed () {
  const summary = state.failedSummary
  if (!summary || summary.total === 0) { $('failed').replaceChildren(el('li', { class: 'muted' }, 'Nothing parked.')); return }
  $('failed').replaceChildren(...summary.groups.map(renderFailedGroup))
}

// a small group shows its objects until someone folds it; a large one only when unfolded
function groupOpen (g) { return state.groupOpen[g.code] ?? g.count <= 20 }

function renderFailedGroup (g) {
  const items = state.failed.filter((f) => f.code === g.code)
  const retryAll = async (event) => {
    event.target.disabled = true
    try {
      const r = await api('POST', '/api/failed/groups/' + encodeURIComponent(g.code) + '/retry')
      say('Retried ' + r.retried + ' object(s) with ' + g.code + ': ' + r.applied + ' applied, ' + r.parked + ' still parked')
    } catch (err) {
      if (err instanceof Unauthorized) showLogin('Retrying needs the admin token.')
      else say('Could not retry ' + g.code + ': ' + err.message)
    }
    await refresh(['status', 'failed']).catch(() => {})
  }
  const peers = Object.entries(g.peers).map(([p, count]) => p + ' ' + n(count)).join(', ')
  const others = g.distinctMessages - g.messages.length
  return el('li', { class: 'card group', 'data-testid': 'failed-group-' + g.code },
    el('strong', {}, g.code), ' ', el('span', { class: 'badge', 'data-testid': 'failed-group-count-' + g.code }, n(g.count)), ' ',
    el('span', { class: 'muted' }, 'from ' + peers + ' · up to ' + g.maxAttempts + ' attempt(s) · next retry ' + new Date(g.nextRetryAt).toLocaleTimeString()),
    el('ul', { class: 'messages' }, ...g.messages.map((m) => el('li', { class: 'error' }, n(m.count) + ' × ' + m.reason)),
      ...(others > 0 ? [el('li', { class: 'muted' }, others + ' other message(s)')] : [])),
    el('div', { class: 'actions' }, el('button', { type: 'button', onclick: retryAll, 'data-testid': 'retry-group-' + g.code }, 'Retry all ' + n(g.count))),
    el('details', { ...(groupOpen(g) ? { open: '' } : {}), ontoggle: (event) => { state.groupOpen[g.code] = event.target.open } },
      el('summary', {}, 'Objects' + (items.length < g.count ? ' (the first ' + n(items.length) + ' of ' + n(g.count) + ')' : '')),
      el('ul', {}, ...items.map(renderFailure))))
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
    el('div', { class: 'actions' }, el('button', { type: 'button', onclick: retry, 'data-testid': 'retry-' + f.uid }, 'Retry now'), historyButton(f.uid)))
}

// ---- invitations, joining, reloading ----

function renderInvites (items) {
  const shown = items.filter((i) => i.state !== 'expired')
  $('invites').replaceChildren(...shown.map((i) => el('li', { class: 'card', 'data-testid': 'invite-' + i.id },
    el('strong', {}, i.state === 'used' ? 'used' : 'open'), ' ',
    el('span', { class: 'muted' }, 'invitation ' + i.id + (i.pull ? ' · pull' : '') + (i.name ? ' · as ' + i.name : '') +
      (i.state === 'used' ? ' · joined as ' + (i.usedName || '?') + ' ' + ago(i.usedAt) : ' · valid until ' + new Date(i.expiresAt).toLocaleString())),
    i.state === 'open' ? el('button', { type: 'button', class: 'small', onclick: () => revokeInvite(i.id), 'data-testid': 'revoke-' + i.id }, 'Revoke') : '')))
}

async function loadInvites () {
  try {
    renderInvites((await api('GET', '/api/invites')).items)
  } catch (err) {
    // the list is the admin's: under publicStatus without a token it stays empty
    if (!(err instanceof Unauthorized)) say('Could not list invitations: ' + err.message)
  }
}

async function revokeInvite (id) {
  try {
    await api('DELETE', '/api/invites/' + encodeURIComponent(id))
    await loadInvites()
  } catch (err) {
    if (err instanceof Unauthorized) showLogin('Revoking an invitation needs the admin token.')
    else say('Could not revoke: ' + err.message)
  }
}

function problemText (err) {
  const issues = err.details && err.details.issues
  return issues ? err.message.split('\n')[0] + ' ' + issues.map((i) => i.path + ': ' + i.message).join('; ') : err.message
}

async function createInvite (event) {
  event.preventDefault()
  const button = event.submitter || $('invite-form').querySelector('button[type=submit]')
  button.disabled = true
  try {
    const name = $('invite-name').value.trim()
    const invite = await api('POST', '/api/invites', { pull: $('invite-pull').checked, expires: $('invite-expires').value, ...(name ? { name } : {}) })
    $('invite-code').value = invite.code
    $('invite-valid').textContent = '(single use, valid until ' + new Date(invite.expiresAt).toLocaleString() + ')'
    $('invite-result').hidden = false
    $('invite-code').select()
    say('')
    await loadInvites()
  } catch (err) {
    if (err instanceof Unauthorized) showLogin('Creating an invitation needs the admin token.')
    else say('Could not create an invitation: ' + problemText(err))
  } finally {
    button.disabled = false
  }
}

async function copyInvite () {
  $('invite-code').select()
  try {
    await navigator.clipboard.writeText($('invite-code').value)
    $('invite-copy').textContent = 'Copied'
  } catch {
    $('invite-copy').textContent = 'Selected: press Ctrl+C'
  }
}

async function joinAgent (event) {
  event.preventDefault()
  const button = event.submitter || $('join-form').querySelector('button[type=submit]')
  const result = $('join-result')
  button.disabled = true
  result.className = 'muted'
  result.textContent = 'Joining…'
  try {
    const name = $('join-name').value.trim()
    const joined = await api('POST', '/api/join', { code: $('join-code').value.trim(), pull: $('join-pull').checked, ...(name ? { name } : {}) })
    result.className = 'ok'
    result.textContent = 'Joined ' + joined.peer.domain + ' as peer "' + joined.peer.name + '"' + (joined.peer.pull ? ', pulling from it' : '') + '; it lists this agent as "' + joined.nameThere + '".'
    $('join-code').value = ''
    await refresh(['status'])
  } catch (err) {
    result.className = 'error'
    if (err instanceof Unauthorized) { result.textContent = ''; showLogin('Joining needs the admin token.') } else result.textContent = (err.code ? err.code + ': ' : '') + problemText(err)
  } finally {
    button.disabled = false
  }
}

async function reloadConfig () {
  $('reload').disabled = true
  try {
    const r = await api('POST', '/api/config/reload')
    const changes = [r.added.length ? 'added ' + r.added.join(', ') : '', r.removed.length ? 'removed ' + r.removed.join(', ') : '', r.changed.length ? 'changed ' + r.changed.join(', ') : ''].filter(Boolean)
    say('')
    $('live').textContent = 'config reloaded: ' + (changes.length ? changes.join('; ') : 'nothing changed')
    await refresh(['status'])
  } catch (err) {
    if (err instanceof Unauthorized) showLogin('Reloading the config needs the admin token.')
    else say('Config not reloaded, nothing changed: ' + problemText(err))
  } finally {
    $('reload').disabled = false
  }
}

// objects the echo-loop guard holds: what bounces, what was written and what the instance shows, and Release
function renderEchoLoops () {
  const s = state.status
  const held = s && s.echoLoops ? s.echoLoops : []
  $('echo-count').textContent = String(s ? s.echoHeld || 0 : 0)
  $('echo').replaceChildren(...(held.length === 0 ? [el('li', { class: 'muted' }, 'No echo loops.')] : held.map(renderEchoLoop)))
}

function renderEchoLoop (h) {
  const release = async (event) => {
    event.target.disabled = true
    try {
      const r = await api('POST', '/api/echo-loops/' + encodeURIComponent(h.uid) + '/release')
      say('Released ' + h.id + (r.recorded ? ': its held instance edit is recorded and sent out' : ''))
    } catch (err) {
      event.target.disabled = false
      if (err instanceof Unauthorized) showLogin('Releasing needs the admin token.')
      else say('Could not release ' + h.id + ': ' + err.message)
    }
    await refresh(['status']).catch(() => {})
  }
  return el('li', { class: 'card', 'data-testid': 'echo-' + h.uid },
    el('strong', {}, h.type + ' ' + h.id), ' ',
    el('span', { class: 'muted' }, h.uid + ' · with ' + h.peer + ' · held ' + ago(h.since) + ' after ' + h.bounces + ' bounce(s)' + (h.resumed ? ' (again)' : '') + ' · comes back changed in ' + h.back.join(', ')),
    el('table', { class: 'versions' },
      el('caption', { class: 'muted' }, 'Fields the instance changes in every version written into it'),
      el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'field'), el('th', { scope: 'col' }, 'written by the agent'), el('th', { scope: 'col' }, 'the instance shows'))),
      el('tbody', {}, ...h.diff.map((d) => el('tr', { class: 'diff' }, el('th', { scope: 'row' }, d.field), el('td', {}, d.written), el('td', {}, d.reported))))),
    el('div', { class: 'actions' }, el('button', { type: 'button', onclick: release, 'data-testid': 'release-' + h.uid }, 'Release')))
}

// ---- data flow ----

async function refresh (parts = ['status', 'conflicts', 'failed']) {
  const [status, conflicts, failed, failedSummary] = await Promise.all([
    parts.includes('status') ? api('GET', '/api/status') : null,
    parts.includes('conflicts') ? api('GET', '/api/conflicts') : null,
    parts.includes('failed') ? api('GET', '/api/failed') : null,
    parts.includes('failed') ? api('GET', '/api/failed/summary') : null
  ])
  if (status) {
    for (const p of status.peers) p.progress = mergeProgress(p.name, p.progress)
    state.status = status
    renderStatus()
  }
  if (conflicts) { state.conflicts = conflicts.items; renderConflicts() }
  if (failed) { state.failed = failed.items; state.failedSummary = failedSummary; renderFailed() }
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
  source.addEventListener('config', () => { scheduleRefresh('status'); loadInvites() })
  source.addEventListener('invite', () => loadInvites())
  source.addEventListener('echo-loop', () => scheduleRefresh('status'))
  source.addEventListener('verify', () => scheduleRefresh('status'))
}

async function start () {
  try {
    await refresh()
    $('login').hidden = true
    say('')
    listen()
    loadInvites()
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
$('invite-form').addEventListener('submit', createInvite)
$('invite-copy').addEventListener('click', copyInvite)
$('join-form').addEventListener('submit', joinAgent)
$('reload').addEventListener('click', reloadConfig)
$('history-form').addEventListener('submit', (event) => {
  event.preventDefault()
  const uid = $('history-uid').value.trim()
  if (uid) showHistory(uid)
})
setInterval(() => { if (state.status) renderStatus() }, 5000) // keeps "last contact" ages current
state.token = takeToken()
start()

/** files moving between the instance and the agent: name, percent and ETA (GET /api/status `instanceFiles`) */
function filesText (files) {
  if (!files || files.length === 0) return ''
  return files.map((t) => ' · ' + t.direction + ' ' + t.name + ' ' + (t.percent != null ? Math.floor(t.percent) + '%' : mib(t.done)) + (t.etaSeconds != null ? ', ETA ' + Math.ceil(t.etaSeconds) + ' s' : '')).join('')
}

/** a backup being taken: percent and ETA (GET /api/status `backup`) */
function backupText (b) {
  if (!b) return ''
  return ' · backup running ' + b.percent + '%' + (b.etaSeconds != null ? ', ETA ' + Math.ceil(b.etaSeconds) + ' s' : '')
}
