// The names of a project's space in the tools database: safe identifiers, apart per id and per database.
import { describe, expect, it } from 'vitest';
import { PROJECT_SCHEMA_PREFIX, projectToolsSpace } from './tools-database.js';

const identifier = /^[a-z_][a-z0-9_]{0,62}$/;

describe('projectToolsSpace', () => {
  it('names plain identifiers of at most 63 characters, whatever the id holds', () => {
    for (const id of ['proj_xyz', 'Proj "; drop schema public; --', 'ü'.repeat(300), '']) {
      const space = projectToolsSpace('threadwork_demo', id);
      for (const name of [space.schema, space.ownerRole, space.readerRole]) expect(name).toMatch(identifier);
      expect(space.schema.startsWith(PROJECT_SCHEMA_PREFIX)).toBe(true);
    }
  });

  it('keeps ids that differ only in case apart, and never names the id', () => {
    const lower = projectToolsSpace('db', 'proj_xyz');
    const upper = projectToolsSpace('db', 'proj_XYZ');
    expect(lower.schema).not.toBe(upper.schema);
    expect(lower.readerRole).not.toBe(upper.readerRole);
    expect(JSON.stringify(lower)).not.toContain('xyz');
  });

  it('gives a project other roles in another database of the server, and the same schema name', () => {
    const here = projectToolsSpace('tools_a', 'proj_xyz');
    const there = projectToolsSpace('tools_b', 'proj_xyz');
    expect(there.schema).toBe(here.schema);
    expect(there.ownerRole).not.toBe(here.ownerRole);
    expect(there.readerRole).not.toBe(here.readerRole);
    expect(projectToolsSpace('tools_a', 'proj_xyz')).toEqual(here);
  });
});
