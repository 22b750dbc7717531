// A thread's history for chat clients: text messages, with the product cards each run showed on its last message.

import {
  type Db,
  type MessageRow,
  type ProductCard,
  productCardsOf,
  schema,
  unixSeconds,
} from '@threadwork/shared';
import { and, eq, inArray } from 'drizzle-orm';
import { type ListPage, pageQuery, toPage } from '../../repositories/pagination.js';
import type { ListQuery } from '../../schemas/common.js';

import { messageText } from './run-view.js';

const { messages, runSteps } = schema;

export interface ChatMessage {
  id: string;
  object: 'chat.message';
  role: 'user' | 'assistant';
  content: string;
  status: MessageRow['status'];
  run_id: string | null;
  created_at: number;
  products: ProductCard[];
}

function toChatMessage(row: MessageRow, products: ProductCard[] = []): ChatMessage {
  return {
    id: row.id,
    object: 'chat.message',
    role: row.role,
    content: messageText(row),
    status: row.status,
    run_id: row.runId,
    created_at: unixSeconds(row.createdAt),
    products,
  };
}

async function cardsByRun(db: Db, runIds: string[]): Promise<Map<string, ProductCard[]>> {
  const cards = new Map<string, ProductCard[]>();
  if (runIds.length === 0) return cards;
  const steps = await db
    .select({ runId: runSteps.runId, details: runSteps.stepDetails })
    .from(runSteps)
    .where(and(inArray(runSteps.runId, runIds), eq(runSteps.type, 'tool_calls')))
    .orderBy(runSteps.id);
  for (const step of steps) {
    if (step.details.type !== 'tool_calls') continue;
    cards.set(step.runId, [...(cards.get(step.runId) ?? []), ...productCardsOf(step.details.tool_calls)]);
  }
  return cards;
}

/** The last assistant message of each run on the page: where that run's cards are shown. */
function lastAnswerOfRuns(rows: MessageRow[]): Map<string, string> {
  const last = new Map<string, string>();
  for (const row of [...rows].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (row.role === 'assistant' && row.runId) last.set(row.runId, row.id);
  }
  return last;
}

export async function listChatMessages(
  db: Db,
  threadId: string,
  query: ListQuery,
): Promise<ListPage<ChatMessage>> {
  const page = pageQuery(messages.id, query, eq(messages.threadId, threadId));
  const rows = await db.select().from(messages).where(page.where).orderBy(page.orderBy).limit(page.limit);
  const shownAt = lastAnswerOfRuns(rows.slice(0, query.limit));
  const cards = await cardsByRun(db, [...shownAt.keys()]);
  const withCards = rows.map((row) =>
    toChatMessage(row, row.runId && shownAt.get(row.runId) === row.id ? (cards.get(row.runId) ?? []) : []),
  );
  return toPage(withCards, query);
}
