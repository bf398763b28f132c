/**
 * Headless Chromium for the browser tests (Debian's chromium, driven by
 * playwright-core): launching it, and what a page must not show: console
 * errors or warnings, page errors, failed requests, error statuses and CSP
 * violations.
 */
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium. */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium (a missing binary is a failure, not a skip). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'], timeout: 60_000 });
}

/**
 * Collects the problems a page shows; `ignore` drops the ones a test
 * expects (a download ends its navigation with net::ERR_ABORTED, say).
 */
export function watch(page: Page, ignore: (problem: string) => boolean = () => false): { problems(allowed?: RegExp): string[] } {
  const found: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') found.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => found.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => found.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  page.on('response', (r) => {
    if (r.status() >= 400) found.push(`HTTP ${r.status()}: ${r.url()}`);
  });
  return { problems: (allowed) => found.filter((p) => !ignore(p) && !allowed?.test(p)) };
}

/** Records securitypolicyviolation events in the page (init scripts run outside the page's CSP). */
export async function recordViolations(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as unknown as { cspViolations: string[] };
    w.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

/** The CSP violations recorded so far. */
export function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
}
