import { readFileSync } from 'node:fs'

/** The version of the installed package: src/config/version.ts and dist/config/version.js both sit two folders down. */
export function plinthVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  return (manifest as { version: string }).version
}
