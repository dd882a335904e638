import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { describeDriver, parseCli, PG_POOL_DEFAULT, UsageError, type ServerOptions } from '../src/cli.ts'

// --db picks the storage driver (issue 14). The lead wires `driver` into server.ts; the flag errors are also
// held at process level in tests/process/db-flag.test.ts.
const test = suite('cli: --db and --pg-pool')

const options = (argv: string[], env: NodeJS.ProcessEnv = {}): ServerOptions => {
  const parsed = parseCli(argv, env)
  if (parsed.kind !== 'run') throw new Error(parsed.kind)
  return parsed.options
}
const usageError = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    parseCli(argv, env)
  } catch (err) {
    assert.instance(err, UsageError)
    return (err as Error).message
  }
  throw new Error(`accepted: ${argv.join(' ')}`)
}

test('anything but a postgres URL is a SQLite path, ./docket.db by default', () => {
  assert.equal(options([]).driver, { kind: 'sqlite', path: './docket.db' })
  for (const path of ['/tmp/x.db', ':memory:', 'file:x.db?mode=memory', 'postgres.db', 'postgres:x', 'mysql://h/db']) {
    assert.equal(options(['--db', path]).driver, { kind: 'sqlite', path }, path)
  }
  assert.equal(options([], { DOCKET_DB: '/var/d.db' }).driver, { kind: 'sqlite', path: '/var/d.db' })
})

test('postgres:// and postgresql:// URLs (flag or DOCKET_DB) select PostgreSQL with a pool of 10', () => {
  const url = 'postgres://docket:pw@db.internal:6432/work'
  assert.equal(options(['--db', url]).driver, { kind: 'postgres', url, target: { host: 'db.internal', port: 6432, database: 'work' }, poolSize: PG_POOL_DEFAULT })
  const env = 'POSTGRESQL://u@[::1]/d%20b'
  assert.equal(options([], { DOCKET_DB: env }).driver, { kind: 'postgres', url: env, target: { host: '::1', port: 5432, database: 'd b' }, poolSize: 10 })
  assert.equal(options(['--db', url], { DOCKET_DB: '/x.db' }).driver.kind, 'postgres')
})

test('libpq defaults: localhost, 5432, the database named after the user; a host parameter wins', () => {
  const target = (url: string) => (options(['--db', url]).driver as { target: unknown }).target
  assert.equal(target('postgres://'), { host: 'localhost', port: 5432, database: 'postgres' })
  assert.equal(target('postgresql://ann@db'), { host: 'db', port: 5432, database: 'ann' })
  assert.equal(target('postgres:///docket?host=/var/run/postgresql'), { host: '/var/run/postgresql', port: 5432, database: 'docket' })
})

test('--pg-pool sets the pool size within 1..200; it is refused for SQLite', () => {
  const pg = ['--db', 'postgres://h/db']
  assert.is((options([...pg, '--pg-pool', '1']).driver as { poolSize: number }).poolSize, 1)
  assert.is((options([...pg, '--pg-pool', '200']).driver as { poolSize: number }).poolSize, 200)
  for (const n of ['0', '201', '-1', '2.5', 'ten']) assert.match(usageError([...pg, `--pg-pool=${n}`]), /--pg-pool must be an integer between 1 and 200/)
  assert.match(usageError(['--pg-pool', '5']), '--pg-pool applies to a PostgreSQL --db')
})

test('the startup description names driver, host, port and database, never the password', () => {
  assert.is(describeDriver(options(['--db', './d.db']).driver), 'SQLite ./d.db')
  const pg = options(['--db', 'postgres://docket:s3cr%40t@db.internal:6432/work', '--pg-pool', '4']).driver
  assert.is(describeDriver(pg), 'PostgreSQL postgres://db.internal:6432/work (pool 4)')
  assert.is(describeDriver(options(['--db', 'postgres://u:p@[2001:db8::1]/w']).driver), 'PostgreSQL postgres://[2001:db8::1]:5432/w (pool 10)')
})

test('a malformed postgres URL is a usage error that does not repeat it', () => {
  const message = usageError(['--db', 'postgres://docket:s3cret@db:notaport/work'])
  assert.match(message, '--db: not a valid PostgreSQL URL')
  assert.not.match(message, 's3cret')
})

test.run()
