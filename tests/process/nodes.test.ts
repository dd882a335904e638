import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startNodes } from '../helpers/nodes.ts'
import { expectStatus } from '../helpers/fixtures.ts'
import { loadMigrations } from '../../src/store/postgres/migrate.ts'

const test = suite('several nodes on one PostgreSQL (child processes)')

test('three nodes started at once on an empty database each serve, and the schema is applied once', async () => {
  const cluster = await startNodes(3)
  try {
    assert.is(new Set(cluster.nodes.map((n) => n.url)).size, 3)
    for (const node of cluster.nodes) {
      expectStatus(await node.request('GET', '/openapi.json'), 200)
      assert.match(node.output(), /PostgreSQL/)
      assert.not.match(node.output(), new URL(cluster.databaseUrl).password)
    }
    const versions = (await cluster.sql('SELECT version FROM docket_migrations ORDER BY version')).map((r) => r.version)
    assert.equal(versions, loadMigrations().map((m) => m.version))
  } finally {
    await cluster.close()
  }
  for (const node of cluster.nodes) assert.equal(await node.exited, { code: 0, signal: null }, node.output())
})

test.run()
