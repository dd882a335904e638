import { suite } from 'uvu'
import * as assert from 'uvu/assert'
import { startServer, type TestServer } from '../helpers/server.ts'
import { createPipeline, expectError, expectStatus, linearDefinition, unique } from '../helpers/fixtures.ts'

const test = suite<{ s: TestServer }>('pipelines', {} as { s: TestServer })
test.before(async (ctx) => { ctx.s = await startServer() })
test.after(async (ctx) => ctx.s.close())

const def = () => linearDefinition({ work: unique('w'), review: unique('r') })

test('create, get and list a pipeline with its definition as sent', async ({ s }) => {
  const definition = { ...def(), extra: { kept: true } }
  const id = await createPipeline(s, definition)
  const one = expectStatus(await s.request('GET', `/pipelines/${id}`), 200).body
  assert.equal(one.definition, definition)
  assert.is(one.paused, false)
  const all = expectStatus(await s.request('GET', '/pipelines'), 200).body
  assert.ok(all.some((p: { id: string }) => p.id === id))
})

test('a duplicate name is 409 duplicate_name', async ({ s }) => {
  const name = unique('dup')
  expectStatus(await s.request('POST', '/pipelines', { name, definition: def() }), 201)
  expectError(await s.request('POST', '/pipelines', { name, definition: def() }), 409, 'duplicate_name')
})

test('each broken definition rule is named in details', async ({ s }) => {
  const cases: Array<[unknown, string]> = [
    [{ ...def(), initial: '' }, 'definition.initial'],
    [{ ...def(), initial: 'nowhere' }, 'definition.initial'],
    [{ ...def(), transitions: [] }, 'definition.transitions'],
    [{ initial: 'a', states: { a: { agent_role: 'x' } }, transitions: [{ from: 'a', to: 'a', trigger: 't' }] }, 'definition.states'],
    [{ initial: 'a', states: { a: {}, b: { terminal: true, agent_role: 'x' } }, transitions: [{ from: 'a', to: 'b', trigger: 't' }] }, 'definition.states["b"].agent_role'],
    [{ initial: 'a', states: { a: {}, b: { terminal: true } }, transitions: [{ from: 'a', to: 'b', trigger: 't' }, { from: 'a', to: 'a', trigger: 't' }] }, 'definition.transitions[1].trigger'],
    [{ initial: 'a', states: { a: {}, b: { terminal: true } }, transitions: [{ from: 'a', to: 'c', trigger: 't' }] }, 'definition.transitions[0].to'],
    [{ initial: 'a', states: { a: {}, b: {}, c: { terminal: true } }, transitions: [{ from: 'a', to: 'c', trigger: 't' }] }, 'definition.states["b"]'],
    [{ initial: 5, states: {}, transitions: [] }, 'definition.initial'],
    ['not an object', 'definition'],
  ]
  for (const [definition, path] of cases) {
    const res = expectError(await s.request('POST', '/pipelines', { name: unique('bad'), definition }), 400, 'validation_failed')
    assert.ok(res.body.error.details.some((d: { path: string }) => d.path === path), `${path} not in ${res.text}`)
  }
})

test('arrays are not objects: a state, a transition or the states map given as an array is rejected', async ({ s }) => {
  const cases: Array<[unknown, string]> = [
    [{ initial: 'a', states: { a: [], b: { terminal: true } }, transitions: [{ from: 'a', to: 'b', trigger: 't' }] }, 'definition.states["a"]'],
    [{ initial: 'a', states: [{ terminal: true }], transitions: [{ from: 'a', to: 'b', trigger: 't' }] }, 'definition.states'],
    [{ ...def(), transitions: [[]] }, 'definition.transitions[0]'],
    [[], 'definition'],
  ]
  for (const [definition, path] of cases) {
    const res = expectError(await s.request('POST', '/pipelines', { name: unique('bad'), definition }), 400, 'validation_failed')
    assert.ok(res.body.error.details.some((d: { path: string }) => d.path === path), `${path} not in ${res.text}`)
  }
})

test('states named constructor, prototype and __proto__ are ordinary stages', async ({ s }) => {
  const definition = JSON.parse(`{"initial":"constructor","states":{"constructor":{"agent_role":"${unique('r')}"},
    "prototype":{"agent_role":"${unique('r')}"},"__proto__":{"terminal":true}},
    "transitions":[{"from":"constructor","to":"prototype","trigger":"a"},{"from":"prototype","to":"__proto__","trigger":"b"}]}`)
  const id = await createPipeline(s, definition)
  assert.equal(Object.keys(expectStatus(await s.request('GET', `/pipelines/${id}`), 200).body.definition.states), ['constructor', 'prototype', '__proto__'])
  const task = expectStatus(await s.request('POST', '/tasks', { pipeline_id: id, title: 't', description: 'd', retry_policy: { dead_letter_stage: '__proto__' } }), 201).body.id
  const detail = expectStatus(await s.request('GET', `/tasks/${task}`), 200).body
  assert.is(detail.stage, 'constructor')
  assert.equal(detail.available_transitions, [{ trigger: 'a', to: 'prototype', required_gates: [] }])
})

test('malformed, non-object and empty bodies are 400 invalid_json', async ({ s }) => {
  for (const body of ['{', '[]', '"x"', '', 'null']) {
    expectError(await s.request('POST', '/pipelines', body), 400, 'invalid_json')
  }
})

test('missing and wrongly typed fields are 400 validation_failed naming them', async ({ s }) => {
  const res = expectError(await s.request('POST', '/pipelines', { name: 7 }), 400, 'validation_failed')
  const paths = res.body.error.details.map((d: { path: string }) => d.path)
  assert.ok(paths.includes('name') && paths.includes('definition'), res.text)
})

test('an unknown pipeline is 404 not_found', async ({ s }) => {
  expectError(await s.request('GET', '/pipelines/nope'), 404, 'not_found')
})

test.run()
