// Product ids and the cards read from `show_products` outputs: for the `products` event and the chat API's answers.
import { z } from 'zod';
import type { ProductCard, StepToolCall } from './wire.js';

/**
 * A product id as the catalog gives it: a string, or an integer (WooCommerce ids). It is stored as text with a flag
 * saying it was an integer, so search results and cards give it back as it came; 101 and "101" are the same product.
 */
export const productIdSchema = z.union([
  z
    .string()
    .trim()
    .min(1)
    .max(200)
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters'),
  z.number().int(),
]);

export type ProductId = z.output<typeof productIdSchema>;

/** The text an id is stored and matched as. */
export function productIdText(id: ProductId): string {
  return String(id);
}

/** An id as the catalog gave it, from its stored text and flag. */
export function productIdOf(text: string, isIntegerId: boolean): ProductId {
  return isIntegerId ? Number(text) : text;
}

export const productCardsSchema = z.object({
  products: z.array(
    z.object({
      id: z.union([z.string(), z.number()]),
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
