import { createCore } from './dist/core/index.js'
import { loadConfig } from './dist/config/index.js'
import { superuser } from './dist/identity/index.js'
import { mkdtempSync } from 'node:fs'
const dir = mkdtempSync('/tmp/prof-')
const core = await createCore(loadConfig({ PLINTH_LOG_LEVEL: 'silent' }, { dataDir: dir, sqliteSync: process.env.SYNC ?? 'full' }))
await core.collections.create({ name: 'posts', fields: [{ name: 'title', type: 'text' }], createRule: '' })
for (let round = 0; round < 3; round++) {
const N = 3000
const t0 = performance.now()
await Promise.all(Array.from({ length: 10 }, async (_, w) => { for (let i = 0; i < N / 10; i++) await core.records.create(superuser, 'posts', { title: `t${round}-${w}-${i}` }) }))
console.log(`${(N / (performance.now() - t0) * 1000).toFixed(0)} creates/s`)
}
await core.close()
