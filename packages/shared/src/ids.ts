// Prefixed, time-ordered ids: prefix + 8 base62 chars of milliseconds + 16 chars that increase within a millisecond.
import { randomFillSync } from 'node:crypto';
import { z } from 'zod';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = ALPHABET.length;
const TIME_CHARS = 8;
const TAIL_CHARS = 16;

export const idPrefixes = {
  assistant: 'asst_',
  thread: 'thread_',
  message: 'msg_',
  run: 'run_',
  step: 'step_',
  call: 'call_',
  apiKey: 'key_',
  project: 'proj_',
  feedback: 'fb_',
  webhook: 'wh_',
  webhookMessage: 'whmsg_',
  /** A model gateway call (chat completion or embeddings), the id its usage row is logged under. */
  gatewayCall: 'gw_',
  file: 'file-',
  vectorStore: 'vs_',
  fileBatch: 'vsfb_',
} as const;

export type IdKind = keyof typeof idPrefixes;

/** Fixed-width base62; fixed width and the alphabet's ASCII order make byte order the numeric order. */
function encode(value: number, width: number): string {
  let rest = value;
  let out = '';
  for (let i = 0; i < width; i += 1) {
    out = ALPHABET[rest % BASE] + out;
    rest = Math.floor(rest / BASE);
  }
  return out;
}

/** Random bytes drawn a block at a time: one call to the system's generator serves many ids. */
const randomPool = Buffer.alloc(4096);
let randomOffset = randomPool.length;

function random48(): number {
  if (randomOffset + 6 > randomPool.length) {
    randomFillSync(randomPool);
    randomOffset = 0;
  }
  const value = randomPool.readUIntBE(randomOffset, 6);
  randomOffset += 6;
  return value;
}

/** A uniformly random integer below `bound` (at most 2^48): draws past the last whole multiple are drawn again. */
function randomBelow(bound: number): number {
  const limit = Math.floor(2 ** 48 / bound) * bound;
  for (;;) {
    const value = random48();
    if (value < limit) return value % bound;
  }
}

/** The tail in two halves of HALF_CHARS digits each, so that it counts with plain numbers. */
const HALF_CHARS = TAIL_CHARS / 2;
const HALF_SPACE = BASE ** HALF_CHARS;

let lastMillis = 0;
let tailHigh = 0;
let tailLow = 0;

/** The next id of a kind. Ids made by one process sort in creation order, also within one millisecond. */
export function newId(kind: IdKind, now: number = Date.now()): string {
  if (now <= lastMillis) {
    tailLow += 1;
    if (tailLow === HALF_SPACE) {
      tailLow = 0;
      tailHigh += 1;
    }
  } else {
    lastMillis = now;
    // Headroom in the high half, so increments within one millisecond never overflow the tail.
    tailHigh = randomBelow(HALF_SPACE / 2);
    tailLow = randomBelow(HALF_SPACE);
  }
  return (
    idPrefixes[kind] +
    encode(lastMillis, TIME_CHARS) +
    encode(tailHigh, HALF_CHARS) +
    encode(tailLow, HALF_CHARS)
  );
}

export function isIdOf(kind: IdKind, value: string): boolean {
  const prefix = idPrefixes[kind];
  return value.startsWith(prefix) && /^[0-9A-Za-z]{24}$/.test(value.slice(prefix.length));
}

export function idSchema(kind: IdKind) {
  return z.string().refine((value) => isIdOf(kind, value), {
    message: `Expected an ID that begins with '${idPrefixes[kind].slice(0, -1)}'.`,
  });
}

export const runIdSchema = idSchema('run');
export const callIdSchema = idSchema('call');
