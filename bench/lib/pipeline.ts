// The pipeline every cycle-shaped workload uses: one role stage, one trigger, one terminal stage.

export function cycleDefinition(role: string) {
  return {
    initial: 'todo',
    states: { todo: { agent_role: role }, done: { terminal: true } },
    transitions: [{ from: 'todo', to: 'done', trigger: 'complete' }],
  }
}

export const BULK_SIZE = 500
