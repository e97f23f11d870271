import { hash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

export interface DocsAsset {
  body: Buffer
  contentType: string
  /** A digest of the body: the ETag, and the `?v=` that makes long caching safe across upgrades. */
  digest: string
}

export interface SwaggerUi {
  /** The HTML of /api/docs. */
  page: string
  /** The files under /api/docs/, by file name. */
  assets: ReadonlyMap<string, DocsAsset>
}

const JS = 'text/javascript; charset=utf-8'

const packagedFiles: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': JS,
  'favicon-32x32.png': 'image/png',
}

// A file of its own rather than an inline script, so a strict Content-Security-Policy
// (script-src 'self') can be applied to the page without exceptions.
const initializer = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: 'openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  })
})
`

function asset(body: Buffer, contentType: string): DocsAsset {
  return { body, contentType, digest: hash('sha256', body, 'base64url').slice(0, 16) }
}

/**
 * The package's main module evaluates the whole browser bundle in Node; its
 * absolute-path module only tells where the files are.
 */
function swaggerUiDirectory(): string {
  const require = createRequire(import.meta.url)
  const getAbsoluteFSPath = require('swagger-ui-dist/absolute-path.js') as () => string
  return getAbsoluteFSPath()
}

let loaded: SwaggerUi | undefined

/**
 * The reference UI's files, read and digested on the first request for them and then
 * kept for the process: most servers never serve them, and a start should not wait for
 * a megabyte and a half to be read and hashed.
 */
export function swaggerUi(): SwaggerUi {
  loaded ??= loadSwaggerUi()
  return loaded
}

function loadSwaggerUi(): SwaggerUi {
  const directory = swaggerUiDirectory()
  const assets = new Map<string, DocsAsset>()
  for (const [name, contentType] of Object.entries(packagedFiles))
    assets.set(name, asset(readFileSync(join(directory, name)), contentType))
  assets.set('swagger-initializer.js', asset(Buffer.from(initializer), JS))
  const url = (name: string) => `docs/${name}?v=${assets.get(name)!.digest}`
  // Relative URLs, so the page also works behind a proxy that mounts the API under a prefix.
  const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Plinth API reference</title>
    <link rel="stylesheet" href="${url('swagger-ui.css')}">
    <link rel="icon" type="image/png" href="${url('favicon-32x32.png')}">
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${url('swagger-ui-bundle.js')}"></script>
    <script src="${url('swagger-initializer.js')}"></script>
  </body>
</html>
`
  return { page, assets }
}
