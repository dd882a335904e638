-- Docket's schema: the one source of truth. Each "-- @migration N: what" block moves a database from
-- version N-1 to N (recorded in PRAGMA user_version); src/store/db.ts applies the blocks a database lacks,
-- each in its own transaction, at every start. Never edit a block that has shipped: append a new one.

-- @migration 1: pipelines, tasks, runs with their lease, events, dependencies, assignments, artifacts, idempotency

CREATE TABLE pipelines (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  definition_json TEXT NOT NULL,
  paused          INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
  created_at_ms   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Derived from each definition at create time (pipelines are immutable): the stages an agent role claims from.
-- Terminal stages are never listed, so they are never claimable.
CREATE TABLE stage_roles (
  agent_role  TEXT NOT NULL,
  pipeline_id TEXT NOT NULL REFERENCES pipelines (id),
  stage       TEXT NOT NULL,
  PRIMARY KEY (agent_role, pipeline_id, stage)
) STRICT, WITHOUT ROWID;

CREATE TABLE tasks (
  id                  TEXT PRIMARY KEY,
  pipeline_id         TEXT NOT NULL REFERENCES pipelines (id),
  stage               TEXT NOT NULL,
  title               TEXT NOT NULL,
  description         TEXT NOT NULL,
  priority            INTEGER NOT NULL,
  metadata_json       TEXT NOT NULL,
  task_version        INTEGER NOT NULL,
  next_eligible_at_ms INTEGER NOT NULL,
  max_attempts        INTEGER,
  retry_delay_ms      INTEGER NOT NULL,
  dead_letter_stage   TEXT,
  dead_letter_reason  TEXT CHECK (dead_letter_reason IN ('max_attempts_exceeded', 'canceled')),
  failed_attempts     INTEGER NOT NULL DEFAULT 0, -- failed and stale runs since creation or the last requeue
  open_dependencies   INTEGER NOT NULL DEFAULT 0, -- upstream tasks whose stage is not terminal
  assignee            TEXT,                       -- agent of the one active assignment, if any
  active_run_id       TEXT,                       -- run holding the lease, while one does
  created_at_ms       INTEGER NOT NULL,
  updated_at_ms       INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The claim plan: one ordered index search per (pipeline, stage) of a role. Tasks that are dead-lettered,
-- leased or waiting on dependencies are not in it at all, so however many of them sit in front, a claim
-- never scans them.
CREATE INDEX tasks_claimable ON tasks (pipeline_id, stage, priority DESC, created_at_ms, id)
  WHERE dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0;
-- GET /tasks pages in (created_at_ms, id) order, optionally filtered by stage or pipeline.
CREATE INDEX tasks_by_created ON tasks (created_at_ms, id);
CREATE INDEX tasks_by_stage ON tasks (stage, created_at_ms, id);
CREATE INDEX tasks_by_pipeline ON tasks (pipeline_id, created_at_ms, id);
CREATE INDEX tasks_dead_lettered ON tasks (dead_letter_reason) WHERE dead_letter_reason IS NOT NULL;

-- Task counts by stage for /health, kept by triggers so that /health never scans tasks.
CREATE TABLE stage_counts (
  stage TEXT PRIMARY KEY,
  count INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks BEGIN
  INSERT INTO stage_counts (stage, count) VALUES (new.stage, 1)
    ON CONFLICT (stage) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER tasks_count_move AFTER UPDATE OF stage ON tasks WHEN old.stage IS NOT new.stage BEGIN
  UPDATE stage_counts SET count = count - 1 WHERE stage = old.stage;
  INSERT INTO stage_counts (stage, count) VALUES (new.stage, 1)
    ON CONFLICT (stage) DO UPDATE SET count = count + 1;
END;

-- A run is one attempt at a task by one agent; its lease lives on the same row (a run has at most one
-- lease in its life, so the lease is named by the run's id). lease_expires_at_ms is NULL once released.
CREATE TABLE runs (
  id                  TEXT PRIMARY KEY,
  task_id             TEXT NOT NULL REFERENCES tasks (id),
  attempt             INTEGER NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stale', 'canceled')),
  agent_id            TEXT NOT NULL,
  agent_role          TEXT NOT NULL,
  started_at_ms       INTEGER NOT NULL,
  ended_at_ms         INTEGER,
  usage_json          TEXT NOT NULL DEFAULT '{}',
  error_text          TEXT,
  lease_token_hash    BLOB NOT NULL,
  lease_ttl_ms        INTEGER NOT NULL,
  lease_expires_at_ms INTEGER,
  last_heartbeat_ms   INTEGER,
  UNIQUE (task_id, attempt)
) STRICT, WITHOUT ROWID;

-- Live leases only: the reaper's "expired" probe, /health's active count, per-stage concurrency.
CREATE INDEX runs_live_leases ON runs (lease_expires_at_ms) WHERE lease_expires_at_ms IS NOT NULL;

CREATE TABLE events (
  id      INTEGER PRIMARY KEY,
  run_id  TEXT NOT NULL REFERENCES runs (id),
  ts_ms   INTEGER NOT NULL,
  kind    TEXT NOT NULL,
  data_json TEXT NOT NULL
) STRICT;

CREATE INDEX events_by_run ON events (run_id, id);

-- rowid order is creation order, which the lists report.
CREATE TABLE task_dependencies (
  task_id            TEXT NOT NULL REFERENCES tasks (id),
  depends_on_task_id TEXT NOT NULL REFERENCES tasks (id),
  created_at_ms      INTEGER NOT NULL,
  UNIQUE (task_id, depends_on_task_id)
) STRICT;

CREATE INDEX task_dependents ON task_dependencies (depends_on_task_id);

CREATE TABLE task_assignments (
  task_id       TEXT NOT NULL REFERENCES tasks (id),
  agent_id      TEXT NOT NULL,
  assigned_by   TEXT,
  active        INTEGER NOT NULL CHECK (active IN (0, 1)),
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (task_id, agent_id)
) STRICT;

CREATE TABLE artifacts (
  id            TEXT PRIMARY KEY,
  task_id       TEXT REFERENCES tasks (id),
  run_id        TEXT REFERENCES runs (id),
  created_at_ms INTEGER NOT NULL,
  kind          TEXT NOT NULL,
  uri           TEXT NOT NULL,
  sha256        TEXT,
  size_bytes    INTEGER,
  meta_json     TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE INDEX artifacts_by_created ON artifacts (created_at_ms, id);
CREATE INDEX artifacts_by_task ON artifacts (task_id, created_at_ms, id) WHERE task_id IS NOT NULL;
CREATE INDEX artifacts_by_run ON artifacts (run_id, created_at_ms, id) WHERE run_id IS NOT NULL;

-- Answers of write requests sent with an Idempotency-Key, written in the transaction of the change.
CREATE TABLE idempotency_keys (
  key           TEXT NOT NULL,
  method        TEXT NOT NULL,
  path          TEXT NOT NULL,
  request_hash  BLOB NOT NULL,
  status        INTEGER NOT NULL,
  body          TEXT,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (key, method, path)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_by_age ON idempotency_keys (created_at_ms);

-- @migration 2: otlp

-- One row per OTLP export request. Decoded requests keep only their spans; a body that could not be decoded
-- is kept whole in payload_blob (as nullTickets keeps every non-JSON body).
CREATE TABLE otlp_batches (
  id             INTEGER PRIMARY KEY,
  received_at_ms INTEGER NOT NULL,
  content_type   TEXT NOT NULL,
  stored         TEXT NOT NULL CHECK (stored IN ('json', 'protobuf', 'blob')),
  accepted_spans INTEGER NOT NULL,
  rejected_spans INTEGER NOT NULL,
  payload_blob   BLOB
) STRICT;

-- Resource attributes (often most of a span's bytes: host, process, SDK) are stored once per distinct set.
CREATE TABLE otlp_resources (
  id              INTEGER PRIMARY KEY,
  attributes_json TEXT NOT NULL UNIQUE
) STRICT;

-- Ids are raw bytes (16 / 8), read back as lowercase hex. run_id and task_id are not foreign keys: spans may
-- arrive before their run, or name one this database never had. Times are nanoseconds (fixed64 ≤ 2^63-1).
CREATE TABLE spans (
  id                       INTEGER PRIMARY KEY,
  batch_id                 INTEGER NOT NULL REFERENCES otlp_batches (id),
  trace_id                 BLOB NOT NULL,
  span_id                  BLOB NOT NULL,
  parent_span_id           BLOB,
  trace_state              TEXT,
  name                     TEXT NOT NULL,
  kind                     INTEGER NOT NULL,
  start_time_unix_nano     INTEGER NOT NULL,
  end_time_unix_nano       INTEGER NOT NULL,
  status_code              INTEGER NOT NULL,
  status_message           TEXT,
  flags                    INTEGER,
  attributes_json          TEXT NOT NULL,
  resource_id              INTEGER NOT NULL REFERENCES otlp_resources (id),
  scope_name               TEXT,
  scope_version            TEXT,
  events_json              TEXT,
  links_json               TEXT,
  run_id                   TEXT,
  task_id                  TEXT
) STRICT;

-- GET /spans pages in id (arrival) order, filtered by run, task or trace; span_count counts a run's spans.
CREATE INDEX spans_by_run ON spans (run_id, id) WHERE run_id IS NOT NULL;
CREATE INDEX spans_by_task ON spans (task_id, id) WHERE task_id IS NOT NULL;
CREATE INDEX spans_by_trace ON spans (trace_id, id);

-- @migration 3: store

-- Namespaced key-value entries. A rowid table (not WITHOUT ROWID): the FTS5 index below needs an integer
-- rowid to point at. UNIQUE (namespace, key) is both the upsert target and the list order (byte order).
CREATE TABLE store (
  id            INTEGER PRIMARY KEY,
  namespace     TEXT NOT NULL,
  key           TEXT NOT NULL,
  value_json    TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  UNIQUE (namespace, key)
) STRICT;

-- What search sees of an entry: its namespace, its key, and the strings and numbers of its value joined by
-- newlines. JSON object keys and punctuation are left out, so `q=title` finds the word "title", not every
-- value with a "title" field (R§21.5 indexes the raw JSON text; W32). Not stored twice: the FTS index reads
-- this view for snippets, and the triggers compute the same expression, which is deterministic (document order).
-- ns_tag is the namespace as one token ('ns' || hex): a namespace search narrows its candidates inside FTS5
-- with it (the namespace column's words are common to many namespaces); its bm25 weight is 0.
CREATE VIEW store_search_text (id, namespace, key, text, ns_tag) AS
  SELECT id, namespace, key,
    (SELECT group_concat(value, char(10) ORDER BY id) FROM json_tree(value_json) WHERE type IN ('text', 'integer', 'real')),
    'ns' || hex(namespace)
  FROM store;

CREATE VIRTUAL TABLE store_fts USING fts5(
  namespace, key, text, ns_tag,
  content = 'store_search_text', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO store_fts (store_fts, rank) VALUES ('rank', 'bm25(1.0, 1.0, 1.0, 0.0)');

CREATE TRIGGER store_fts_insert AFTER INSERT ON store BEGIN
  INSERT INTO store_fts (rowid, namespace, key, text, ns_tag) VALUES (new.id, new.namespace, new.key,
    (SELECT group_concat(value, char(10) ORDER BY id) FROM json_tree(new.value_json) WHERE type IN ('text', 'integer', 'real')), 'ns' || hex(new.namespace));
END;

-- An external-content delete must be given exactly the text that was indexed: the same expression on old.
CREATE TRIGGER store_fts_delete AFTER DELETE ON store BEGIN
  INSERT INTO store_fts (store_fts, rowid, namespace, key, text, ns_tag) VALUES ('delete', old.id, old.namespace, old.key,
    (SELECT group_concat(value, char(10) ORDER BY id) FROM json_tree(old.value_json) WHERE type IN ('text', 'integer', 'real')), 'ns' || hex(old.namespace));
END;

-- Upserts change only the value (namespace and key are the conflict target).
CREATE TRIGGER store_fts_update AFTER UPDATE OF value_json ON store BEGIN
  INSERT INTO store_fts (store_fts, rowid, namespace, key, text, ns_tag) VALUES ('delete', old.id, old.namespace, old.key,
    (SELECT group_concat(value, char(10) ORDER BY id) FROM json_tree(old.value_json) WHERE type IN ('text', 'integer', 'real')), 'ns' || hex(old.namespace));
  INSERT INTO store_fts (rowid, namespace, key, text, ns_tag) VALUES (new.id, new.namespace, new.key,
    (SELECT group_concat(value, char(10) ORDER BY id) FROM json_tree(new.value_json) WHERE type IN ('text', 'integer', 'real')), 'ns' || hex(new.namespace));
END;

-- @migration 4: store recent index

-- bm25 weighs each query term by counting every entry that holds it: ≈ 50 ns an entry, 50 ms for a word in
-- most of a million entries. Ranking runs against this second index of only the newest entries (at most
-- `cap`), so that count stays bounded; src/store/kv.ts says when a search falls back to store_fts.
-- Contentless with contentless_delete: leaving the window is a tombstone (≈ 19 µs an entry), where an
-- external-content 'delete' re-tokenizes the text (≈ 123 µs) and leaves delete markers that double the
-- window's doclists until merged. Snippets come from store_fts, which has content.
CREATE VIRTUAL TABLE store_fts_recent USING fts5(
  namespace, key, text, ns_tag,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

-- The window: store_fts_recent indexes exactly the `n` entries whose id is at least `lo`. When n passes `cap`,
-- the oldest leave until `cap - slack` remain: in one batch because FTS5 flushes its pending terms to a new
-- segment whenever a rowid lower than the last one written is deleted, and a flush per put would fragment
-- the index (and slow every put and every search). With 16,384, a term costs at most ≈ 1.5 ms to count in
-- the window (it is read as ≈ 10 segments once puts have built it); a search whose terms the window holds
-- fewer than `limit` times goes to store_fts, where such rare terms are cheap to count.
CREATE TABLE store_fts_recent_window (
  one   INTEGER PRIMARY KEY CHECK (one = 1),
  lo    INTEGER NOT NULL,
  n     INTEGER NOT NULL,
  cap   INTEGER NOT NULL,
  slack INTEGER NOT NULL,
  CHECK (slack >= 0 AND slack < cap)
) STRICT;

INSERT INTO store_fts_recent_window (one, lo, n, cap, slack)
  SELECT 1, lo, (SELECT count(*) FROM store WHERE id >= lo), 16384, 512
  FROM (SELECT coalesce((SELECT id FROM store ORDER BY id DESC LIMIT 1 OFFSET 16383), 0) AS lo);

INSERT INTO store_fts_recent (rowid, namespace, key, text, ns_tag)
  SELECT id, namespace, key, text, ns_tag FROM store_search_text WHERE id >= (SELECT lo FROM store_fts_recent_window);

-- A new entry (ids only grow, so it is the newest) joins the window; past cap, the oldest leave in a batch.
-- What is indexed is read through store_search_text, the one definition of an entry's searchable text.
CREATE TRIGGER store_fts_recent_insert AFTER INSERT ON store
WHEN new.id >= (SELECT lo FROM store_fts_recent_window) BEGIN
  INSERT INTO store_fts_recent (rowid, namespace, key, text, ns_tag)
    SELECT id, namespace, key, text, ns_tag FROM store_search_text WHERE id = new.id;
  UPDATE store_fts_recent_window SET n = n + 1;
  DELETE FROM store_fts_recent WHERE rowid IN (
    SELECT id FROM store WHERE id >= (SELECT lo FROM store_fts_recent_window) ORDER BY id
    LIMIT (SELECT CASE WHEN n > cap THEN n - cap + slack ELSE 0 END FROM store_fts_recent_window));
  UPDATE store_fts_recent_window
    SET lo = (SELECT id FROM store WHERE id >= (SELECT lo FROM store_fts_recent_window) ORDER BY id
              LIMIT 1 OFFSET (SELECT n - cap + slack FROM store_fts_recent_window)),
        n = cap - slack
    WHERE n > cap;
END;

CREATE TRIGGER store_fts_recent_delete AFTER DELETE ON store
WHEN old.id >= (SELECT lo FROM store_fts_recent_window) BEGIN
  DELETE FROM store_fts_recent WHERE rowid = old.id;
  UPDATE store_fts_recent_window SET n = n - 1;
END;

CREATE TRIGGER store_fts_recent_update AFTER UPDATE OF value_json ON store
WHEN old.id >= (SELECT lo FROM store_fts_recent_window) BEGIN
  DELETE FROM store_fts_recent WHERE rowid = old.id;
  INSERT INTO store_fts_recent (rowid, namespace, key, text, ns_tag)
    SELECT id, namespace, key, text, ns_tag FROM store_search_text WHERE id = new.id;
END;

-- @migration 5: released runs

-- A lease given back without counting a failed attempt ends its run `released`: a long-poll claim whose
-- client went away before the answer could be sent. SQLite cannot change a CHECK in place, so the table is
-- rebuilt (sqlite.org/lang_altertable.html, "other kinds of table schema changes"); migrate() turns foreign
-- keys off around every block and checks them before it commits.
CREATE TABLE runs_v5 (
  id                  TEXT PRIMARY KEY,
  task_id             TEXT NOT NULL REFERENCES tasks (id),
  attempt             INTEGER NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'stale', 'canceled', 'released')),
  agent_id            TEXT NOT NULL,
  agent_role          TEXT NOT NULL,
  started_at_ms       INTEGER NOT NULL,
  ended_at_ms         INTEGER,
  usage_json          TEXT NOT NULL DEFAULT '{}',
  error_text          TEXT,
  lease_token_hash    BLOB NOT NULL,
  lease_ttl_ms        INTEGER NOT NULL,
  lease_expires_at_ms INTEGER,
  last_heartbeat_ms   INTEGER,
  UNIQUE (task_id, attempt)
) STRICT, WITHOUT ROWID;

INSERT INTO runs_v5 SELECT id, task_id, attempt, status, agent_id, agent_role, started_at_ms, ended_at_ms, usage_json,
  error_text, lease_token_hash, lease_ttl_ms, lease_expires_at_ms, last_heartbeat_ms FROM runs;
DROP TABLE runs;
ALTER TABLE runs_v5 RENAME TO runs;
CREATE INDEX runs_live_leases ON runs (lease_expires_at_ms) WHERE lease_expires_at_ms IS NOT NULL;

-- @migration 6: store text readable by SQLite 3.37

-- SQLite parses every view and trigger of a file when it opens it, so one clause it does not know makes the
-- whole file unreadable: `group_concat(… ORDER BY …)` (SQLite 3.44) kept Debian 12's sqlite3 (3.40) and
-- Ubuntu 22.04's (3.37) from even counting tasks. The same text, in the same order, from an ordered
-- subquery: SQLite keeps a FROM subquery's ORDER BY when the outer query aggregates with anything but
-- count(), min() or max(), and does not flatten it into an aggregate. The text must stay byte-identical to
-- migration 3's (tests/store/migrations.test.ts compares them): an external-content 'delete' must be
-- given exactly the text that was indexed, and entries indexed before this block are deleted with this one.
-- store_fts_recent keeps contentless_delete (SQLite 3.43; why: migration 4): a module's options are read only
-- when its table is used, so an older SQLite opens the file and reads every other table (README: Store).
DROP VIEW store_search_text;
CREATE VIEW store_search_text (id, namespace, key, text, ns_tag) AS
  SELECT id, namespace, key,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(value_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id)),
    'ns' || hex(namespace)
  FROM store;

DROP TRIGGER store_fts_insert;
CREATE TRIGGER store_fts_insert AFTER INSERT ON store BEGIN
  INSERT INTO store_fts (rowid, namespace, key, text, ns_tag) VALUES (new.id, new.namespace, new.key,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(new.value_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id)),
    'ns' || hex(new.namespace));
END;

DROP TRIGGER store_fts_delete;
CREATE TRIGGER store_fts_delete AFTER DELETE ON store BEGIN
  INSERT INTO store_fts (store_fts, rowid, namespace, key, text, ns_tag) VALUES ('delete', old.id, old.namespace, old.key,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(old.value_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id)),
    'ns' || hex(old.namespace));
END;

DROP TRIGGER store_fts_update;
CREATE TRIGGER store_fts_update AFTER UPDATE OF value_json ON store BEGIN
  INSERT INTO store_fts (store_fts, rowid, namespace, key, text, ns_tag) VALUES ('delete', old.id, old.namespace, old.key,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(old.value_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id)),
    'ns' || hex(old.namespace));
  INSERT INTO store_fts (rowid, namespace, key, text, ns_tag) VALUES (new.id, new.namespace, new.key,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(new.value_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id)),
    'ns' || hex(new.namespace));
END;

-- @migration 7: console reads

-- The console's overview counts tasks waiting on dependencies per (pipeline, stage) through this index, so
-- it never scans the tasks that are not blocked.
CREATE INDEX tasks_blocked ON tasks (pipeline_id, stage)
  WHERE open_dependencies > 0 AND dead_letter_reason IS NULL AND active_run_id IS NULL;
-- The console's throughput chart reads the runs that ended in the last hour from this index alone.
CREATE INDEX runs_ended ON runs (ended_at_ms, status) WHERE ended_at_ms IS NOT NULL;

-- @migration 8: task events, task deletes

-- What happened to a task outside any run: edits, signals at a human gate, bulk requeues and cancels
-- (GET /tasks/{id}/events). A run's own events stay in `events`.
CREATE TABLE task_events (
  id        INTEGER PRIMARY KEY,
  task_id   TEXT NOT NULL REFERENCES tasks (id),
  ts_ms     INTEGER NOT NULL,
  kind      TEXT NOT NULL,
  data_json TEXT NOT NULL
) STRICT;

CREATE INDEX task_events_by_task ON task_events (task_id, id);

-- DELETE /tasks/{id}: /health's stage counts follow.
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks BEGIN
  UPDATE stage_counts SET count = count - 1 WHERE stage = old.stage;
END;

-- @migration 9: schedules

-- Rules that create tasks (README: Schedules). spec_json is the validated definition (cron | every_ms | at,
-- the task template, misfire and overlap policies); paused is apart so pause and resume leave it alone.
-- anchor_ms is when the name was first put (every_ms counts its slots from it), since_ms when its timing
-- last changed or it was last resumed (no slot at or before it fires), last_slot_ms the latest slot fired
-- (the firing cursor a restart starts from), last_task_id the task of the latest fire (overlap).
CREATE TABLE schedules (
  name          TEXT PRIMARY KEY,
  spec_json     TEXT NOT NULL,
  paused        INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
  anchor_ms     INTEGER NOT NULL,
  since_ms      INTEGER NOT NULL,
  last_slot_ms  INTEGER,
  last_task_id  TEXT,
  created_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- One row per fire. The UNIQUE key on scheduled slots is what makes a slot fire exactly once: the row and
-- the slot's task are written in one transaction, so a replay, a restart or a second node finds it there.
-- A manual trigger is its own slot (manual = 1, scheduled_at_ms = when it was asked), outside the key.
-- task_id is NULL for a slot not fired: skipped by overlap, or its task could not be created (error_text);
-- it becomes NULL if the task is deleted, and the slot stays recorded (fired once). A schedule's DELETE
-- removes its rows; the tasks stay.
CREATE TABLE schedule_slots (
  id              INTEGER PRIMARY KEY,
  schedule_name   TEXT NOT NULL,
  scheduled_at_ms INTEGER NOT NULL,
  manual          INTEGER NOT NULL CHECK (manual IN (0, 1)),
  task_id         TEXT REFERENCES tasks (id) ON DELETE SET NULL,
  outcome         TEXT NOT NULL CHECK (outcome IN ('created', 'skipped_overlap', 'failed')),
  error_text      TEXT,
  created_at_ms   INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX schedule_slots_once ON schedule_slots (schedule_name, scheduled_at_ms) WHERE manual = 0;
-- GET /schedules/{name}/tasks: newest first.
CREATE INDEX schedule_slots_by_schedule ON schedule_slots (schedule_name, id);

-- The global pause (POST /schedules/pause): one row. resumed_at_ms plays since_ms's part for every schedule.
CREATE TABLE schedule_control (
  id            INTEGER PRIMARY KEY CHECK (id = 1),
  paused        INTEGER NOT NULL CHECK (paused IN (0, 1)),
  resumed_at_ms INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL
) STRICT;
INSERT INTO schedule_control (id, paused, resumed_at_ms, updated_at_ms) VALUES (1, 0, 0, 0);

-- @migration 10: task counts by pipeline, stage and state; delayed tasks

-- What /metrics reports of tasks, kept by triggers so that a scrape never scans tasks. The state counted here
-- is the one only rare changes move: canceled, dead-lettered, blocked (open dependencies), else open. Open
-- tasks are split at scrape time into leased (the live leases), delayed (tasks_delayed), done (a terminal
-- stage) and claimable (the rest). Claims and heartbeats set none of the columns watched here, so they never
-- run these triggers; a transition moves two rows, as it does in stage_counts.
CREATE TABLE task_counts (
  pipeline_id TEXT NOT NULL,
  stage       TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('open', 'blocked', 'dead_lettered', 'canceled')),
  count       INTEGER NOT NULL,
  PRIMARY KEY (pipeline_id, stage, state)
) STRICT, WITHOUT ROWID;

INSERT INTO task_counts (pipeline_id, stage, state, count)
  SELECT pipeline_id, stage, CASE WHEN dead_letter_reason = 'canceled' THEN 'canceled'
    WHEN dead_letter_reason IS NOT NULL THEN 'dead_lettered' WHEN open_dependencies > 0 THEN 'blocked' ELSE 'open' END AS state,
    count(*)
  FROM tasks GROUP BY pipeline_id, stage, state;

CREATE TRIGGER task_counts_insert AFTER INSERT ON tasks BEGIN
  INSERT INTO task_counts (pipeline_id, stage, state, count) VALUES (new.pipeline_id, new.stage,
    CASE WHEN new.dead_letter_reason = 'canceled' THEN 'canceled' WHEN new.dead_letter_reason IS NOT NULL THEN 'dead_lettered'
      WHEN new.open_dependencies > 0 THEN 'blocked' ELSE 'open' END, 1)
    ON CONFLICT (pipeline_id, stage, state) DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER task_counts_delete AFTER DELETE ON tasks BEGIN
  UPDATE task_counts SET count = count - 1 WHERE pipeline_id = old.pipeline_id AND stage = old.stage
    AND state = CASE WHEN old.dead_letter_reason = 'canceled' THEN 'canceled' WHEN old.dead_letter_reason IS NOT NULL THEN 'dead_lettered'
      WHEN old.open_dependencies > 0 THEN 'blocked' ELSE 'open' END;
END;

CREATE TRIGGER task_counts_move AFTER UPDATE OF stage, dead_letter_reason, open_dependencies ON tasks
WHEN old.stage IS NOT new.stage OR old.dead_letter_reason IS NOT new.dead_letter_reason
  OR (old.open_dependencies > 0) IS NOT (new.open_dependencies > 0) BEGIN
  UPDATE task_counts SET count = count - 1 WHERE pipeline_id = old.pipeline_id AND stage = old.stage
    AND state = CASE WHEN old.dead_letter_reason = 'canceled' THEN 'canceled' WHEN old.dead_letter_reason IS NOT NULL THEN 'dead_lettered'
      WHEN old.open_dependencies > 0 THEN 'blocked' ELSE 'open' END;
  INSERT INTO task_counts (pipeline_id, stage, state, count) VALUES (new.pipeline_id, new.stage,
    CASE WHEN new.dead_letter_reason = 'canceled' THEN 'canceled' WHEN new.dead_letter_reason IS NOT NULL THEN 'dead_lettered'
      WHEN new.open_dependencies > 0 THEN 'blocked' ELSE 'open' END, 1)
    ON CONFLICT (pipeline_id, stage, state) DO UPDATE SET count = count + 1;
END;

-- Open tasks not claimable before a time their last change set in the future (not_before_ms, a retry delay,
-- a release's delay): the delayed ones are those past `now` here. A task that was claimable at once is never
-- in this index, so claiming it writes nothing here. A change that bumps updated_at_ms of a still-delayed
-- task without setting next_eligible_at_ms takes it out (it then counts as claimable): none does today.
CREATE INDEX tasks_delayed ON tasks (next_eligible_at_ms, pipeline_id, stage)
  WHERE dead_letter_reason IS NULL AND active_run_id IS NULL AND open_dependencies = 0 AND next_eligible_at_ms > updated_at_ms;

-- @migration 11: task search

-- GET /tasks?q=: an FTS5 index over each task's title, description and the strings and numbers of its
-- metadata (joined by newlines, as store_search_text joins a value's), tokenized as store_fts is so that a
-- query means what it means at /store/search. Tasks are WITHOUT ROWID and FTS5 needs an integer rowid:
-- task_search_ids gives each task one. The index is contentless with contentless_delete (SQLite 3.43; an
-- older SQLite still opens the file: migration 6), so that a row is deleted by rowid alone and no trigger
-- has to recompute the old text. Triggers keep it current through every insert, update and delete of
-- tasks, whichever code path makes them.
CREATE TABLE task_search_ids (
  n       INTEGER PRIMARY KEY,
  task_id TEXT NOT NULL UNIQUE
) STRICT;

CREATE VIRTUAL TABLE tasks_fts USING fts5(
  title, description, metadata,
  content = '', contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO task_search_ids (task_id) SELECT id FROM tasks ORDER BY created_at_ms, id;
INSERT INTO tasks_fts (rowid, title, description, metadata)
  SELECT s.n, t.title, t.description,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(t.metadata_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id))
  FROM task_search_ids s JOIN tasks t ON t.id = s.task_id;

-- Within a trigger, last_insert_rowid() is the rowid the trigger's own INSERT made.
CREATE TRIGGER tasks_fts_insert AFTER INSERT ON tasks BEGIN
  INSERT INTO task_search_ids (task_id) VALUES (new.id);
  INSERT INTO tasks_fts (rowid, title, description, metadata) VALUES (last_insert_rowid(), new.title, new.description,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(new.metadata_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id)));
END;

CREATE TRIGGER tasks_fts_update AFTER UPDATE OF title, description, metadata_json ON tasks
WHEN old.title IS NOT new.title OR old.description IS NOT new.description OR old.metadata_json IS NOT new.metadata_json BEGIN
  DELETE FROM tasks_fts WHERE rowid = (SELECT n FROM task_search_ids WHERE task_id = new.id);
  INSERT INTO tasks_fts (rowid, title, description, metadata) VALUES ((SELECT n FROM task_search_ids WHERE task_id = new.id),
    new.title, new.description,
    (SELECT group_concat(value, char(10)) FROM (SELECT value FROM json_tree(new.metadata_json) WHERE type IN ('text', 'integer', 'real') ORDER BY id)));
END;

CREATE TRIGGER tasks_fts_delete AFTER DELETE ON tasks BEGIN
  DELETE FROM tasks_fts WHERE rowid = (SELECT n FROM task_search_ids WHERE task_id = old.id);
  DELETE FROM task_search_ids WHERE task_id = old.id;
END;
