import { execFile } from 'node:child_process'
import { expect } from 'vitest'
import { CLI } from './server-process.js'

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** The surrounding shell's PLINTH_* settings must not pick the database of a test. */
export const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('PLINTH_')),
)

/**
 * The built `plinth` command run as a child process, the way a user runs it. `npm test` builds
 * first; run `npm run build` before running a file that uses it alone.
 */
export function runPlinth(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...childEnv, ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}

/** A failure is one line on stderr, never a stack trace. */
export function expectOneLineFailure(run: CliRun, reason: RegExp): void {
  expect(run.code, run.stdout).toBe(1)
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1)
  expect(run.stderr).toMatch(reason)
  expect(run.stderr).not.toMatch(/^\s+at /m)
}
