/**
 * Writing a file so that a reader (or a crash) sees either the old content or
 * the new, never a mix: a temporary file beside it, fsynced, renamed over it,
 * and the directory fsynced so that the rename itself survives a power cut.
 * The file keeps its mode (a config may hold no secrets, but the admin chose
 * its permissions); a new file gets `mode`.
 */
import { randomBytes } from 'node:crypto'
import { open, rename, stat, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export async function writeFileAtomic (file: string, content: string, mode = 0o644): Promise<void> {
  const dir = dirname(file)
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const keepMode = await stat(file).then((s) => s.mode & 0o777, () => mode)
  const handle = await open(temp, 'wx', keepMode)
  try {
    await handle.writeFile(content, 'utf8')
    await handle.chmod(keepMode)
    await handle.sync()
  } catch (err) {
    await handle.close().catch(() => {})
    await unlink(temp).catch(() => {})
    throw err
  }
  await handle.close()
  try {
    await rename(temp, file)
  } catch (err) {
    await unlink(temp).catch(() => {})
    throw err
  }
  await syncDir(dir)
}

async function syncDir (dir: string): Promise<void> {
  // some filesystems refuse to open or fsync a directory; the rename has happened either way
  const handle = await open(dir, 'r').catch(() => undefined)
  if (handle === undefined) return
  try {
    await handle.sync()
  } catch {
    // as above
  } finally {
    await handle.close()
  }
}
