// The web chat page signed in with an end user's own HS256 token (as Supabase issues them): it sees only its own
// threads, not those a backend made for another end user of the same project.
import { SignJWT } from 'jose';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../support/stack.js';

const SECRET = 'browser-test-secret-of-at-least-32-characters';

let stack: Stack;
let browser: Browser;

function tokenFor(sub: string): Promise<string> {
  return new SignJWT({ sub, aud: 'authenticated', role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET));
}

beforeAll(async () => {
  stack = await startStack({ AUTH_JWT_SECRET: SECRET, AUTH_JWT_AUDIENCE: 'authenticated' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-sync',
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the web chat page with an end-user token', () => {
  it("signs in with the token and lists only the end user's own threads", async () => {
    const { key } = await stack.adminPost<{ key: string }>('/admin/keys', { name: 'backend' });
    for (const user of ['bob', 'alice']) {
      const made = await fetch(`${stack.api.url}/api/chat`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'x-threadwork-user': user,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ message: `hello from ${user}` }),
      });
      expect(made.status).toBe(200);
    }
    const page = await browser.newPage();
    await page.goto(stack.api.url);
    await page.waitForSelector('#key-form');
    await page.fill('#key-input', await tokenFor('alice'));
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#composer');
    await expect.poll(() => page.locator('#thread-list button').count(), { timeout: 10_000 }).toBe(1);
    await page.locator('#thread-list button').first().click();
    await expect.poll(() => page.textContent('#messages'), { timeout: 10_000 }).toContain('hello from alice');
    expect(await page.textContent('#messages')).not.toContain('hello from bob');
  });
});
