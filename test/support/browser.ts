// Launches Debian's headless Chromium through playwright-core for end-to-end tests: a fresh profile per
// launch (playwright-core makes a throwaway user data dir for every launch, so no cookies, cache or
// consent carry between tests) and a close on the test's teardown.
import { chromium, type Browser } from 'playwright-core'
import type { Test } from 'tap'

export const CHROMIUM_PATH = '/usr/bin/chromium'

/** Flags for a quiet, offline-friendly headless run inside a container (no sandbox, no background traffic). */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run'
]

/**
 * A headless Chromium for this test. Contexts made with `browser.newContext()` are isolated from each
 * other like separate browsers (separate cookie jars); the whole browser closes on teardown.
 */
export async function launchBrowser (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: 30_000 })
  t.teardown(async () => { await browser.close().catch(() => undefined) })
  return browser
}
