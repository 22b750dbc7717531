// DOM for the chat page. User text and every product field only reach the page through textContent and DOM
// properties; an answer is rendered as Markdown by markdown.js, which escapes raw HTML and keeps an allowlist of tags.
import { renderMarkdown } from './markdown.js';

function element(tag, className) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  return node;
}

function isWebUrl(value) {
  if (typeof value !== 'string') return false;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

function formatPrice(price, currency) {
  if (typeof price !== 'number') return '';
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency || 'USD' }).format(price);
  } catch {
    return `${price} ${currency ?? ''}`.trim();
  }
}

/** A neutral tile where a product has no picture, or its picture did not load. */
function imagePlaceholder(name) {
  const tile = element('div', 'product-image placeholder');
  tile.setAttribute('role', 'img');
  tile.setAttribute('aria-label', `No picture of ${name}`);
  return tile;
}

function productImage(product) {
  if (!isWebUrl(product.image_url)) return imagePlaceholder(product.name);
  const frame = element('div', 'product-image');
  const image = element('img');
  image.alt = product.name;
  image.loading = 'lazy';
  image.addEventListener('error', () => frame.replaceWith(imagePlaceholder(product.name)), { once: true });
  image.src = product.image_url;
  frame.append(image);
  return frame;
}

export function productCard(product) {
  const card = element('article', 'product-card');
  card.append(productImage(product));
  const title = element('h3');
  if (isWebUrl(product.url)) {
    const link = element('a');
    link.href = product.url;
    link.target = '_blank';
    link.rel = 'noopener noreferrer';
    link.textContent = product.name;
    title.append(link);
  } else {
    title.textContent = product.name;
  }
  card.append(title);
  const price = formatPrice(product.price, product.currency);
  if (price) {
    const priceLine = element('span', 'price');
    priceLine.textContent = price;
    card.append(priceLine);
  }
  if (product.description) {
    const description = element('p', 'description');
    description.textContent = product.description;
    card.append(description);
  }
  return card;
}

/**
 * The text of an answer, rendered as Markdown. While it streams, deltas are gathered and rendered at most once a
 * frame, so a long answer is not parsed again for every token.
 */
function answerBody(initial) {
  const body = element('div', 'text markdown');
  body.dir = 'auto';
  let text = initial;
  let frame = 0;
  const render = () => {
    frame = 0;
    body.replaceChildren(renderMarkdown(text));
  };
  render();
  return {
    body,
    append(content) {
      text += content;
      if (!frame) frame = requestAnimationFrame(render);
    },
    flush() {
      if (!frame) return;
      cancelAnimationFrame(frame);
      render();
    },
  };
}

/** User text is shown as typed. */
function plainBody(initial) {
  const body = element('p', 'text');
  body.dir = 'auto';
  body.textContent = initial;
  return { body, append: (content) => body.append(content), flush() {} };
}

/** One message bubble, with handles to fill it while it streams. */
export function messageView(role, text = '') {
  const item = element('li', `message ${role}`);
  const tools = element('ul', 'tools');
  const content = role === 'assistant' ? answerBody(text) : plainBody(text);
  const products = element('div', 'products');
  tools.hidden = true;
  products.hidden = true;
  item.append(tools, content.body, products);
  return {
    item,
    appendText(delta) {
      content.append(delta);
    },
    setTool({ name, status, call_id: callId }) {
      tools.hidden = false;
      let line = [...tools.children].find((child) => child.dataset.callId === callId);
      if (!line) {
        line = element('li', 'tool');
        line.dataset.callId = callId;
        tools.append(line);
      }
      line.dataset.status = status;
      line.textContent = status === 'completed' ? `✓ ${name}` : `⋯ ${name}`;
    },
    showProducts(cards) {
      products.replaceChildren(...cards.map(productCard));
      products.hidden = cards.length === 0;
    },
    showError(message) {
      const error = element('p', 'error');
      error.textContent = message;
      item.append(error);
    },
    setStatus(status) {
      if (status !== 'streaming') content.flush();
      item.dataset.status = status;
    },
  };
}

/** Thumbs up and down for an assistant message; `rate` sends the rating. */
export function feedbackButtons(rate) {
  const box = element('div', 'feedback');
  const choices = [
    [1, 'Helpful'],
    [-1, 'Not helpful'],
  ];
  const buttons = choices.map(([rating, label]) => {
    const button = element('button');
    button.type = 'button';
    button.textContent = label;
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', async () => {
      await rate(rating);
      for (const other of buttons) other.setAttribute('aria-pressed', String(other === button));
    });
    return button;
  });
  box.append(...buttons);
  return box;
}

export function threadItem(thread, isCurrent, onPick) {
  const item = element('li');
  const button = element('button');
  button.type = 'button';
  button.dataset.threadId = thread.id;
  button.setAttribute('aria-current', String(isCurrent));
  const preview = element('span', 'preview');
  preview.textContent = thread.last_message?.preview || 'New chat';
  const time = element('time');
  const at = new Date(thread.last_interaction_at * 1000);
  time.dateTime = at.toISOString();
  time.textContent = at.toLocaleString();
  button.append(preview, time);
  button.addEventListener('click', () => onPick(thread.id));
  item.append(button);
  return item;
}
