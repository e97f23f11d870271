/**
 * The direction of imports between the folders of src/, checked in `npm test`.
 * Each folder may import its own layer and the ones below it, never one above.
 * Route modules (`routes.ts`, `*-routes.ts`) bind a domain to HTTP: they sit on top
 * of every service, so they may import any domain but the app factory and the CLI.
 */
const layers = [
  ['errors', 'config', 'crypto'],
  ['metrics', 'telemetry'],
  ['db'],
  ['cluster'],
  ['jobs'],
  ['collections'],
  ['identity'],
  ['query'],
  ['rules'],
  ['records'],
  ['mail', 'security', 'files', 'logs'],
  ['auth'],
  ['events'],
  ['cache'],
  ['realtime'],
  ['idempotency'],
  ['openapi'],
  ['admin'],
  ['extensions'],
  ['backups', 'settings'],
  ['core'],
  ['imports'],
  ['http'],
  ['cli'],
]

const folder = (names) => `^src/(${names.join('|')})/`
const ROUTES = '[/-]routes\\.ts$'

const layerRules = layers.slice(0, -1).map((own, index) => ({
  name: `${own.join('-')}-imports-upward`,
  comment: `${own.join(', ')} must not import a higher layer (${layers
    .slice(index + 1)
    .flat()
    .join(', ')})`,
  severity: 'error',
  from: { path: folder(own), pathNot: ROUTES },
  to: { path: folder(layers.slice(index + 1).flat()) },
}))

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'routes-import-the-app',
      comment: 'route modules are registered by the app factory; they never import it or the CLI',
      severity: 'error',
      from: { path: ROUTES },
      to: { path: folder(['core', 'http', 'cli']) },
    },
    {
      name: 'no-circular',
      comment: 'modules must not import each other in a loop (types alone vanish at run time)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'production-imports-tests',
      comment: 'shipped code must not import tests or their support',
      severity: 'error',
      from: { pathNot: '\\.test\\.ts$|^src/test-support/' },
      to: { path: '\\.test\\.ts$|^src/test-support/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.test\\.ts$|^src/test-support/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
}
