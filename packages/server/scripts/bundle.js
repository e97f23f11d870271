// Bundles the compiled server (dist/) into dist/bundle/, which bin/plinth.js runs. Loading
// several hundred small ES modules one by one took about a third of a cold start; Plinth's own
// modules and the ES-module packages it needs at start then load as a few files. Other packages
// stay where npm put them: native addons, packages that find files of their own at run time
// (pino's transports, the admin app, Swagger UI), and clients that load only where configured.
import { rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))
const BUNDLED_PACKAGES = /^(kysely|@sinclair\/typebox|jose|uuid)(\/|$)/
const OUT = `${packageRoot}dist/bundle`

rmSync(OUT, { recursive: true, force: true })
await build({
  cwd: packageRoot,
  input: { main: 'dist/cli/main.js' },
  platform: 'node',
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !BUNDLED_PACKAGES.test(id),
  // Every chunk sits in dist/bundle/, two folders below the package root as dist/config/ is,
  // so the files it reads relative to itself (config/package-files.ts) are found the same way.
  output: { dir: OUT, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  logLevel: 'warn',
})
