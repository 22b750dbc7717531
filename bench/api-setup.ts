// Objects the scenarios need, made through the public API: a user key, assistants, threads.
import type { ApiClient } from './http-client.js';

export interface AssistantBody {
  model: string;
  name: string;
  tools?: Array<{ type: string }>;
}

export async function createUserKey(admin: ApiClient, name: string): Promise<string> {
  const created = await admin.json<{ key: string }>('POST', '/admin/keys', { name });
  return created.key;
}

export async function createAssistant(v1: ApiClient, body: AssistantBody): Promise<string> {
  const assistant = await v1.json<{ id: string }>('POST', '/assistants', body);
  return assistant.id;
}

/** Threads with one user message each, made a few at a time (not part of any measurement). */
export async function createThreads(v1: ApiClient, count: number, content: string): Promise<string[]> {
  const ids: string[] = [];
  const batch = 10;
  for (let made = 0; made < count; made += batch) {
    const size = Math.min(batch, count - made);
    const threads = await Promise.all(
      Array.from({ length: size }, () =>
        v1.json<{ id: string }>('POST', '/threads', { messages: [{ role: 'user', content }] }),
      ),
    );
    ids.push(...threads.map((thread) => thread.id));
  }
  return ids;
}
