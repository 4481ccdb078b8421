/**
 * Runs async work one at a time per key (a sample whose analyses the
 * factory adds, the leftover search of one container): calls for the same
 * key wait for the one before; other keys run alongside.
 */
export interface Serial {
  run<T> (key: string, work: () => Promise<T>): Promise<T>
}

export function createSerial (): Serial {
  const tails = new Map<string, Promise<unknown>>()
  return {
    async run<T> (key: string, work: () => Promise<T>): Promise<T> {
      const before = tails.get(key) ?? Promise.resolve()
      const mine = before.then(work, work)
      const tail = mine.catch(() => {})
      tails.set(key, tail)
      try {
        return await mine
      } finally {
        // the last in line clears the key, so the map holds only keys with work in flight
        if (tails.get(key) === tail) tails.delete(key)
      }
    }
  }
}
