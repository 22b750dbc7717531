// Product cards read from `show_products` outputs: for the `products` event and for the chat API's answers.
import { z } from 'zod';
import type { ProductCard, StepToolCall } from './wire.js';

export const productCardsSchema = z.object({
  products: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      price: z.number().nullable(),
      currency: z.string().nullable(),
      image_url: z.string().nullable(),
      url: z.string().nullable(),
      description: z.string().nullable().optional(),
    }),
  ),
});

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Cards of the show_products calls that succeeded; other outputs (errors, plain text) show none. */
export function productCardsOf(calls: StepToolCall[]): ProductCard[] {
  return calls.flatMap((call) => {
    if (call.function.name !== 'show_products' || call.function.output === null) return [];
    const parsed = productCardsSchema.safeParse(parseJson(call.function.output));
    return parsed.success ? parsed.data.products : [];
  });
}
