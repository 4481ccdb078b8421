/**
 * Disk faults for real: a tiny tmpfs that fills up (needs root: `mount`),
 * a directory whose write permission is taken away (needs a process that
 * is not root, since root ignores permissions: as root, the agent is run
 * as `nobody`), and the bookkeeping around both.
 */
import { execFile } from 'node:child_process'
import { chown, mkdir, readdir, rm, statfs, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** uid/gid of `nobody`, which honours file permissions where root does not. */
export const NOBODY = { uid: 65534, gid: 65534 }

export function isRoot (): boolean {
  return process.getuid?.() === 0
}

/** Mount a tmpfs of `bytes` at `dir`; false (with the reason) where mounting is not allowed. */
export async function mountTmpfs (dir: string, bytes: number): Promise<{ ok: true } | { ok: false, reason: string }> {
  await mkdir(dir, { recursive: true })
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir])
    return { ok: true }
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0] ?? 'mount failed' }
  }
}

export async function resizeTmpfs (dir: string, bytes: number): Promise<void> {
  await run('mount', ['-o', `remount,size=${bytes}`, dir])
}

export async function unmount (dir: string): Promise<void> {
  await run('umount', ['-l', dir]).catch(() => {})
}

export async function freeBytes (dir: string): Promise<number> {
  const s = await statfs(dir)
  return s.bavail * s.bsize
}

/** Write a filler file so that about `leave` bytes stay free on the file system of `dir`. */
export async function fillUntil (dir: string, leave: number): Promise<string> {
  const file = join(dir, 'filler')
  await writeFile(file, Buffer.alloc(Math.max(0, (await freeBytes(dir)) - leave)))
  return file
}

/** Hand a directory tree to `user` (so that a process running as that user can use it). */
export async function chownTree (dir: string, user: { uid: number, gid: number }): Promise<void> {
  await chown(dir, user.uid, user.gid)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await chownTree(path, user)
    else await chown(path, user.uid, user.gid)
  }
}

export async function removeFile (file: string): Promise<void> {
  await rm(file, { force: true })
}
