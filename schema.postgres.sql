-- Docket's PostgreSQL schema: the same tables as schema.sql (the SQLite driver's), so both drivers give the
-- same answers. Each "-- @migration N: what" block moves a database from version N-1 to N;
-- src/store/postgres/migrate.ts applies the blocks a database lacks at every start, each in its own
-- transaction under one advisory lock, and records them in docket_migrations, so nodes that start together
-- migrate once. Never edit a block that has shipped: append a new one.
--
-- PostgreSQL 14 or newer. The newest thing used is 14's SQL-standard function body (BEGIN ATOMIC): parsed
-- once, at CREATE time, so no session setting (standard_conforming_strings) can change how its literals
-- read later. Older features: generated columns (12), sha256() (11), identity columns (10), regexp
-- lookbehind (9.6), the tsquery phrase operator <-> (9.6), SKIP LOCKED (9.5).
--
-- Conventions, and why:
-- - Times are bigint epoch milliseconds, as the clock gives them (SQL never reads now()).
-- - Every text column that is compared, ordered or paged on is COLLATE "C": byte order, as SQLite's BINARY,
--   so lists, cursors and tie-breaks come out in the same order whatever the server's default collation.
-- - Text holds no U+0000 (PostgreSQL cannot store it). The driver maps every string it binds, and back every
--   text it reads, in one place (src/store/postgres/text.ts): U+0000 → U+0001 U+0001, U+0001 → U+0001 U+0002.
--   The map is injective and keeps byte order, so equality, UNIQUE, ORDER BY and cursors behave as on the
--   original strings; both characters are separators to to_tsvector, as NUL is to FTS5.
-- - JSON is text: the JSON.stringify output the driver was given, echoed back byte for byte. Not jsonb (it
--   reorders keys, drops duplicates and rejects \u0000) and not json (its operators fail on \u0000 too). A
--   query that looks inside a value goes through docket_json() (migration 3), which maps \u0000 and \u0001
--   escapes the way text.ts maps the characters.
-- - Booleans are boolean where SQLite has 0/1; hashes and OTLP ids are bytea.
-- - Serial ids (events, spans, store, ...) are identity columns BY DEFAULT, so a copy from SQLite keeps them.
--   They are handed out in insert order, not commit order: two nodes' inserts can commit out of id order.

-- @migration 1: pipelines, tasks, runs with their lease, events, dependencies, assignments, artifacts, idempotency

-- SHA-256 of a text's UTF-8 bytes, for UNIQUE keys over text too long for a btree entry (~2.7 KB). convert_to
-- is only STABLE (a conversion could change), which a generated column refuses; from a UTF8 database to
-- UTF8 it is the identity, and the driver refuses any other encoding (connect.ts), hence IMMUTABLE.
CREATE FUNCTION docket_sha256(t text) RETURNS bytea LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN sha256(convert_to(t, 'UTF8'));

CREATE TABLE pipelines (
  id              text COLLATE "C" PRIMARY KEY,
  name            text COLLATE "C" NOT NULL UNIQUE,
  definition_json text NOT NULL,
  paused          boolean NOT NULL DEFAULT false,
  created_at_ms   bigint NOT NULL
);

-- Derived from each definition at create time (pipelines are immutable): the stages an agent role claims
-- from. Terminal stages are never listed, so they are never claimable. The primary key leads with the role:
-- it is the claim's first lookup.
CREATE TABLE stage_roles (
  agent_role  text COLLATE "C" NOT NULL,
  pipeline_id text COLLATE "C" NOT NULL REFERENCES pipelines (id),
  stage       text COLLATE "C" NOT NULL,
  PRIMARY KEY (agent_role, pipeline_id, stage)
);

CREATE TABLE tasks (
  id                  text COLLATE "C" PRIMARY KEY,
  pipeline_id         text COLLATE "C" NOT NULL REFERENCES pipelines (id),
  stage               text COLLATE "C" NOT NULL,
  title               text NOT NULL,
  description         text NOT NULL,
  priority            bigint NOT NULL,
  metadata_json       text NOT NULL,
  task_version        bigint NOT NULL,
  next_eligible_at_ms bigint NOT NULL,
  max_attempts        bigint,
  retry_delay_ms      bigint NOT NULL,
  dead_letter_stage   text COLLATE "C",
  dead_letter_reason  text CHECK (dead_letter_reason IN ('max_attempts_exceeded', 'canceled')),
  failed_attempts     bigint NOT NULL DEFAULT 0, -- failed and stale runs since creation or the last requeue
  open_dependencies   bigint NOT NULL DEFAULT 0, -- upstream tasks whose stage is not terminal
  assignee            text COLLATE "C",          -- agent of the one active assignment, if any
  active_run_id       text COLLATE "C",          -- run holding the lease, while one does
  created_at_ms       bigint NOT NULL,
  updated_at_ms       bigint NOT NULL
);

-- The claim plan: one ordered index search per (pipeline, stage) of a role, LIMIT 1 FOR UPDATE SKIP LOCKED
-- (src/store/postgres/claim.ts). Tasks that are dead-lettered, leased or waiting on dependencies are not in
-- it at all, so however many of them sit in front, a claim never reads them; a row locked by another
-- claimer is stepped over in index order. tests/drivers/postgres/claim-plan.test.ts holds the plan to it.
CREATE INDEX tasks_claimable ON tasks (pipeline_id, stage, priority DESC, created_at_ms, id)
  WHERE dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0;
-- GET /tasks pages in (created_at_ms, id) order, optionally filtered by stage or pipeline.
CREATE INDEX tasks_by_created ON tasks (created_at_ms, id);
CREATE INDEX tasks_by_stage ON tasks (stage, created_at_ms, id);
CREATE INDEX tasks_by_pipeline ON tasks (pipeline_id, created_at_ms, id);
CREATE INDEX tasks_dead_lettered ON tasks (dead_letter_reason) WHERE dead_letter_reason IS NOT NULL;
-- Tasks whose run holds the lease (a handful per stage: as many as agents at work). The claim counts a
-- stage's live leases through it for per-stage limits; joined from runs instead, a planner with stale
-- statistics read every task of the stage to find them.
CREATE INDEX tasks_held ON tasks (pipeline_id, stage) WHERE active_run_id IS NOT NULL;

-- Task counts by stage for /health, kept by triggers so that /health never scans tasks. Each stage's count
-- is spread over 16 rows, one picked by the writing backend: a single row per stage would be locked by every
-- task insert until its commit, serializing all creates of a stage across every node. /health sums them.
CREATE TABLE stage_counts (
  stage text COLLATE "C" NOT NULL,
  shard smallint NOT NULL CHECK (shard BETWEEN 0 AND 15),
  count bigint NOT NULL,
  PRIMARY KEY (stage, shard)
);

CREATE FUNCTION docket_count_stage(stage_name text, delta bigint) RETURNS void LANGUAGE sql BEGIN ATOMIC
  INSERT INTO stage_counts (stage, shard, count) VALUES (stage_name, pg_backend_pid() % 16, delta)
    ON CONFLICT (stage, shard) DO UPDATE SET count = stage_counts.count + excluded.count;
END;

-- Inserts are counted once per statement (a bulk create is one upsert per stage, not one per task).
CREATE FUNCTION tasks_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO stage_counts (stage, shard, count)
    SELECT stage, pg_backend_pid() % 16, count(*) FROM inserted GROUP BY stage ORDER BY stage
    ON CONFLICT (stage, shard) DO UPDATE SET count = stage_counts.count + excluded.count;
  RETURN NULL;
END
$$;

-- Moves row by row: a transition table cannot go with UPDATE OF stage, and without the column list every
-- claim and heartbeat would run this. Both rows of a move in one order (by stage), so two moves in
-- opposite directions cannot deadlock on them.
CREATE FUNCTION tasks_count_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF old.stage < new.stage THEN
    PERFORM docket_count_stage(old.stage, -1);
    PERFORM docket_count_stage(new.stage, 1);
  ELSE
    PERFORM docket_count_stage(new.stage, 1);
    PERFORM docket_count_stage(old.stage, -1);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION tasks_count_inserted();
CREATE TRIGGER tasks_count_move AFTER UPDATE OF stage ON tasks
  FOR EACH ROW WHEN (old.stage IS DISTINCT FROM new.stage) EXECUTE FUNCTION tasks_count_moved();

-- A run is one attempt at a task by one agent; its lease lives on the same row (a run has at most one
-- lease in its life, so the lease is named by the run's id). lease_expires_at_ms is NULL once released.
CREATE TABLE runs (
  id                  text COLLATE "C" PRIMARY KEY,
  task_id             text COLLATE "C" NOT NULL REFERENCES tasks (id),
  attempt             bigint NOT NULL,
  status              text NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stale', 'canceled', 'released')),
  agent_id            text COLLATE "C" NOT NULL,
  agent_role          text COLLATE "C" NOT NULL,
  started_at_ms       bigint NOT NULL,
  ended_at_ms         bigint,
  usage_json          text NOT NULL DEFAULT '{}',
  error_text          text,
  lease_token_hash    bytea NOT NULL,
  lease_ttl_ms        bigint NOT NULL,
  lease_expires_at_ms bigint,
  last_heartbeat_ms   bigint,
  UNIQUE (task_id, attempt)
);

-- Live leases only: the reaper's "expired" probe, /health's active count, per-stage concurrency.
CREATE INDEX runs_live_leases ON runs (lease_expires_at_ms) WHERE lease_expires_at_ms IS NOT NULL;

CREATE TABLE events (
  id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  run_id    text COLLATE "C" NOT NULL REFERENCES runs (id),
  ts_ms     bigint NOT NULL,
  kind      text NOT NULL,
  data_json text NOT NULL
);

CREATE INDEX events_by_run ON events (run_id, id);

-- seq is creation order, which the lists report (SQLite's rowid).
CREATE TABLE task_dependencies (
  seq                bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  task_id            text COLLATE "C" NOT NULL REFERENCES tasks (id),
  depends_on_task_id text COLLATE "C" NOT NULL REFERENCES tasks (id),
  created_at_ms      bigint NOT NULL,
  UNIQUE (task_id, depends_on_task_id)
);

CREATE INDEX task_dependents ON task_dependencies (depends_on_task_id);

CREATE TABLE task_assignments (
  seq           bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  task_id       text COLLATE "C" NOT NULL REFERENCES tasks (id),
  agent_id      text COLLATE "C" NOT NULL,
  assigned_by   text,
  active        boolean NOT NULL,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  UNIQUE (task_id, agent_id)
);

CREATE TABLE artifacts (
  id            text COLLATE "C" PRIMARY KEY,
  task_id       text COLLATE "C" REFERENCES tasks (id),
  run_id        text COLLATE "C" REFERENCES runs (id),
  created_at_ms bigint NOT NULL,
  kind          text NOT NULL,
  uri           text NOT NULL,
  sha256        text,
  size_bytes    bigint,
  meta_json     text NOT NULL
);

CREATE INDEX artifacts_by_created ON artifacts (created_at_ms, id);
CREATE INDEX artifacts_by_task ON artifacts (task_id, created_at_ms, id) WHERE task_id IS NOT NULL;
CREATE INDEX artifacts_by_run ON artifacts (run_id, created_at_ms, id) WHERE run_id IS NOT NULL;

-- Answers of write requests sent with an Idempotency-Key, written in the transaction of the change. The
-- path (as sent, up to the 16 KiB header limit) is keyed by its hash: a btree entry holds at most ~2.7 KB.
-- The primary key is what makes one key sent to two nodes at once change once (INSERT … ON CONFLICT).
CREATE TABLE idempotency_keys (
  key           text COLLATE "C" NOT NULL,
  method        text COLLATE "C" NOT NULL,
  path          text NOT NULL,
  path_hash     bytea NOT NULL GENERATED ALWAYS AS (docket_sha256(path)) STORED,
  request_hash  bytea NOT NULL,
  status        integer NOT NULL,
  body          text,
  created_at_ms bigint NOT NULL,
  PRIMARY KEY (key, method, path_hash)
);

CREATE INDEX idempotency_by_age ON idempotency_keys (created_at_ms);

-- @migration 2: otlp

-- One row per OTLP export request. Decoded requests keep only their spans; a body that could not be decoded
-- is kept whole in payload_blob (as nullTickets keeps every non-JSON body).
CREATE TABLE otlp_batches (
  id             bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  received_at_ms bigint NOT NULL,
  content_type   text NOT NULL,
  stored         text NOT NULL CHECK (stored IN ('json', 'protobuf', 'blob')),
  accepted_spans bigint NOT NULL,
  rejected_spans bigint NOT NULL,
  payload_blob   bytea
);

-- Resource attributes (often most of a span's bytes: host, process, SDK) are stored once per distinct set,
-- found by the hash of their text (the text itself can pass a btree entry's ~2.7 KB limit). Two nodes
-- storing the same set at once meet on the UNIQUE (INSERT … ON CONFLICT DO NOTHING, then read).
CREATE TABLE otlp_resources (
  id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  attributes_json text NOT NULL,
  attributes_hash bytea NOT NULL GENERATED ALWAYS AS (docket_sha256(attributes_json)) STORED UNIQUE
);

-- Ids are raw bytes (16 / 8), read back as lowercase hex. run_id and task_id are not foreign keys: spans may
-- arrive before their run, or name one this database never had. Times are nanoseconds (fixed64 ≤ 2^63-1,
-- so bigint; select them as text: a JavaScript number cannot hold them). flags is a fixed32: bigint.
CREATE TABLE spans (
  id                       bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  batch_id                 bigint NOT NULL REFERENCES otlp_batches (id),
  trace_id                 bytea NOT NULL,
  span_id                  bytea NOT NULL,
  parent_span_id           bytea,
  trace_state              text,
  name                     text NOT NULL,
  kind                     integer NOT NULL,
  start_time_unix_nano     bigint NOT NULL,
  end_time_unix_nano       bigint NOT NULL,
  status_code              integer NOT NULL,
  status_message           text,
  flags                    bigint,
  attributes_json          text NOT NULL,
  resource_id              bigint NOT NULL REFERENCES otlp_resources (id),
  scope_name               text,
  scope_version            text,
  events_json              text,
  links_json               text,
  run_id                   text COLLATE "C",
  task_id                  text COLLATE "C"
);

-- GET /spans pages in id (arrival) order, filtered by run, task or trace; span_count counts a run's spans.
CREATE INDEX spans_by_run ON spans (run_id, id) WHERE run_id IS NOT NULL;
CREATE INDEX spans_by_task ON spans (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX spans_by_trace ON spans (trace_id, id);

-- @migration 3: store

-- A stored JSON text as json, with its \u0000 and \u0001 escapes mapped as src/store/postgres/text.ts maps
-- the characters (\u0000 → \u0001\u0001, \u0001 → \u0001\u0002; an escape is one not preceded by an odd
-- run of backslashes). PostgreSQL's json operators fail on a string holding \u0000; these never do, and what
-- they return is in the same encoding as every other text column, so a filter compares it with the bound
-- (mapped) filter_value directly: `docket_json(value_json) #>> path = $1`. JSON.stringify, which wrote every
-- stored value, writes these two characters only as those escapes.
CREATE FUNCTION docket_json(doc text) RETURNS json LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN strpos(doc, '\u000') = 0 THEN doc::json ELSE
    regexp_replace(regexp_replace(doc,
      '(?<!\\)((?:\\\\)*)\\u0001', '\1\\u0001\\u0002', 'g'),
      '(?<!\\)((?:\\\\)*)\\u0000', '\1\\u0001\\u0001', 'g')::json END;
END;

-- The same as jsonb, for filters: parsed once, then every step of a path is cheap (json's operators parse
-- the text again at each call). Its text form reorders keys, so an object or array is compared through
-- docket_json; numbers compare as numbers, which for the canonical JSON.stringify text stored here is the
-- same as comparing their text.
CREATE FUNCTION docket_jsonb(doc text) RETURNS jsonb LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN strpos(doc, '\u000') = 0 THEN doc::jsonb ELSE
    regexp_replace(regexp_replace(doc,
      '(?<!\\)((?:\\\\)*)\\u0001', '\1\\u0001\\u0002', 'g'),
      '(?<!\\)((?:\\\\)*)\\u0000', '\1\\u0001\\u0001', 'g')::jsonb END;
END;

-- Namespaced key-value entries. UNIQUE (namespace, key) is both the upsert target and the list order (byte
-- order: COLLATE "C"). `search` is what SQLite's store_fts indexes, as FTS5 tokenizes it: the driver computes
-- it (src/store/postgres/search-vector.ts) and writes it with the value, as a tsvector literal whose lexemes
-- are FTS5's tokens of the namespace, the key and the value's strings and numbers, so that no parser,
-- dictionary or locale of this server changes them; fields are two positions apart, so that a phrase (<->)
-- stays inside one. README: Store says what it holds of a large value.
CREATE TABLE store (
  id            bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  namespace     text COLLATE "C" NOT NULL,
  key           text COLLATE "C" NOT NULL,
  value_json    text NOT NULL,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  search        tsvector NOT NULL,
  UNIQUE (namespace, key)
);

CREATE INDEX store_search ON store USING gin (search);

-- @migration 4: console reads

-- The console's overview counts tasks waiting on dependencies per (pipeline, stage) through this index, so
-- it never scans the tasks that are not blocked.
CREATE INDEX tasks_blocked ON tasks (pipeline_id, stage)
  WHERE open_dependencies > 0 AND dead_letter_reason IS NULL AND active_run_id IS NULL;
-- The console's throughput chart reads the runs that ended in the last hour from this index alone.
CREATE INDEX runs_ended ON runs (ended_at_ms, status) WHERE ended_at_ms IS NOT NULL;

-- @migration 5: task events, task deletes

-- What happened to a task outside any run: edits, signals at a human gate, bulk requeues and cancels
-- (GET /tasks/{id}/events). A run's own events stay in `events`.
CREATE TABLE task_events (
  id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  task_id   text COLLATE "C" NOT NULL REFERENCES tasks (id),
  ts_ms     bigint NOT NULL,
  kind      text NOT NULL,
  data_json text NOT NULL
);

CREATE INDEX task_events_by_task ON task_events (task_id, id);

-- DELETE /tasks/{id}: /health's stage counts follow (deletes are one task at a time).
CREATE FUNCTION tasks_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM docket_count_stage(old.stage, -1);
  RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
  FOR EACH ROW EXECUTE FUNCTION tasks_count_deleted();

-- @migration 6: schedules

-- Rules that create tasks (README: Schedules); the same tables as SQLite's migration of the same name, which
-- says what each column holds. Names sort byte-wise (COLLATE "C") as SQLite's do.
CREATE TABLE schedules (
  name          text COLLATE "C" PRIMARY KEY,
  spec_json     text NOT NULL,
  paused        boolean NOT NULL DEFAULT false,
  anchor_ms     bigint NOT NULL,
  since_ms      bigint NOT NULL,
  last_slot_ms  bigint,
  last_task_id  text,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL
);

-- The UNIQUE key on scheduled slots makes a slot fire exactly once across nodes: two nodes firing one slot
-- serialize on the schedule's row (FOR UPDATE), and the second finds the first's row.
CREATE TABLE schedule_slots (
  id              bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
  schedule_name   text COLLATE "C" NOT NULL,
  scheduled_at_ms bigint NOT NULL,
  manual          boolean NOT NULL,
  task_id         text REFERENCES tasks (id) ON DELETE SET NULL,
  outcome         text NOT NULL CHECK (outcome IN ('created', 'skipped_overlap', 'failed')),
  error_text      text,
  created_at_ms   bigint NOT NULL
);
CREATE UNIQUE INDEX schedule_slots_once ON schedule_slots (schedule_name, scheduled_at_ms) WHERE NOT manual;
CREATE INDEX schedule_slots_by_schedule ON schedule_slots (schedule_name, id);

CREATE TABLE schedule_control (
  id            integer PRIMARY KEY CHECK (id = 1),
  paused        boolean NOT NULL,
  resumed_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL
);
INSERT INTO schedule_control (id, paused, resumed_at_ms, updated_at_ms) VALUES (1, false, 0, 0);

-- @migration 7: task counts by pipeline, stage and state; delayed tasks

-- What /metrics reports of tasks, kept by triggers so that a scrape never scans tasks (schema.sql says the
-- same of SQLite's). The state counted here is the one only rare changes move: canceled, dead-lettered,
-- blocked (open dependencies), else open; open tasks are split at scrape time into leased (tasks_held),
-- delayed (tasks_delayed), done (a terminal stage) and claimable. Claims and heartbeats set none of the
-- columns watched here, so they never run these triggers. Spread over 16 shards per row, as stage_counts is.
CREATE FUNCTION docket_task_state(dead_letter_reason text, open_dependencies bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE BEGIN ATOMIC
  SELECT CASE WHEN dead_letter_reason = 'canceled' THEN 'canceled' WHEN dead_letter_reason IS NOT NULL THEN 'dead_lettered'
    WHEN open_dependencies > 0 THEN 'blocked' ELSE 'open' END;
END;

CREATE TABLE task_counts (
  pipeline_id text COLLATE "C" NOT NULL,
  stage       text COLLATE "C" NOT NULL,
  state       text COLLATE "C" NOT NULL CHECK (state IN ('open', 'blocked', 'dead_lettered', 'canceled')),
  shard       smallint NOT NULL CHECK (shard BETWEEN 0 AND 15),
  count       bigint NOT NULL,
  PRIMARY KEY (pipeline_id, stage, state, shard)
);

INSERT INTO task_counts (pipeline_id, stage, state, shard, count)
  SELECT pipeline_id, stage, docket_task_state(dead_letter_reason, open_dependencies), 0, count(*)
  FROM tasks GROUP BY 1, 2, 3;

-- Inserts and deletes are counted once per statement (a bulk create is one upsert per place).
CREATE FUNCTION task_counts_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts (pipeline_id, stage, state, shard, count)
    SELECT pipeline_id, stage, docket_task_state(dead_letter_reason, open_dependencies), pg_backend_pid() % 16, count(*)
    FROM inserted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (pipeline_id, stage, state, shard) DO UPDATE SET count = task_counts.count + excluded.count;
  RETURN NULL;
END
$$;

CREATE FUNCTION task_counts_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_counts (pipeline_id, stage, state, shard, count)
    SELECT pipeline_id, stage, docket_task_state(dead_letter_reason, open_dependencies), pg_backend_pid() % 16, -count(*)
    FROM deleted GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (pipeline_id, stage, state, shard) DO UPDATE SET count = task_counts.count + excluded.count;
  RETURN NULL;
END
$$;

-- A move is one upsert of both rows, in key order, so two moves in opposite directions cannot deadlock on
-- them: one statement, states computed inline (docket_task_state's CASE), the WHEN on plain columns. Measured
-- on one connection, a transition's UPDATE took ≈ 130 µs longer with a PERFORM of a counting function per
-- row and the WHEN calling docket_task_state (as stage_counts is kept), ≈ 40 µs longer like this.
CREATE FUNCTION task_counts_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  old_state text := CASE WHEN old.dead_letter_reason = 'canceled' THEN 'canceled' WHEN old.dead_letter_reason IS NOT NULL
    THEN 'dead_lettered' WHEN old.open_dependencies > 0 THEN 'blocked' ELSE 'open' END;
  new_state text := CASE WHEN new.dead_letter_reason = 'canceled' THEN 'canceled' WHEN new.dead_letter_reason IS NOT NULL
    THEN 'dead_lettered' WHEN new.open_dependencies > 0 THEN 'blocked' ELSE 'open' END;
BEGIN
  -- A canceled or dead-lettered task whose dependency resolves stays where it is counted.
  IF old.stage = new.stage AND old_state = new_state THEN
    RETURN NULL;
  END IF;
  INSERT INTO task_counts (pipeline_id, stage, state, shard, count)
    SELECT * FROM (VALUES
      (old.pipeline_id, old.stage, old_state, (pg_backend_pid() % 16)::smallint, -1::bigint),
      (new.pipeline_id, new.stage, new_state, (pg_backend_pid() % 16)::smallint, 1::bigint)) v
    ORDER BY 1, 2, 3
    ON CONFLICT (pipeline_id, stage, state, shard) DO UPDATE SET count = task_counts.count + excluded.count;
  RETURN NULL;
END
$$;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION task_counts_inserted();
CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS deleted
  FOR EACH STATEMENT EXECUTE FUNCTION task_counts_deleted();
CREATE TRIGGER task_counts_move AFTER UPDATE OF stage, dead_letter_reason, open_dependencies ON tasks
  FOR EACH ROW WHEN (old.stage IS DISTINCT FROM new.stage OR old.dead_letter_reason IS DISTINCT FROM new.dead_letter_reason
    OR (old.open_dependencies > 0) IS DISTINCT FROM (new.open_dependencies > 0))
  EXECUTE FUNCTION task_counts_moved();

-- Open tasks not claimable before a time their last change set in the future (not_before_ms, a retry delay,
-- a release's delay): the delayed ones are those past `now` here. A task that was claimable at once is never
-- in this index, so claiming it inserts nothing here. A change that bumps updated_at_ms of a still-delayed
-- task without setting next_eligible_at_ms takes it out (it then counts as claimable): none does today.
CREATE INDEX tasks_delayed ON tasks (next_eligible_at_ms, pipeline_id, stage)
  WHERE dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0 AND next_eligible_at_ms > updated_at_ms;

-- @migration 8: task search

-- GET /tasks?q=: each task's title, description and metadata strings and numbers as FTS5 tokenizes them
-- (what SQLite's tasks_fts indexes), in the store's format (search-vector.ts: taskVector). A table of its
-- own, not a column of tasks: claims and transitions rewrite task rows, and would copy the vector each time.
-- The driver writes the vector with the task (tasks_insert). PostgreSQL cannot tokenize as FTS5 does, so a
-- task inserted otherwise, and an update of the searchable columns by any code path, leave the vector stale
-- (NULL) by trigger; searches test stale rows' own text (task-pages.ts) and the driver rewrites them in the
-- background (task-search-refresh.ts). Tasks from before this block start stale. Deleting a task deletes
-- its vector.
CREATE TABLE task_search (
  task_id text COLLATE "C" PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
  search  tsvector
);
CREATE INDEX task_search_words ON task_search USING gin (search);
CREATE INDEX task_search_stale ON task_search (task_id) WHERE search IS NULL;

INSERT INTO task_search (task_id, search) SELECT id, NULL FROM tasks;

-- Every task has its row, whatever inserts it (the copy from SQLite, say): one the driver did not write is
-- stale. Per statement, after the driver's own insert of the vectors in the same statement.
CREATE FUNCTION task_search_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO task_search (task_id, search) SELECT id, NULL FROM inserted ON CONFLICT (task_id) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER task_search_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION task_search_inserted();

CREATE FUNCTION task_search_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE task_search SET search = NULL WHERE task_id = new.id;
  RETURN NULL;
END $$;
CREATE TRIGGER task_search_stale AFTER UPDATE OF title, description, metadata_json ON tasks
  FOR EACH ROW WHEN (old.title IS DISTINCT FROM new.title OR old.description IS DISTINCT FROM new.description
    OR old.metadata_json IS DISTINCT FROM new.metadata_json)
  EXECUTE FUNCTION task_search_stale();
