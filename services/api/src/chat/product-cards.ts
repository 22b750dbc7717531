// Product cards from show_products outputs: the same cards the `threadwork.products` event carried.
import type { ProductCard, StepToolCall } from '@threadwork/shared';
import { z } from 'zod';

const shownProducts = z.object({
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
    const parsed = shownProducts.safeParse(parseJson(call.function.output));
    return parsed.success ? parsed.data.products : [];
  });
}

export const productCardsSchema = shownProducts;
