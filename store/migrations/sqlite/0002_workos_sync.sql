-- Reconciliation runs (one row per directory, resumable) and the Events API cursor.
CREATE TABLE reconciliations (
    directory_id TEXT PRIMARY KEY,
    plan_id      TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    state        TEXT NOT NULL,               -- running, complete, failed
    cursor       TEXT NOT NULL DEFAULT '',    -- list_metadata.after of the last stored page
    started_at   DATETIME NOT NULL,
    finished_at  DATETIME,
    listed       INTEGER NOT NULL DEFAULT 0,
    changed      INTEGER NOT NULL DEFAULT 0,
    gone         INTEGER NOT NULL DEFAULT 0,
    requests     INTEGER NOT NULL DEFAULT 0,
    error        TEXT NOT NULL DEFAULT '',
    updated_at   DATETIME NOT NULL
);
CREATE INDEX reconciliations_plan ON reconciliations (plan_id);

-- Users listed by the running reconciliation of a directory: after a complete
-- listing, stored users missing here are gone.
CREATE TABLE reconcile_seen (
    directory_id TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    PRIMARY KEY (directory_id, run_id, user_id)
);

CREATE TABLE event_cursors (
    name       TEXT PRIMARY KEY,
    after_id   TEXT NOT NULL,
    updated_at DATETIME NOT NULL
);
