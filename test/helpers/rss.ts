/**
 * Memory of agent processes as the kernel counts it (Linux /proc): the peak
 * resident set of a process's whole life (VmHWM), and the largest VmRSS of
 * several processes sampled while something runs.
 */
import { readFileSync } from 'node:fs'

const MiB = 1024 * 1024

/** One field of /proc/<pid>/status in MiB (kB there), or NaN when the process is gone. */
function statusMiB (pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`))
    return line === undefined ? Number.NaN : Math.round(Number(line.split(/\s+/)[1]) * 1024 / MiB * 10) / 10
  } catch {
    return Number.NaN
  }
}

/** The peak RSS of the process's whole life so far, MiB. */
export async function peakRss (pid: number): Promise<number> {
  return statusMiB(pid, 'VmHWM')
}

/** Sample VmRSS of `pids()` every `intervalMs` until stop(), which returns each pid's largest sample (MiB). */
export function sampleRss (pids: () => readonly number[], intervalMs = 100): { stop: () => Record<number, number> } {
  const max: Record<number, number> = {}
  const timer = setInterval(() => {
    for (const pid of pids()) {
      const rss = statusMiB(pid, 'VmRSS')
      if (!Number.isNaN(rss)) max[pid] = Math.max(max[pid] ?? 0, rss)
    }
  }, intervalMs)
  return { stop: () => { clearInterval(timer); return { ...max } } }
}
