/**
 * `POST /api/backup`: a backup of the running agent, streamed as frames
 * (store/backup/format.ts, media type BACKUP_MEDIA_TYPE). The response
 * streams with back-pressure: a frame is made when the client reads, so a
 * slow client holds the store's snapshot longer, never more memory. A
 * failure after the first byte cannot change the status any more: it is
 * sent as an `error` frame, and the receiver keeps nothing. A client that
 * goes away ends the backup and releases the snapshot.
 */
import { Hono } from 'hono'
import { AgentError, describeError } from '../../protocol/errors.js'
import { BACKUP_MEDIA_TYPE, encodeFrame } from '../../store/backup/format.js'
import type { AdminDeps } from './deps.js'

export function backupRoutes (deps: AdminDeps): Hono {
  const app = new Hono()
  app.post('/backup', async () => {
    const frames = deps.backup()[Symbol.asyncIterator]()
    // the first frame before the answer: a refusal (another backup runs, the store is closed) is still an HTTP error
    const first = await frames.next()
    let pending = first.done === true ? undefined : first.value
    let ended = first.done === true
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (pending !== undefined) {
          controller.enqueue(encodeFrame(pending))
          pending = undefined
          return
        }
        if (ended) { controller.close(); return }
        try {
          const next = await frames.next()
          if (next.done === true) {
            ended = true
            controller.close()
          } else {
            controller.enqueue(encodeFrame(next.value))
          }
        } catch (err) {
          ended = true
          deps.log.warn({ err: describeError(err) }, 'backup stream failed')
          controller.enqueue(encodeFrame({ header: { k: 'error', code: err instanceof AgentError ? err.code : 'INTERNAL', message: describeError(err) } }))
          controller.close()
        }
      },
      cancel: async () => {
        deps.log.warn('backup client went away: backup abandoned')
        await frames.return?.(undefined)
      }
    }, { highWaterMark: 1 })
    return new Response(body, { headers: { 'content-type': BACKUP_MEDIA_TYPE, 'cache-control': 'no-store' } })
  })
  return app
}
