// DOM for the chat page. Model and user text only ever reach the page through textContent and DOM
// properties, never as HTML, so a reply that contains markup is shown as the text it is.

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

export function productCard(product) {
  const card = element('article', 'product-card');
  if (isWebUrl(product.image_url)) {
    const image = element('img');
    image.src = product.image_url;
    image.alt = product.name;
    image.loading = 'lazy';
    card.append(image);
  }
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

/** One message bubble, with handles to fill it while it streams. */
export function messageView(role, text = '') {
  const item = element('li', `message ${role}`);
  const tools = element('ul', 'tools');
  const body = element('p', 'text');
  const products = element('div', 'products');
  body.textContent = text;
  tools.hidden = true;
  products.hidden = true;
  item.append(tools, body, products);
  return {
    item,
    appendText(content) {
      body.append(content);
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
