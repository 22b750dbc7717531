// The words of a product search that carry meaning: a shop query's filler ("show me", "הראה לי") is left out.

// English: asking, pronouns, articles, politeness, and words for "a product".
const ENGLISH_STOP_WORDS = `
  a about all also am an and any anything are at be buy by can could display do does find for from get
  give got have hello help hi i im in is it item items just let lets like list look looking me my need
  of on or our please product products search see show some something thanks thank that the there
  these this those to us want we what which with would you your
`;

// Hebrew: show / give / find, me / us / I, want / need / looking for, please, something, of / with / for.
const HEBREW_STOP_WORDS = `
  הראה הראי הראו תראה תראי תראו הצג הציגי הציגו תן תני תנו מצא חפש למצוא לקנות לי לנו אני אנחנו רוצה
  רוצים רציתי מחפש מחפשת מחפשים צריך צריכה צריכים אשמח בבקשה תודה שלום משהו אפשר יש לכם לך את של שלי
  עם על גם או עבור בשביל כל קצת איזה אילו מה זה זאת הזה מוצר מוצרים
`;

/**
 * Words that say nothing about which product is wanted. A word here never matches on its own; lower case, as the
 * query is lowered before it is read.
 */
const STOP_WORDS = new Set(`${ENGLISH_STOP_WORDS} ${HEBREW_STOP_WORDS}`.trim().split(/\s+/));

/**
 * The query's meaningful words, lowered and in order, each once: letters and digits only (so they are safe in a
 * LIKE pattern), stop words and single letters dropped (Hebrew writes its one-letter words attached to the next).
 */
export function meaningfulTerms(query: string): string[] {
  const words = query.toLowerCase().split(/[^\p{L}\p{N}]+/u);
  const terms = words.filter((word) => (word.length > 1 || /^\p{N}$/u.test(word)) && !STOP_WORDS.has(word));
  return [...new Set(terms)];
}

/** How many of `count` meaningful words a product must match: all of one or two, 60 % of more (rounded up). */
export function requiredMatches(count: number): number {
  return count <= 2 ? count : Math.ceil(count * 0.6);
}
