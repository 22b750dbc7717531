// Answers as safe Markdown. marked turns the text into HTML with every raw HTML tag escaped (so a reply that contains
// markup shows it as text), links limited to http(s), mailto and this server, and pictures shown as links, never
// loaded; DOMPurify then keeps only the tags and attributes below, and hands back nodes rather than an HTML string.
import DOMPurify from '/vendor/dompurify/purify.es.mjs';
import { Marked } from '/vendor/marked/marked.esm.js';

const ALLOWED_TAGS =
  'p br strong em del code pre blockquote ul ol li hr a h1 h2 h3 h4 h5 h6 table thead tbody tr th td'.split(
    ' ',
  );
const ALLOWED_ATTR = ['href', 'title', 'start', 'align', 'target', 'rel'];
/** Attributes whose values are not URLs, so DOMPurify does not hold them to SAFE_LINK. */
const NON_URL_ATTR = ['start', 'align', 'target', 'rel'];
const SAFE_LINK = /^(?:https?:|mailto:|\/(?![/\\])|#)/i;

const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (char) => ENTITIES[char]);

const markdown = new Marked({
  gfm: true,
  breaks: true,
  async: false,
  renderer: {
    html({ text, block }) {
      return block ? `<p>${escapeHtml(text)}</p>` : escapeHtml(text);
    },
    link({ href, title, tokens }) {
      const label = this.parser.parseInline(tokens);
      if (!SAFE_LINK.test(href)) return label;
      const titled = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${titled} target="_blank" rel="noopener noreferrer nofollow">${label}</a>`;
    },
    image({ href, text }) {
      if (!SAFE_LINK.test(href)) return escapeHtml(text);
      return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer nofollow">${escapeHtml(text || href)}</a>`;
    },
  },
});

/** The nodes of `text` rendered as Markdown: a fragment to put in the page with append/replaceChildren. */
export function renderMarkdown(text) {
  return DOMPurify.sanitize(markdown.parse(text), {
    ALLOWED_TAGS,
    ALLOWED_ATTR,
    ALLOWED_URI_REGEXP: SAFE_LINK,
    ADD_URI_SAFE_ATTR: NON_URL_ATTR,
    RETURN_DOM_FRAGMENT: true,
  });
}
