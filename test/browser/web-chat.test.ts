import { readFile } from 'node:fs/promises';
import { schema } from '@threadwork/shared';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, type Stack, startStack } from '../support/stack.js';

let stack: Stack;
let browser: Browser;
let page: Page;
let key: string;

const XSS = '<img src=x onerror="window.__xss = 1">';
const SCRIPT = '<script>window.__xss = 2</script>';
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
/** Set WEB_CHAT_SCREENSHOTS to a folder to keep a picture of each viewport. */
const SCREENSHOT_DIR = process.env.WEB_CHAT_SCREENSHOTS;

/** Forty lines: the echoed answer is taller than either viewport. */
const LONG_MESSAGE = Array.from(
  { length: 40 },
  (_, index) => `Line ${index + 1}: the-quick-brown-fox-jumps-over-the-lazy-dog`,
).join('\n');

const lastAnswer = () => page.locator('#messages .message.assistant').last();

/** Sends a message from the composer; `waitForEnd` waits until its reply has stopped streaming. */
async function send(text: string, on = page, { waitForEnd = true } = {}): Promise<void> {
  const answers = await on.locator('#messages .message.assistant').count();
  await on.fill('#message-input', text);
  await on.press('#message-input', 'Enter');
  const answer = on.locator('#messages .message.assistant').nth(answers);
  await answer.waitFor();
  if (waitForEnd) await untilAnswered(on);
}

async function untilAnswered(on: Page): Promise<void> {
  const answer = on.locator('#messages .message.assistant').last();
  await expect.poll(() => answer.getAttribute('data-status'), { timeout: 20_000 }).not.toBe('streaming');
}

/** Where an element is, against the window and against the conversation's scrolled pane. */
function placeOf(on: Page, selector: string) {
  return on.evaluate((selector) => {
    const target = Array.from(document.querySelectorAll(selector)).at(-1);
    const pane = document.getElementById('conversation');
    if (!target || !pane) throw new Error(`nothing matches ${selector}`);
    const box = target.getBoundingClientRect();
    const view = pane.getBoundingClientRect();
    return {
      isInWindow:
        box.top >= 0 && box.bottom <= window.innerHeight && box.left >= 0 && box.right <= window.innerWidth,
      isEndInPane: box.bottom <= view.bottom + 1 && box.bottom > view.top,
    };
  }, selector);
}

const distanceFromBottom = (on: Page) =>
  on.evaluate(() => {
    const pane = document.getElementById('conversation') as HTMLElement;
    return pane.scrollHeight - pane.scrollTop - pane.clientHeight;
  });

/** A fresh page at a viewport, signed in with `key`. */
async function pageAt(viewport: { width: number; height: number }): Promise<Page> {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((stored) => localStorage.setItem('threadwork.apiKey', stored), key);
  const fresh = await context.newPage();
  await fresh.goto(stack.api.url);
  await fresh.waitForSelector('#composer');
  return fresh;
}

beforeAll(async () => {
  stack = await startStack({ OFFLINE_TOKEN_DELAY_MS: '15' });
  const user = await stack.newUser('browser user');
  key = user.key;
  await stack.api.deps.db.insert(schema.products).values([
    {
      projectId: user.projectId,
      id: 'dog-food-1',
      name: 'Crunchy Dog Food',
      description: 'Dry dog food with chicken',
      price: 24.5,
      currency: 'EUR',
      imageUrl: '/static/products/dog-food-salmon.svg',
      url: 'https://shop.example/dog-food-1',
    },
    {
      projectId: user.projectId,
      id: 'dog-food-2',
      name: 'Puppy Dog Food',
      description: 'Soft dog food for puppies',
      price: 19.9,
      currency: 'EUR',
      imageUrl: 'https://shop.example/dog-food-2.jpg',
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
  page = await browser.newPage({ viewport: DESKTOP });
  // A picture on a shop that does not exist here: answered locally with a 404 instead of waiting on DNS.
  await page.route('https://shop.example/**', (route) => route.fulfill({ status: 404 }));
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

describe('the web chat page', () => {
  it('asks for an API key or sign-in token once and shows what is wrong with a bad one', async () => {
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

  it('loads a product picture from Threadwork and shows a placeholder, not alt text, for one that fails', async () => {
    const shipped = lastAnswer().locator('.product-card', { hasText: 'Crunchy Dog Food' });
    const image = shipped.locator('img');
    expect(await image.getAttribute('src')).toBe('/static/products/dog-food-salmon.svg');
    await expect
      .poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
      .toBe(true);
    const broken = lastAnswer().locator('.product-card', { hasText: 'Puppy Dog Food' });
    await expect.poll(() => broken.locator('.product-image.placeholder').count()).toBe(1);
    expect(await broken.locator('img').count()).toBe(0);
    expect(await broken.locator('.product-image.placeholder').getAttribute('aria-label')).toBe(
      'No picture of Puppy Dog Food',
    );
    expect(await broken.locator('.product-image.placeholder').isVisible()).toBe(true);
    if (SCREENSHOT_DIR) await page.screenshot({ path: `${SCREENSHOT_DIR}/web-chat-products.png` });
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

  it('renders an answer as Markdown: bold, lists, code', async () => {
    await send(
      'Format this: **bold words** and `inline code`\n\n- first item\n- second item\n\n```\nnpm start\n```\n\nSee [the docs](https://docs.example/chat).',
    );
    const text = lastAnswer().locator('.text');
    expect(await text.locator('strong').textContent()).toBe('bold words');
    expect(await text.locator('li').allTextContents()).toEqual([
      'first item',
      expect.stringContaining('second item'),
    ]);
    expect(await text.locator(':not(pre) > code').textContent()).toBe('inline code');
    expect(await text.locator('pre code').textContent()).toBe('npm start\n');
    expect(await text.textContent()).not.toContain('**');
    const link = text.locator('a');
    expect(await link.textContent()).toBe('the docs');
    expect(await link.getAttribute('href')).toBe('https://docs.example/chat');
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow');
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

  it('shows a script or a javascript: link in a reply as text and runs neither', async () => {
    await send(`${SCRIPT} and [a link](javascript:window.__xss=3)`);
    const text = lastAnswer().locator('.text');
    expect(await text.textContent()).toContain(SCRIPT);
    expect(await page.locator('#messages script').count()).toBe(0);
    expect(await text.locator('a').count()).toBe(0);
    expect(await text.textContent()).toContain('a link');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('keeps the key, the thread and its history (cards included) across a reload', async () => {
    await page.reload();
    await page.waitForSelector('#messages .message.assistant');
    expect(await page.isHidden('#key-screen')).toBe(true);
    await expect.poll(() => page.locator('#messages .message').count()).toBe(10);
    expect(await page.locator('#messages .product-card').count()).toBe(2);
    expect(await page.locator('#messages .product-image.placeholder').count()).toBe(1);
    expect(await page.locator('#messages .message.assistant strong').count()).toBeGreaterThan(0);
    expect(await lastAnswer().locator('.text').textContent()).toContain(SCRIPT);
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

describe.each([
  ['desktop', DESKTOP],
  ['phone', PHONE],
])('the web chat as an app shell at a %s viewport', (name, viewport) => {
  let shell: Page;

  beforeAll(async () => {
    shell = await pageAt(viewport);
  });

  afterAll(async () => {
    await shell?.context().close();
  });

  it('keeps the header and composer in view and shows the end of a long answer', async () => {
    await send(LONG_MESSAGE, shell);
    expect(await shell.locator('.message.assistant .text').last().textContent()).toContain('Line 40');
    // The pane follows the answer's last render when its ResizeObserver fires, on the next frame.
    await expect.poll(() => distanceFromBottom(shell)).toBeLessThanOrEqual(2);
    expect((await placeOf(shell, '#composer')).isInWindow).toBe(true);
    expect((await placeOf(shell, 'main header')).isInWindow).toBe(true);
    expect(await shell.isVisible('#message-input')).toBe(true);
    const newest = await placeOf(shell, '#messages .message.assistant .text');
    expect(newest).toEqual({ isInWindow: false, isEndInPane: true });
    // The page itself never scrolls: only the conversation does.
    expect(
      await shell.evaluate(() => document.scrollingElement?.scrollHeight ?? Number.POSITIVE_INFINITY),
    ).toBeLessThanOrEqual(viewport.height);
    if (SCREENSHOT_DIR) await shell.screenshot({ path: `${SCREENSHOT_DIR}/web-chat-${name}.png` });
  });

  it('stops following the answer while the reader scrolls up, and jumps back on request', async () => {
    await send(LONG_MESSAGE, shell, { waitForEnd: false });
    await expect
      .poll(() =>
        distanceFromBottom(shell).then((d) => d === 0 && shell.isVisible('.message[data-status=streaming]')),
      )
      .toBe(true);
    const pane = await shell.locator('#conversation').boundingBox();
    if (!pane) throw new Error('the conversation is not shown');
    await shell.mouse.move(pane.x + pane.width / 2, pane.y + pane.height / 2);
    await shell.mouse.wheel(0, -600);
    await expect.poll(() => distanceFromBottom(shell)).toBeGreaterThan(400);
    const reading = () =>
      shell.locator('#conversation').evaluate((pane) => ({ top: pane.scrollTop, height: pane.scrollHeight }));
    const before = await reading();
    await untilAnswered(shell);
    const after = await reading();
    expect(after.height).toBeGreaterThan(before.height);
    expect(after.top).toBe(before.top);
    expect(await shell.isVisible('#jump-to-newest')).toBe(true);
    await shell.click('#jump-to-newest');
    expect(await distanceFromBottom(shell)).toBeLessThanOrEqual(2);
    expect(await shell.isVisible('#jump-to-newest')).toBe(false);
  });

  it(
    name === 'phone'
      ? 'folds the thread list away behind a button'
      : 'shows the thread list beside the conversation',
    async () => {
      const isPhone = name === 'phone';
      expect(await shell.isVisible('#thread-list')).toBe(!isPhone);
      expect(await shell.isVisible('#toggle-threads')).toBe(isPhone);
      if (!isPhone) return;
      await shell.click('#toggle-threads');
      await shell.locator('#thread-list').waitFor({ state: 'visible' });
      expect(await shell.getAttribute('#toggle-threads', 'aria-expanded')).toBe('true');
      await expect.poll(async () => (await placeOf(shell, '#sidebar')).isInWindow).toBe(true);
      if (SCREENSHOT_DIR) await shell.screenshot({ path: `${SCREENSHOT_DIR}/web-chat-phone-threads.png` });
      await shell.locator('#thread-list button').first().click();
      await shell.locator('#thread-list').waitFor({ state: 'hidden' });
      expect(await shell.getAttribute('#toggle-threads', 'aria-expanded')).toBe('false');
      await shell.locator('#messages .message').first().waitFor();
    },
  );
});

describe('the demo catalog', () => {
  it('has every product picture served by Threadwork itself', async () => {
    const demo = new URL('../../scripts/demo-catalog.json', import.meta.url);
    const catalog = JSON.parse(await readFile(demo, 'utf8')) as { products: { image_url: string }[] };
    expect(catalog.products.length).toBeGreaterThan(0);
    for (const product of catalog.products) {
      expect(product.image_url).toMatch(/^\/static\/products\/[a-z-]+\.svg$/);
      const response = await fetch(`${stack.api.url}${product.image_url}`);
      expect(response.status, product.image_url).toBe(200);
      expect(response.headers.get('content-type')).toContain('image/svg+xml');
      expect(await response.text()).toMatch(/^<svg /);
    }
  });
});
