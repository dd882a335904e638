import * as v from 'valibot'
import { JsonObject, looseObjectOf } from './schema.ts'

export type Issue = { path: string; message: string }

const State = looseObjectOf({
  agent_role: v.nullish(v.string()),
  description: v.nullish(v.string()),
  terminal: v.nullish(v.boolean()),
  /** A human gate: no agent claims here; POST /tasks/{id}/signal moves a task on. */
  gate: v.nullish(v.boolean()),
  workflow_id: v.nullish(v.string()),
})

const Transition = looseObjectOf({
  from: v.string(),
  to: v.string(),
  trigger: v.string(),
  instructions: v.nullish(v.string()),
  required_gates: v.nullish(v.array(v.string())),
})

// States are checked one by one in definitionIssues: a record schema would drop states named
// `constructor`, `prototype` or `__proto__`, which are ordinary stage names here.
export const DefinitionSchema = looseObjectOf({
  initial: v.string(),
  states: JsonObject,
  transitions: v.array(Transition),
})

type StateShape = v.InferOutput<typeof State>

export type StageInfo = { name: string; agentRole: string | null; isTerminal: boolean; isGate: boolean }
export type TransitionInfo = {
  from: string
  to: string
  trigger: string
  instructions: string | null
  requiredGates: string[]
}

/** A parsed, validated pipeline definition; pipelines are immutable, so this is computed once per pipeline. */
export type CompiledPipeline = {
  initial: string
  stages: Map<string, StageInfo>
  transitions: TransitionInfo[]
}

type Definition = v.InferOutput<typeof DefinitionSchema>

/** Validates the shape (already checked by DefinitionSchema) against the rules of SPEC §6; returns each broken rule. */
export function definitionIssues(def: Definition): Issue[] {
  const issues: Issue[] = []
  const at = (path: string, message: string) => issues.push({ path: `definition${path}`, message })
  for (const [name, value] of Object.entries(def.states)) {
    const result = v.safeParse(State, value)
    for (const issue of result.issues ?? []) {
      const field = issue.path?.map((item) => `.${String((item as { key: unknown }).key)}`).join('') ?? ''
      at(`.states[${JSON.stringify(name)}]${field}`, issue.message)
    }
  }
  if (issues.length > 0) return issues
  const states = new Map(Object.entries(def.states as Record<string, StateShape>))
  if (def.initial === '') at('.initial', 'must not be empty')
  if (states.size === 0) at('.states', 'must have at least one state')
  if (def.transitions.length === 0) at('.transitions', 'must have at least one transition')
  if (def.initial !== '' && !states.has(def.initial)) at('.initial', `names no state: ${def.initial}`)
  const seen = new Set<string>()
  def.transitions.forEach((t, i) => {
    if (!states.has(t.from)) at(`.transitions[${i}].from`, `names no state: ${t.from}`)
    if (!states.has(t.to)) at(`.transitions[${i}].to`, `names no state: ${t.to}`)
    const pair = JSON.stringify([t.from, t.trigger])
    if (seen.has(pair)) at(`.transitions[${i}].trigger`, `duplicate trigger ${t.trigger} from ${t.from}`)
    seen.add(pair)
  })
  if (states.size > 0 && ![...states.values()].some((s) => s.terminal === true)) {
    at('.states', 'at least one state must be terminal')
  }
  const sources = new Set(def.transitions.map((t) => t.from))
  for (const [name, state] of states) {
    const key = `.states[${JSON.stringify(name)}]`
    if (state.terminal === true && state.agent_role != null) at(`${key}.agent_role`, 'a terminal state cannot have an agent_role')
    if (state.gate === true && state.agent_role != null) at(`${key}.agent_role`, 'a gate cannot have an agent_role')
    if (state.gate === true && state.terminal === true) at(`${key}.gate`, 'a terminal state cannot be a gate')
    if (state.terminal !== true && !sources.has(name)) at(key, 'a non-terminal state needs at least one outgoing transition')
  }
  return issues
}

/** `def` must have passed definitionIssues (its states are then State objects). */
export function compilePipeline(def: Definition): CompiledPipeline {
  const stages = new Map<string, StageInfo>()
  for (const [name, s] of Object.entries(def.states as Record<string, StateShape>)) {
    stages.set(name, { name, agentRole: s.agent_role ?? null, isTerminal: s.terminal === true, isGate: s.gate === true })
  }
  const transitions = def.transitions.map((t) => ({
    from: t.from,
    to: t.to,
    trigger: t.trigger,
    instructions: t.instructions ?? null,
    requiredGates: t.required_gates ?? [],
  }))
  return { initial: def.initial, stages, transitions }
}

export function findTransition(p: CompiledPipeline, from: string, trigger: string): TransitionInfo | undefined {
  return p.transitions.find((t) => t.from === from && t.trigger === trigger)
}

export function isTerminalStage(p: CompiledPipeline, stage: string): boolean {
  return p.stages.get(stage)?.isTerminal === true
}

export function isGateStage(p: CompiledPipeline, stage: string): boolean {
  return p.stages.get(stage)?.isGate === true
}

/** (stage, role) pairs that agents can claim from: non-terminal stages with an agent_role. */
export function claimableStages(p: CompiledPipeline): StageInfo[] {
  return [...p.stages.values()].filter((s) => s.agentRole !== null && !s.isTerminal)
}
