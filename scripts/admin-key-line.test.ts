import { describe, expect, it } from 'vitest';
import { adminKeyLine } from './admin-key-line.js';

describe('adminKeyLine', () => {
  it('shows a development key Threadwork generated, and where it is kept', () => {
    expect(adminKeyLine('sk-tw-admin-generated')).toContain('sk-tw-admin-generated');
    expect(adminKeyLine('sk-tw-admin-generated')).toContain('.threadwork/dev-admin-key');
  });

  it('never prints a key the operator supplied', () => {
    const line = adminKeyLine(null);
    expect(line).toContain('ADMIN_API_KEY');
    expect(line).not.toMatch(/sk-/);
  });
});
