/**
 * The status page at `/`: plain HTML, CSS and a small script served as they
 * are (no front-end build). It reads the admin API with the token the admin
 * enters once (or that `labmesh start` prints in the URL fragment, which never
 * reaches the server) and stays live through `GET /api/events`.
 */
import { Hono } from 'hono'
import { PAGE_SCRIPT } from './page-script.js'

const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>labmesh status</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
  <h1>labmesh <span id="domain" data-testid="domain"></span></h1>
  <p id="summary" aria-live="polite"></p>
  <p id="live" class="muted" role="status">connecting…</p>
</header>
<main>
  <form id="login" hidden>
    <label for="token">Admin token <span class="muted">(from the agent's admin.token file)</span></label>
    <input id="token" type="password" autocomplete="off" required>
    <button type="submit">Show status</button>
    <p id="login-error" class="error" role="alert"></p>
  </form>
  <section aria-labelledby="peers-h">
    <h2 id="peers-h">Peers</h2>
    <table id="peers" data-testid="peers">
      <thead><tr><th scope="col">Peer</th><th scope="col">Role</th><th scope="col">Sync</th><th scope="col">Lag in / out</th><th scope="col">Pulled / served</th><th scope="col">Conflicts</th><th scope="col">Last contact</th><th scope="col">Last error</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section aria-labelledby="conflicts-h">
    <h2 id="conflicts-h">Conflicts <span id="conflict-count" class="badge"></span></h2>
    <p class="muted">Concurrent edits of the same object. Each side is kept until you choose; the choice replicates to every agent.</p>
    <ul id="conflicts" data-testid="conflicts"></ul>
  </section>
  <section aria-labelledby="failed-h">
    <h2 id="failed-h">Failed objects <span id="failed-count" class="badge"></span></h2>
    <p class="muted">Objects parked because a dependency was missing or the instance refused them; retried automatically with backoff.</p>
    <ul id="failed" data-testid="failed"></ul>
  </section>
</main>
<script src="/app.js" defer></script>
</body>
</html>
`

const PAGE_CSS = `
:root { --fg: #1b1f24; --muted: #57606a; --line: #d0d7de; --ok: #1a7f37; --down: #8c959f; --warn: #9a6700; --bad: #cf222e; --accent: #0969da; --bg-alt: #f6f8fa; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.4rem; margin: .2rem 0; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .4rem; }
.muted { color: var(--muted); } .error { color: var(--bad); }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; background: var(--bg-alt); }
.dot { display: inline-block; width: .7rem; height: .7rem; border-radius: 50%; margin-right: .4rem; vertical-align: baseline; background: var(--down); }
.dot.up { background: var(--ok); }
progress { width: 9rem; height: .9rem; vertical-align: middle; }
.badge { font-size: .8rem; background: var(--bg-alt); border: 1px solid var(--line); border-radius: 1rem; padding: 0 .5rem; }
ul { list-style: none; padding: 0; } li.card { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; margin: .5rem 0; }
button { font: inherit; padding: .25rem .7rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:focus-visible, input:focus-visible { outline: 2px solid var(--accent); outline-offset: 2px; }
.side { display: grid; grid-template-columns: 10rem 1fr 1fr; gap: 0; margin: .5rem 0; }
.side > div { padding: .2rem .4rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: .85rem; }
.side .head { font-family: inherit; font-weight: 600; background: var(--bg-alt); }
.side .diff { background: #fff8c5; }
form#login { display: grid; gap: .4rem; max-width: 28rem; margin: 1rem 0; }
input { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; }
`

export function pageRoutes (): Hono {
  const app = new Hono()
  const noStore = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }
  app.get('/', (c) => c.html(PAGE_HTML, 200, { ...noStore, 'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'" }))
  app.get('/app.js', (c) => c.body(PAGE_SCRIPT, 200, { ...noStore, 'content-type': 'text/javascript; charset=utf-8' }))
  app.get('/style.css', (c) => c.body(PAGE_CSS, 200, { ...noStore, 'content-type': 'text/css; charset=utf-8' }))
  return app
}
