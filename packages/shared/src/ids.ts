// Prefixed, time-ordered ids: prefix + 8 base62 chars of milliseconds + 16 chars that increase within a millisecond.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = BigInt(ALPHABET.length);
const TIME_CHARS = 8;
const TAIL_CHARS = 16;
const TAIL_SPACE = BASE ** BigInt(TAIL_CHARS);

export const idPrefixes = {
  assistant: 'asst_',
  thread: 'thread_',
  message: 'msg_',
  run: 'run_',
  step: 'step_',
  call: 'call_',
  apiKey: 'key_',
  feedback: 'fb_',
} as const;

export type IdKind = keyof typeof idPrefixes;

function encode(value: bigint, width: number): string {
  let rest = value;
  let out = '';
  for (let i = 0; i < width; i += 1) {
    out = ALPHABET[Number(rest % BASE)] + out;
    rest /= BASE;
  }
  return out;
}

function randomTail(): bigint {
  // Leave headroom so increments within one millisecond never overflow the tail.
  return BigInt(`0x${randomBytes(12).toString('hex')}`) % (TAIL_SPACE / 2n);
}

let lastMillis = 0;
let lastTail = 0n;

/** The next id of a kind. Ids made by one process sort in creation order, also within one millisecond. */
export function newId(kind: IdKind, now: number = Date.now()): string {
  if (now <= lastMillis) {
    lastTail += 1n;
  } else {
    lastMillis = now;
    lastTail = randomTail();
  }
  return idPrefixes[kind] + encode(BigInt(lastMillis), TIME_CHARS) + encode(lastTail, TAIL_CHARS);
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
