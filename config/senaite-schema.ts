/**
 * `instance: {kind: senaite}`: where the lab's SENAITE site is and how to
 * reach it. The connector itself lives in agent/connectors/senaite/.
 */
import { z } from 'zod'
import { durationSchema } from './duration.js'

/** 320 MiB: its base64 (427 Mi characters) still fits a JavaScript string with the JSON around it */
export const MAX_SENAITE_FILE_BYTES = 320 * 1024 * 1024

export const senaiteInstanceSchema = z.strictObject({
  kind: z.literal('senaite'),
  /** site URL including the portal path, e.g. https://lims.lab-a.local/senaite */
  url: z.string().url(),
  username: z.string().min(1),
  /** file holding the password (relative to the config file) */
  passwordFile: z.string().min(1).optional(),
  /** environment variable holding the password, when no passwordFile is given */
  passwordEnv: z.string().min(1).optional(),
  /** trust this certificate (PEM) for HTTPS: the add-on's "Certificate Path" */
  caFile: z.string().min(1).optional(),
  pollInterval: durationSchema.prefault('30s'),
  pageSize: z.number().int().min(1).max(1000).default(100),
  /** API calls in flight at once */
  concurrency: z.number().int().min(1).max(64).default(8),
  /**
   * largest file (attachment, method document) taken from or written to the
   * site; larger ones are refused with SENAITE_FILE_TOO_LARGE. The JSON API
   * takes a file as base64 inside one JSON body, held in memory while sent
   * (a JavaScript string holds at most ~512 Mi characters): 320 MiB at most
   */
  maxFileBytes: z.number().int().min(1024).max(MAX_SENAITE_FILE_BYTES).default(100 * 1024 * 1024),
  /**
   * the site's layout: `auto` detects it; `1.x` / `2.x` accept any release of
   * that family (detected); `1.3`, `2.0-2.4`, `2.5`, `2.6` name it. A site
   * that answers as another is refused at start.
   */
  layout: z.enum(['auto', '2.x', '1.x', '1.3', '2.0-2.4', '2.5', '2.6']).default('auto')
}).refine((s) => s.passwordFile !== undefined || s.passwordEnv !== undefined, {
  message: 'needs passwordFile or passwordEnv', path: ['passwordFile']
})
