// OTLP ingest: 4 concurrent exporters POST protobuf batches of 512 spans (serialized by the official
// @opentelemetry/otlp-transformer, like the proto exporter sends them) for a fixed time, then the same with gzip.
import { gzipSync } from 'node:zlib'
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer'
import { SpanKind } from '@opentelemetry/api'
import { readableSpan } from '../../tests/helpers/otlp.ts'
import type { BenchContext, DocketProcess, Workload, WorkloadResult } from '../lib/types.ts'
import { createClient } from '../lib/client.ts'
import { processCpuMs } from '../lib/docket.ts'
import { round, summarize } from '../lib/stats.ts'

const BATCH = 512
const EXPORTERS = 4
const DISTINCT_PAYLOADS = 64
const TARGET_SPANS_PER_S = 50_000
// A cap on requests per phase besides its time, so the count is bounded too (over 15× what a 10 s phase has taken).
const MAX_REQUESTS = 20_000

// What the Node SDK's default detectors put on every resource (about 500 bytes).
const SDK_RESOURCE = {
  'service.name': 'agent', 'service.version': '1.4.2', 'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.name': 'opentelemetry',
  'telemetry.sdk.version': '3.1.1', 'host.name': 'worker-7f9c6d5b4-x2x9z', 'host.arch': 'amd64', 'os.type': 'linux',
  'process.pid': 4242, 'process.executable.name': 'node', 'process.runtime.name': 'nodejs', 'process.runtime.version': '24.21.0',
  'process.command': '/app/dist/agent.js', 'process.owner': 'app',
}

/** Payloads built before the clock starts, so the client's CPU goes to sending, not serializing. */
function payloads(count: number, gzip: boolean): Buffer[] {
  return Array.from({ length: count }, (_, p) => {
    const runId = `run-${p % 16}`
    // Traces of 8 spans (a root and its children), as an agent's tool calls would make.
    const spans = Array.from({ length: BATCH }, (_, i) => readableSpan({
      traceId: `${p.toString(16).padStart(8, '0')}${Math.floor(i / 8).toString(16).padStart(8, '0')}${'0'.repeat(15)}1`,
      name: `llm.call ${i % 7}`,
      kind: SpanKind.CLIENT,
      parentSpanId: i % 8 === 0 ? undefined : '00000000000000aa',
      attributes: { 'docket.task_id': `task-${p}`, 'gen_ai.system': 'openai', 'gen_ai.usage.input_tokens': 1200 + i, 'http.status_code': 200, retry: false },
      resource: { ...SDK_RESOURCE, 'docket.run_id': runId },
    }))
    const body = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!)
    return gzip ? gzipSync(body) : body
  })
}

/** Exporters POST batches until `seconds` have passed or MAX_REQUESTS were sent, whichever comes first. */
async function drive(docket: DocketProcess, bodies: Buffer[], gzip: boolean, seconds: number) {
  const cpuBefore = processCpuMs(docket.pid)
  const client = createClient(docket.url, EXPORTERS)
  const headers: Record<string, string> = { 'content-type': 'application/x-protobuf', 'user-agent': 'docket-bench' }
  if (gzip) headers['content-encoding'] = 'gzip'
  const latencies: number[] = []
  let failures = 0
  let next = 0
  const started = performance.now()
  const deadline = started + seconds * 1000
  const exporter = async () => {
    while (performance.now() < deadline && next < MAX_REQUESTS) {
      const body = bodies[next++ % bodies.length]
      const t0 = performance.now()
      const res = await client.send('POST', '/v1/traces', body, headers)
      latencies.push(performance.now() - t0)
      // A full success is 200 with an empty protobuf ExportTraceServiceResponse.
      if (res.status !== 200 || res.body.length !== 0) failures += 1
    }
  }
  try {
    await Promise.all(Array.from({ length: EXPORTERS }, exporter))
  } finally {
    await client.close()
  }
  const elapsedS = (performance.now() - started) / 1000
  const serverCpuS = (processCpuMs(docket.pid) - cpuBefore) / 1000
  const latency = summarize(latencies)
  return {
    spansPerS: round((latencies.length * BATCH) / elapsedS),
    spansPerCpuS: round((latencies.length * BATCH) / serverCpuS),
    serverBusy: round(serverCpuS / elapsedS),
    p50: round(latency.p50),
    p99: round(latency.p99),
    requests: latencies.length,
    failures,
  }
}

const workload: Workload = {
  name: 'otlp',
  description: `OTLP/protobuf trace ingest: ${EXPORTERS} concurrent exporters, batches of ${BATCH} spans (plain, then gzip)`,
  async run(ctx: BenchContext): Promise<WorkloadResult> {
    const seconds = ctx.quick ? 3 : 10
    const plain = payloads(DISTINCT_PAYLOADS, false)
    const gzipped = payloads(DISTINCT_PAYLOADS, true)
    ctx.log(`otlp: batch ${plain[0].length} bytes (${gzipped[0].length} gzip), ${seconds} s per phase`)
    const docket = await ctx.startDocket()
    try {
      await drive(docket, plain, false, 1) // warm-up: JIT, page cache, WAL
      const p = await drive(docket, plain, false, seconds)
      const g = await drive(docket, gzipped, true, seconds)
      return {
        metrics: {
          spans_per_s: p.spansPerS,
          spans_per_server_cpu_s: p.spansPerCpuS,
          server_cpu_busy: p.serverBusy,
          export_p50_ms: p.p50,
          export_p99_ms: p.p99,
          gzip_spans_per_s: g.spansPerS,
          gzip_export_p99_ms: g.p99,
          gzip_spans_per_server_cpu_s: g.spansPerCpuS,
          failed_exports: p.failures + g.failures,
          target_spans_per_s: TARGET_SPANS_PER_S,
          peak_rss_mb: round(docket.peakRssMb()),
        },
        notes: [
          `${p.requests} + ${g.requests} export requests of ${BATCH} spans; each is one transaction of ${BATCH} inserts into spans and its 3 indexes.`,
          'The load generator runs on the same machine and takes CPU from the server; spans_per_server_cpu_s (spans per '
            + 'second of server CPU) is what one free core would ingest, and varies less on a shared machine.',
        ],
      }
    } finally {
      await docket.stop()
    }
  },
}

export default workload
