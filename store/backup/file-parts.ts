/**
 * The seam for files kept beside LevelDB (blobs): a backup part is a set of
 * IMMUTABLE files, listed at the moment of the store's snapshot and copied
 * after it. Immutability is what makes that consistent: a file listed is
 * never rewritten, only removed (garbage collection, after a grace period
 * longer than a backup takes), and every file an object in the snapshot
 * references was present when that object was committed (an object is
 * applied only once its blobs are). A file that appeared after the snapshot
 * is harmless in a restore (unreferenced: collected after the grace).
 *
 * Files being written (uploads, partial downloads) are not part of it:
 * `directoryPart` takes only paths its filter accepts (for the blob store,
 * `sha256/…`: verified, whole blobs).
 */
import { createReadStream } from 'node:fs'
import { readdir, stat } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'

export interface BackupFilePart {
  /** directory name of the part inside a backup, e.g. `blobs` */
  readonly part: string
  /** the files present now, relative names with `/` */
  list (): Promise<Array<{ readonly name: string, readonly size: number }>>
  read (name: string): AsyncIterable<Uint8Array>
}

/** A part made of the files under `dir` that `include` accepts (relative path with `/`). */
export function directoryPart (part: string, dir: string, include: (name: string) => boolean = () => true): BackupFilePart {
  return {
    part,
    list: async () => {
      const out: Array<{ name: string, size: number }> = []
      let entries: string[]
      try {
        entries = await readdir(dir, { recursive: true })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out
        throw err
      }
      for (const entry of entries.sort()) {
        const name = relative(dir, join(dir, entry)).split(sep).join('/')
        if (!include(name)) continue
        const s = await stat(join(dir, entry)).catch(() => undefined)
        if (s?.isFile() === true) out.push({ name, size: s.size })
      }
      return out
    },
    read: (name) => createReadStream(join(dir, ...name.split('/')))
  }
}
