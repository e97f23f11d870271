import { readPackageFile } from './package-files.js'

/** The version of the installed package. */
export function plinthVersion(): string {
  return (JSON.parse(readPackageFile('package.json')) as { version: string }).version
}
