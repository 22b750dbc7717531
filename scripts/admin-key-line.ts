// The start banner's admin key line: a key the operator supplied is theirs and stays out of terminals and logs.

/** `generatedKey` is the development key Threadwork made (null when the operator set ADMIN_API_KEY). */
export function adminKeyLine(generatedKey: string | null): string {
  if (generatedKey === null) return '  Admin key:       the one set in ADMIN_API_KEY';
  return `  Admin key:       ${generatedKey}   (development key, kept in .threadwork/dev-admin-key)`;
}
