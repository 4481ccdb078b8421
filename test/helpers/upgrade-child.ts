/**
 * A process that opens a store — running its pending upgrade steps — and
 * prints each upgrade progress report as a JSON line on stdout, then closes
 * it and exits: the upgrade tests SIGKILL it in the middle of a step.
 *
 *   node dist/test/helpers/upgrade-child.js <store location> <domain>
 */
import { createLevelStore } from '../../store/level-store.js'

const [location, domain] = process.argv.slice(2)
if (location === undefined || domain === undefined) throw new Error('usage: upgrade-child.js <store location> <domain>')
const store = createLevelStore({ location, domain, onUpgradeProgress: (p) => { process.stdout.write(JSON.stringify(p) + '\n') } })
await store.open()
await store.close()
process.stdout.write(JSON.stringify({ closed: true }) + '\n')
