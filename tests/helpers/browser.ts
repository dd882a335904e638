// The system's Chromium for the browser tests (Debian's `chromium`; never a downloaded one), driven by
// playwright-core. Launch arguments from RESEARCH-WAVE2.md (playwright gives each launch a fresh temporary
// profile of its own), nothing phoning home.
import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'

const CANDIDATES = [process.env.DOCKET_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

export function chromiumPath(): string | null {
  return CANDIDATES.find((p): p is string => p !== undefined && p !== '' && existsSync(p)) ?? null
}

/** Where the browser tests put their screenshots (tests/output/browser, or DOCKET_TEST_OUTPUT). */
export function outputDir(): string {
  const dir = process.env.DOCKET_TEST_OUTPUT ?? new URL('../output/browser', import.meta.url).pathname
  mkdirSync(dir, { recursive: true })
  return dir
}

export type Chromium = { browser: Browser; context: BrowserContext; close(): Promise<void> }

export async function launchChromium(executablePath: string): Promise<Chromium> {
  const browser = await chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  return {
    browser,
    context,
    async close() {
      await context.close()
      await browser.close()
    },
  }
}
