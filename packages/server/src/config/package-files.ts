import { readFileSync } from 'node:fs'

/**
 * A file of the installed package (`package.json`, `public/…`). This module sits two
 * folders below the package root wherever it runs from: src/config/ under Vitest,
 * dist/config/ as compiled, and dist/bundle/ inside the server's bundle.
 */
export function packageFile(path: string): URL {
  return new URL(`../../${path}`, import.meta.url)
}

export function readPackageFile(path: string): string {
  return readFileSync(packageFile(path), 'utf8')
}
