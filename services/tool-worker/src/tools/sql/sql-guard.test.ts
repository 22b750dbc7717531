import { describe, expect, it } from 'vitest';
import { checkReadOnlyQuery } from './sql-guard.js';

const admitted: Array<[string, 'select' | 'explain' | 'show']> = [
  ['select 1', 'select'],
  ['SELECT * FROM customers WHERE id = 1;', 'select'],
  ['with t as (select 1 as n) select n from t', 'select'],
  ['with recursive r(n) as (select 1 union all select n + 1 from r where n < 5) select * from r', 'select'],
  ['values (1, 2), (3, 4)', 'select'],
  ['table customers', 'select'],
  ['select 1 union select 2 except select 3', 'select'],
  ["select 'delete from customers; drop table orders' as text", 'select'],
  ['select $$ insert into t values (1) $$', 'select'],
  ['select 1 /* ; delete from customers */', 'select'],
  ['select 1 -- ; delete from customers', 'select'],
  ['select pg_sleep(0.1)', 'select'],
  ['select count(*) from (select * from orders) o join lateral (select 1) x on true', 'select'],
  ['explain select * from orders', 'explain'],
  ['explain (analyze, format json) select * from orders', 'explain'],
  ['show statement_timeout', 'show'],
  ["select current_setting('work_mem')", 'select'],
];

const refused: Array<[string, RegExp]> = [
  ['', /empty|no statement/],
  ['-- only a comment', /no statement/],
  ['select 1; select 2', /2 statements/],
  ['select 1; delete from customers', /2 statements/],
  ['select 1;/**/delete from customers', /2 statements/],
  ['delete from customers', /DELETE is not allowed/],
  ["insert into customers (name) values ('x')", /INSERT is not allowed/],
  ["update customers set name = 'x'", /UPDATE is not allowed/],
  ['merge into customers c using orders o on o.customer_id = c.id when matched then delete', /MERGE/],
  ['truncate customers', /TRUNCATE/],
  ['drop table customers', /DROP/],
  ['create table x (a int)', /CREATE/],
  ['alter table customers add column x int', /ALTER TABLE/],
  ['grant all on customers to public', /GRANT/],
  ['with d as (delete from customers returning *) select * from d', /DELETE inside the query/],
  ['with u as (update orders set total = 0 returning 1) select 1', /UPDATE inside the query/],
  ["with i as (insert into customers (name) values ('x') returning id) select * from i", /INSERT inside/],
  ['select * from (with d as (delete from orders returning *) select * from d) s', /DELETE|parse/],
  ['select * into new_table from customers', /SELECT INTO/],
  ['select * from customers for update', /Row locks/],
  ['select * from customers for share skip locked', /Row locks/],
  ['select * from (select * from orders for no key update) o', /Row locks/],
  ['(select 1) union (select 2 from orders for key share)', /Row locks/],
  ['explain analyze delete from customers', /DELETE inside the query/],
  ["explain (analyze) insert into customers (name) values ('x')", /INSERT inside the query/],
  ['explain create table x as select 1', /CREATE TABLE AS/],
  ['copy customers to stdout', /COPY/],
  ["copy customers from program 'id'", /COPY/],
  ['call some_procedure()', /CALL/],
  ['do $$ begin delete from customers; end $$', /DO is not allowed/],
  ['set statement_timeout = 0', /SET is not allowed/],
  ['set local role postgres', /SET is not allowed/],
  ['reset role', /SET is not allowed/],
  ['set session authorization postgres', /SET/],
  ['lock table customers in access exclusive mode', /LOCK/],
  ['begin', /transaction control/],
  ['commit', /transaction control/],
  ['rollback', /transaction control/],
  ['savepoint s', /transaction control/],
  ['prepare p as delete from customers', /PREPARE/],
  ['execute p', /EXECUTE/],
  ['declare c cursor for select 1', /DECLARE CURSOR/],
  ['listen channel', /LISTEN/],
  ['notify channel', /NOTIFY/],
  ['vacuum customers', /VACUUM/],
  ['analyze customers', /VACUUM or ANALYZE/],
  ['refresh materialized view v', /REFRESH/],
  ["load 'plpgsql'", /LOAD/],
  ['checkpoint', /CHECK POINT/],
  ["select nextval('orders_id_seq')", /nextval\(\) has side effects/],
  ["select setval('orders_id_seq', 1)", /setval/],
  ['select "nextval"(\'orders_id_seq\')', /nextval/],
  ["select pg_catalog.NEXTVAL('orders_id_seq')", /pg_catalog\.nextval\(\)/],
  ["select set_config('role', 'postgres', true)", /set_config/],
  ["select set_config('statement_timeout', '0', false)", /set_config/],
  ["select pg_read_file('/etc/passwd')", /pg_read_file/],
  ["select pg_read_binary_file('/etc/passwd')", /pg_read_binary_file/],
  ["select * from pg_ls_dir('.')", /pg_ls_dir/],
  ["select pg_stat_file('postgresql.conf')", /pg_stat_file/],
  ["select lo_import('/etc/passwd')", /lo_import/],
  ["select lo_export(1, '/tmp/x')", /lo_export/],
  ['select lo_create(0)', /lo_create/],
  ["select lo_from_bytea(0, 'x')", /lo_from_bytea/],
  ['select pg_advisory_lock(1)', /pg_advisory_lock/],
  ['select pg_try_advisory_xact_lock(1)', /pg_try_advisory_xact_lock/],
  ['select pg_terminate_backend(1)', /pg_terminate_backend/],
  ['select pg_cancel_backend(1)', /pg_cancel_backend/],
  ['select pg_reload_conf()', /pg_reload_conf/],
  ["select pg_notify('c', 'x')", /pg_notify/],
  ["select pg_logical_emit_message(false, 'p', 'x')", /pg_logical_emit_message/],
  ["select * from dblink('dbname=threadwork', 'delete from runs') as t(a int)", /dblink/],
  ["select dblink_exec('dbname=x', 'drop table t')", /dblink_exec/],
  ["select query_to_xml('delete from customers returning *', true, true, '')", /query_to_xml/],
  ["select * from ts_stat('delete from customers returning null::tsvector')", /ts_stat/],
  ["select (select nextval('s')) as n", /nextval/],
  ["select * from customers where id in (select setval('s', 1))", /setval/],
  ['select * from customers where exists (select pg_advisory_lock(id))', /pg_advisory_lock/],
  ['select 1\u0000; delete from customers', /NUL character/],
  ['selec 1', /does not parse/],
  ["select 'unterminated", /does not parse/],
];

describe('checkReadOnlyQuery', () => {
  it.each(admitted)('admits %s', async (query, kind) => {
    expect(await checkReadOnlyQuery(query)).toMatchObject({ allowed: true, kind });
  });

  it.each([
    ['select 1', 'select 1'],
    ['SELECT * FROM customers WHERE id = 1;', 'SELECT * FROM customers WHERE id = 1'],
    ['/* why */ select 1 ;  -- done', 'select 1 '],
    ["select 'é -- ;' as x; ", "select 'é -- ;' as x"],
    ['select 1 -- a comment', 'select 1 -- a comment'],
  ])('gives the statement of %j alone', async (query, statement) => {
    expect(await checkReadOnlyQuery(query)).toMatchObject({ allowed: true, statement });
  });

  it.each(refused)('refuses %s', async (query, reason) => {
    const verdict = await checkReadOnlyQuery(query);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toMatch(reason);
  });

  it('walks parse trees nested deeper than a recursive walk could', async () => {
    const depth = 3_000;
    const query = `select ${'('.repeat(depth)}1${')'.repeat(depth)}`;
    const verdict = await checkReadOnlyQuery(query);
    if (verdict.allowed) expect(verdict.kind).toBe('select');
    else expect(verdict.reason).toMatch(/does not parse|stack/);
  });
});
