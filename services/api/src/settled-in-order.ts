// Independent lookups at once, failing as if they had run one after the other.

/** Both promises' values; when both fail, the first one's error is the answer. */
export async function settledInOrder<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}
