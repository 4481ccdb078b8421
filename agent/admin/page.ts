/**
 * The status page at `/`: `static/index.html`, `style.css` and `app.js`,
 * served as they are — plain files, no front-end build (the package build
 * only copies them next to the compiled code). They are read on first use
 * and kept; the page's only data comes from the admin API, with the token.
 *
 * The page is public (it holds no data); a strict Content-Security-Policy
 * keeps it to its own script and its own origin.
 */
import { readFile } from 'node:fs/promises'
import { Hono } from 'hono'

const STATIC_DIR = new URL('./static/', import.meta.url)

const FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' }
} as const

const HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
}

export function pageRoutes (): Hono {
  const app = new Hono()
  const cache = new Map<string, Promise<string>>()
  const load = async (file: string): Promise<string> => {
    let text = cache.get(file)
    if (text === undefined) {
      text = readFile(new URL(file, STATIC_DIR), 'utf8')
      cache.set(file, text)
      text.catch(() => cache.delete(file)) // a failed read is retried on the next request
    }
    return await text
  }
  for (const [path, { file, type }] of Object.entries(FILES)) {
    app.get(path, async (c) => c.body(await load(file), 200, { ...HEADERS, 'content-type': type }))
  }
  return app
}
