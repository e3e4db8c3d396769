import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

/** Debian's Chromium (`apt-get install -y chromium`); nothing ever downloads a browser. */
export const CHROMIUM = process.env.GALLEY_CHROMIUM ?? '/usr/bin/chromium'

/** ../shared/DESIGN.md's flags: without the background-networking ones Chromium floods the closed network. */
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

export interface TestBrowser {
  readonly context: BrowserContext
  readonly page: Page
  /** Console errors and uncaught exceptions seen so far (HTTP 4xx answers the UI shows are left out). */
  readonly consoleErrors: string[]
  close(): Promise<void>
}

/**
 * One Chromium with a fresh profile and one page. Fails with the install command when the browser
 * is missing: the browser tests never skip silently.
 */
export async function launchBrowser(opts: { width?: number; height?: number } = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: the dashboard's browser tests need Debian's package ` +
        '(apt-get install -y chromium; .ci/run installs it). No browser is ever downloaded.',
    )
  const profile = mkdtempSync(join(tmpdir(), 'galley-chromium-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: FLAGS,
      viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
      colorScheme: 'light',
      timeout: 30_000,
    })
  } catch (err) {
    rmSync(profile, { recursive: true, force: true })
    throw err
  }
  const page = context.pages()[0] ?? (await context.newPage())
  page.setDefaultTimeout(10_000)
  const consoleErrors: string[] = []
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    // The browser logs every 4xx the UI asked for (a bad filter, a validation error) as a failed
    // resource load; those errors are shown on the page and checked there.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) return
    consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => consoleErrors.push(`uncaught: ${e.message}`))
  return {
    context,
    page,
    consoleErrors,
    async close() {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    },
  }
}

const require = createRequire(import.meta.url)
let axeSource: string | undefined

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: string[] }[]
}

/**
 * axe-core on the page as it is (evaluated through the DevTools protocol, so the page's CSP stays
 * on): the serious and critical violations, as readable lines.
 */
export async function axeViolations(page: Page): Promise<string[]> {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
  // (strings: this file is compiled for Node, without the DOM's types)
  if ((await page.evaluate('typeof axe')) === 'undefined') await page.evaluate(axeSource)
  const { violations, checked } = (await page.evaluate(`axe
    .run(document, { resultTypes: ['violations'] })
    .then((r) => ({ violations: r.violations, checked: r.passes.length + r.violations.length }))`)) as {
    violations: AxeViolation[]
    checked: number
  }
  if (checked < 5) throw new Error(`axe checked only ${checked} rules: it did not run on the page`)
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
}
