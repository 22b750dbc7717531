// The web chat page: asks for an API key (or sign-in token) once, lists the caller's threads, streams replies token
// by token. An app shell: the thread list, header and composer stay put and only the conversation scrolls, following
// the newest text unless the reader has scrolled up.
import { createApi } from './api.js';
import { feedbackButtons, messageView, threadItem } from './render.js';

const KEY_STORAGE = 'threadwork.apiKey';
const THREAD_STORAGE = 'threadwork.threadId';

const $ = (id) => document.getElementById(id);
const ui = {
  keyScreen: $('key-screen'),
  keyForm: $('key-form'),
  keyInput: $('key-input'),
  keyError: $('key-error'),
  app: $('app'),
  threadList: $('thread-list'),
  newThread: $('new-thread'),
  forgetKey: $('forget-key'),
  title: $('thread-title'),
  deleteThread: $('delete-thread'),
  error: $('error-banner'),
  toggleThreads: $('toggle-threads'),
  scrim: $('drawer-scrim'),
  conversation: $('conversation'),
  messages: $('messages'),
  jumpToNewest: $('jump-to-newest'),
  composer: $('composer'),
  input: $('message-input'),
  send: $('send'),
};

let api = null;
let currentThreadId = localStorage.getItem(THREAD_STORAGE);
let isSending = false;
/** Whether the conversation keeps the newest text in view; the reader scrolling up turns it off. */
let isFollowing = true;
/** How close to the bottom (px) still counts as reading the newest text. */
const FOLLOW_SLACK_PX = 48;
/** The composer grows with its text up to this many pixels, then scrolls. */
const COMPOSER_MAX_PX = 160;

function distanceFromBottom() {
  const { scrollHeight, scrollTop, clientHeight } = ui.conversation;
  return scrollHeight - scrollTop - clientHeight;
}

function scrollToNewest() {
  isFollowing = true;
  ui.conversation.scrollTop = ui.conversation.scrollHeight;
  ui.jumpToNewest.hidden = true;
}

/** Called whenever the conversation or its pane changes size: a reader who has not scrolled up stays on the newest. */
function followNewest() {
  if (isFollowing) scrollToNewest();
}

function setDrawerOpen(isOpen) {
  ui.app.classList.toggle('is-drawer-open', isOpen);
  ui.toggleThreads.setAttribute('aria-expanded', String(isOpen));
  ui.scrim.hidden = !isOpen;
}

function fitComposer() {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, COMPOSER_MAX_PX)}px`;
}

function showError(error) {
  ui.error.textContent = error ? (error.message ?? String(error)) : '';
  ui.error.hidden = !error;
  if (error?.status === 401) askForKey(error.message);
}

function askForKey(problem = '') {
  localStorage.removeItem(KEY_STORAGE);
  api = null;
  ui.keyError.textContent = problem;
  ui.keyError.hidden = !problem;
  ui.app.hidden = true;
  ui.keyScreen.hidden = false;
  ui.keyInput.focus();
}

function setCurrentThread(threadId) {
  currentThreadId = threadId;
  if (threadId) localStorage.setItem(THREAD_STORAGE, threadId);
  else localStorage.removeItem(THREAD_STORAGE);
  ui.deleteThread.hidden = !threadId;
  for (const button of ui.threadList.querySelectorAll('button')) {
    button.setAttribute('aria-current', String(button.dataset.threadId === threadId));
  }
}

function addFeedback(view, messageId) {
  if (!messageId) return;
  view.item.append(
    feedbackButtons((rating) => api.giveFeedback(messageId, rating).then(() => showError(null), showError)),
  );
}

async function refreshThreads() {
  const page = await api.listThreads();
  ui.threadList.replaceChildren(
    ...page.data.map((thread) => threadItem(thread, thread.id === currentThreadId, (id) => openThread(id))),
  );
  const current = page.data.find((thread) => thread.id === currentThreadId);
  ui.title.textContent = current?.last_message?.preview || 'New chat';
}

function renderHistory(messages) {
  for (const message of messages) {
    const view = messageView(message.role, message.content);
    view.setStatus(message.status);
    if (message.products.length > 0) view.showProducts(message.products);
    if (message.role === 'assistant') addFeedback(view, message.id);
    ui.messages.append(view.item);
  }
  scrollToNewest();
}

/** Shows a thread's history (null: a new chat); a thread deleted elsewhere quietly becomes a new chat. */
async function openThread(threadId) {
  showError(null);
  setDrawerOpen(false);
  setCurrentThread(threadId);
  ui.messages.replaceChildren();
  try {
    if (threadId) renderHistory((await api.listMessages(threadId)).data.reverse());
  } catch (error) {
    if (error.status !== 404) return showError(error);
    setCurrentThread(null);
  }
  await refreshThreads().catch(showError);
}

function handleEvent(view, event) {
  switch (event.event) {
    case 'thread_id':
      setCurrentThread(event.data.thread_id);
      break;
    case 'text':
      view.appendText(event.data.content);
      break;
    case 'tool':
      view.setTool(event.data);
      break;
    case 'products':
      view.showProducts(event.data.products);
      break;
    case 'error':
      view.showError(event.data.message);
      break;
    case 'done':
      view.setStatus(event.data.status);
      if (event.data.status === 'completed') addFeedback(view, event.data.message_id);
      break;
  }
}

async function sendMessage(text) {
  isSending = true;
  ui.send.disabled = true;
  showError(null);
  ui.messages.append(messageView('user', text).item);
  const reply = messageView('assistant');
  reply.setStatus('streaming');
  ui.messages.append(reply.item);
  scrollToNewest();
  try {
    const body = currentThreadId ? { message: text, thread_id: currentThreadId } : { message: text };
    await api.streamTurn(body, (event) => handleEvent(reply, event));
    await refreshThreads();
  } catch (error) {
    reply.setStatus('failed');
    showError(error);
  } finally {
    isSending = false;
    ui.send.disabled = false;
  }
}

async function start(key) {
  api = createApi(key);
  ui.keyScreen.hidden = true;
  ui.app.hidden = false;
  fitComposer();
  await openThread(currentThreadId);
}

ui.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const key = ui.keyInput.value.trim();
  if (!key) return;
  localStorage.setItem(KEY_STORAGE, key);
  ui.keyInput.value = '';
  void start(key);
});

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.input.value;
  if (isSending || text.trim() === '') return;
  ui.input.value = '';
  fitComposer();
  void sendMessage(text);
});

ui.input.addEventListener('input', fitComposer);

ui.input.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});

ui.conversation.addEventListener('scroll', () => {
  isFollowing = distanceFromBottom() <= FOLLOW_SLACK_PX;
  ui.jumpToNewest.hidden = isFollowing;
});
// Streamed text, product cards and pictures that load all change the conversation's height, as does a phone's
// keyboard the pane's: one observer follows them all.
const resizes = new ResizeObserver(followNewest);
resizes.observe(ui.messages);
resizes.observe(ui.conversation);
ui.jumpToNewest.addEventListener('click', scrollToNewest);

ui.toggleThreads.addEventListener('click', () => {
  const isOpen = !ui.app.classList.contains('is-drawer-open');
  setDrawerOpen(isOpen);
  if (isOpen) ui.newThread.focus();
});
ui.scrim.addEventListener('click', () => setDrawerOpen(false));
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape') setDrawerOpen(false);
});
ui.newThread.addEventListener('click', () => void openThread(null));
ui.forgetKey.addEventListener('click', () => askForKey());
ui.deleteThread.addEventListener('click', async () => {
  if (!currentThreadId) return;
  try {
    await api.deleteThread(currentThreadId);
    await openThread(null);
  } catch (error) {
    showError(error);
  }
});

const storedKey = localStorage.getItem(KEY_STORAGE);
if (storedKey) void start(storedKey);
else askForKey();
