// Bundles the compiled server (dist/) into dist/bundle/, which bin/plinth.js runs. Loading
// modules one file at a time (found, read, compiled and linked each on its own) was most of a
// cold start: Plinth's own modules, and the packages a start needs with everything they
// import, now load as a few files (about 60 files from node_modules at start, from about 600).
// Other packages stay where npm put them: native addons and what loads them, packages that
// find files of their own at run time (pino's transports, the admin app, Swagger UI), and the
// clients that load only where configured (those stay out by not being named below).

import { rmSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const packageRoot = fileURLToPath(new URL('..', import.meta.url))
/** Packages Plinth imports that every start loads: each goes in with the packages it imports. */
const STARTUP_PACKAGES = [
  'kysely',
  '@sinclair/typebox',
  'jose',
  'uuid',
  'fastify',
  'fastify-plugin',
  '@fastify/ajv-compiler',
  '@fastify/cookie',
  '@fastify/cors',
  '@fastify/multipart',
  '@fastify/rate-limit',
  '@fastify/static',
  '@fastify/websocket',
  '@opentelemetry/api',
  'ajv',
  'ajv-formats',
  'commander',
  'content-disposition',
  'croner',
  'helmet',
  'lru-cache',
  'prom-client',
  'range-parser',
  'request-filtering-agent',
  'secure-json-parse',
  'tar',
]
const packageName = (id) => id.split('/', id.startsWith('@') ? 2 : 1).join('/')
const NEVER_BUNDLED = new Set([
  'better-sqlite3',
  'bindings',
  'file-uri-to-path',
  'pino',
  'pino-pretty',
  // ws loads these native helpers when they are installed.
  'bufferutil',
  'utf-8-validate',
])
/** Left where npm put it whoever imports it: Node's own modules, and the packages above. */
const isAlwaysOutside = (id) => isBuiltin(id) || NEVER_BUNDLED.has(packageName(id))
const OUT = `${packageRoot}dist/bundle`

rmSync(OUT, { recursive: true, force: true })
const { output } = await build({
  cwd: packageRoot,
  input: { main: 'dist/cli/main.js' },
  platform: 'node',
  external(id, importer) {
    if (id.startsWith('.') || id.startsWith('/') || id.startsWith('\0')) return false
    if (isAlwaysOutside(id)) return true
    // Imported by a bundled package: it comes along.
    if (importer?.includes('/node_modules/')) return false
    return !STARTUP_PACKAGES.includes(packageName(id))
  },
  // Every chunk sits in dist/bundle/, two folders below the package root as dist/config/ is,
  // so the files it reads relative to itself (config/package-files.ts) are found the same way.
  output: {
    dir: OUT,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    // V8 keeps a module's source while the module lives, in two bytes a character if any one
    // is past Latin-1 (a quote or an arrow in a comment will do): escaped, with names, layout
    // and licences kept but the doc comments left out, the sources a start loads take 5 MB of
    // heap, not 9.
    comments: { legal: true, annotation: false, jsdoc: false },
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: false, asciiOnly: true } },
  },
  logLevel: 'warn',
})

// A package a start loads but not named above would stay out of the bundle and load file by
// file again, costing the start what bundling saved without failing anything: refuse it here.
const chunks = new Map(output.filter((file) => file.type === 'chunk').map((chunk) => [chunk.fileName, chunk]))
const loadedAtStart = new Set()
const unbundled = new Set()
const pending = [...chunks.values()].filter((chunk) => chunk.isEntry)
for (let chunk = pending.pop(); chunk; chunk = pending.pop()) {
  if (loadedAtStart.has(chunk.fileName)) continue
  loadedAtStart.add(chunk.fileName)
  for (const imported of chunk.imports) {
    const local = chunks.get(imported)
    if (local) pending.push(local)
    else if (!isAlwaysOutside(imported)) unbundled.add(imported)
  }
}
if (unbundled.size > 0) {
  console.error(
    `Every start would load ${[...unbundled].join(', ')} from node_modules one file at a time. ` +
      'Name the package in STARTUP_PACKAGES (scripts/bundle.js), or import it where it is used with await import().',
  )
  process.exit(1)
}
