import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AxeBuilder } from '@axe-core/playwright'
import { type BrowserContext, chromium, type Page } from 'playwright-core'

/** Debian's chromium (`apt-get install chromium`); `.ci/run` installs it. */
export const CHROMIUM = '/usr/bin/chromium'
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
/** Screenshots of the pages a test went through, for a person to look at (gitignored). */
export const ARTIFACTS = fileURLToPath(new URL('../artifacts/', import.meta.url))

/**
 * Why browser tests cannot run here, or null when they can. Under CI=true a missing browser is
 * a failure rather than a skip, so a CI machine cannot pass without running them.
 */
export function browserSkipReason(): string | null {
  if (existsSync(CHROMIUM)) return null
  const reason = `no chromium at ${CHROMIUM} (install it with: apt-get install chromium)`
  if (process.env.CI === 'true')
    throw new Error(`browser tests must run under CI=true, but there is ${reason}`)
  return reason
}

export interface Browser {
  page: Page
  context: BrowserContext
  close: () => Promise<void>
}

/** Chromium with a fresh profile of its own, so no cookie or storage of another run leaks in. */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'plinth-chromium-'))
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 800 },
  })
  // A fresh machine's first page waits for Chromium to build its font caches: allow for it.
  context.setDefaultTimeout(90_000)
  const page = context.pages()[0] ?? (await context.newPage())
  return {
    page,
    context,
    close: async () => {
      await context.close()
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

/** The serious and critical accessibility violations axe finds on the page, one line each. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const { violations } = await new AxeBuilder({ page }).analyze()
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes
          .map((node) => node.target.join(' '))
          .join(', ')}`,
    )
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** Resolves once the page shows no loading state any more. */
export async function settled(page: Page): Promise<void> {
  await page
    .getByRole('status')
    .filter({ hasText: /^Loading/ })
    .first()
    .waitFor({ state: 'detached' })
}
