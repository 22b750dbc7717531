import { schema } from '@threadwork/shared';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;
let key: string;

const XSS = '<img src=x onerror="window.__xss = 1">';

const lastAnswer = () => page.locator('#messages .message.assistant').last();

/** Sends a message from the composer and waits until its reply has stopped streaming. */
async function send(text: string): Promise<void> {
  const answers = await page.locator('#messages .message.assistant').count();
  await page.fill('#message-input', text);
  await page.press('#message-input', 'Enter');
  const answer = page.locator('#messages .message.assistant').nth(answers);
  await answer.waitFor();
  await expect.poll(() => answer.getAttribute('data-status'), { timeout: 20_000 }).not.toBe('streaming');
}

beforeAll(async () => {
  stack = await startStack({ OFFLINE_TOKEN_DELAY_MS: '15' });
  key = (await stack.newUser('browser user')).key;
  await stack.api.deps.db.insert(schema.products).values([
    {
      id: 'dog-food-1',
      name: 'Crunchy Dog Food',
      description: 'Dry dog food with chicken',
      price: 24.5,
      currency: 'EUR',
      imageUrl: 'https://shop.example/dog-food-1.jpg',
      url: 'https://shop.example/dog-food-1',
    },
    {
      id: 'dog-food-2',
      name: 'Puppy Dog Food',
      description: 'Soft dog food for puppies',
      price: 19.9,
      currency: 'EUR',
    },
  ]);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage();
  // Product images point at a shop that does not exist here; answer them locally instead of waiting on DNS.
  await page.route('https://shop.example/**', (route) => route.fulfill({ status: 204 }));
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the web chat page', () => {
  it('asks for the API key once and shows what is wrong with a bad one', async () => {
    await page.goto(stack.api.url);
    await page.waitForSelector('#key-form');
    await page.fill('#key-input', 'sk-tw-not-a-real-key');
    await page.click('#key-form button[type=submit]');
    await expect.poll(() => page.textContent('#key-error')).toContain('Incorrect API key');
    await page.fill('#key-input', key);
    await page.click('#key-form button[type=submit]');
    await page.waitForSelector('#composer');
    expect(await page.evaluate(() => localStorage.getItem('threadwork.apiKey'))).toBe(key);
  });

  it('streams a reply into the page token by token', async () => {
    await page.evaluate(() => {
      const samples: number[] = [];
      (window as unknown as { samples: number[] }).samples = samples;
      new MutationObserver(() => {
        const text = document.querySelector('#messages .message.assistant:last-child .text');
        if (text) samples.push(text.textContent?.length ?? 0);
      }).observe(document.getElementById('messages') as HTMLElement, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    });
    await send('Hello browser, please stream this reply to me');
    const reply = (await lastAnswer().locator('.text').textContent()) ?? '';
    expect(reply).toContain('Hello browser, please stream this reply to me');
    expect(await lastAnswer().getAttribute('data-status')).toBe('completed');
    const samples = await page.evaluate(() => (window as unknown as { samples: number[] }).samples);
    const partial = new Set(samples.filter((length) => length > 0 && length < reply.length));
    expect(partial.size).toBeGreaterThan(5);
    await expect.poll(() => page.locator('#thread-list button').count()).toBe(1);
  });

  it('shows tool activity and product cards when asked for products', async () => {
    await send('show me dog food');
    const answer = lastAnswer();
    await expect.poll(() => answer.locator('.product-card').count()).toBe(2);
    expect(await answer.locator('.product-card h3').allTextContents()).toEqual(
      expect.arrayContaining(['Crunchy Dog Food', 'Puppy Dog Food']),
    );
    expect(await answer.locator('.product-card a').getAttribute('href')).toBe(
      'https://shop.example/dog-food-1',
    );
    expect(await answer.locator('.tool').allTextContents()).toEqual(['✓ search_products', '✓ show_products']);
    expect(await answer.locator('.text').textContent()).toContain('Crunchy Dog Food');
  });

  it('sends feedback on an answer', async () => {
    await lastAnswer().getByRole('button', { name: 'Helpful', exact: true }).click();
    await expect
      .poll(async () => {
        const response = await fetch(`${stack.api.url}/admin/feedback`, {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        });
        return ((await response.json()) as { data: { rating: number }[] }).data.map((item) => item.rating);
      })
      .toEqual([1]);
    // The page marks the button once its request answered, which can be just after the server stored the rating.
    await expect
      .poll(() =>
        lastAnswer().getByRole('button', { name: 'Helpful', exact: true }).getAttribute('aria-pressed'),
      )
      .toBe('true');
  });

  it('shows a reply that contains HTML as text and never creates its elements', async () => {
    await send(XSS);
    const user = page.locator('#messages .message.user').last();
    expect(await user.locator('.text').textContent()).toBe(XSS);
    expect(await lastAnswer().locator('.text').textContent()).toContain(XSS);
    expect(await lastAnswer().locator('.text').isVisible()).toBe(true);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('#messages .text img').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('keeps the key, the thread and its history (cards included) across a reload', async () => {
    await page.reload();
    await page.waitForSelector('#messages .message.assistant');
    expect(await page.isHidden('#key-screen')).toBe(true);
    await expect.poll(() => page.locator('#messages .message').count()).toBe(6);
    expect(await page.locator('#messages .product-card').count()).toBe(2);
    expect(await lastAnswer().locator('.text').textContent()).toContain(XSS);
    expect(await page.locator('img[src="x"]').count()).toBe(0);
    expect(await page.locator('#thread-list button[aria-current="true"]').count()).toBe(1);
  });

  it('starts a new chat and deletes a thread from the list', async () => {
    await page.click('#new-thread');
    expect(await page.locator('#messages .message').count()).toBe(0);
    await send('a second thread');
    await expect.poll(() => page.locator('#thread-list button').count()).toBe(2);
    await page.click('#delete-thread');
    await expect.poll(() => page.locator('#thread-list button').count()).toBe(1);
    expect(await page.locator('#messages .message').count()).toBe(0);
  });
});
