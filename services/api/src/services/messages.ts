// Turns request messages into stored message rows (a string becomes one text part).
import { assertNever, type MessageContentPart, newId } from '@threadwork/shared';
import type { NewMessage } from '../repositories/threads.js';
import type { CreateMessageInput } from '../schemas/common.js';

export function toContentParts(content: CreateMessageInput['content']): MessageContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: { value: content, annotations: [] } }];
  return content.map((part): MessageContentPart => {
    switch (part.type) {
      case 'text':
        return { type: 'text', text: { value: part.text, annotations: [] } };
      case 'image_file':
        return {
          type: 'image_file',
          image_file: { file_id: part.image_file.file_id, detail: part.image_file.detail ?? 'auto' },
        };
      case 'image_url':
        return {
          type: 'image_url',
          image_url: { url: part.image_url.url, detail: part.image_url.detail ?? 'auto' },
        };
      default:
        return assertNever(part);
    }
  });
}

export function newUserMessage(
  threadId: string,
  input: CreateMessageInput,
  now: Date = new Date(),
): NewMessage {
  return {
    id: newId('message'),
    threadId,
    role: input.role,
    content: toContentParts(input.content),
    status: 'completed',
    attachments: input.attachments ?? [],
    metadata: input.metadata ?? {},
    createdAt: now,
    completedAt: now,
  };
}
