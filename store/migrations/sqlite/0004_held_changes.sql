-- Mass-revocation guard: changes that would revoke too many paid seats at once
-- wait here for an admin's decision.
CREATE TABLE held_changes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,                -- deactivation_burst, reconcile_sweep, directory_deleted, downgrade
    state      TEXT NOT NULL,                -- held, approved, rejected
    size       INTEGER NOT NULL DEFAULT 0,   -- paid seats the change would revoke
    preview    TEXT NOT NULL DEFAULT '[]',   -- JSON array: the first emails that would move to free
    details    TEXT NOT NULL DEFAULT '{}',   -- JSON: what approving must do
    created_at DATETIME NOT NULL,
    decided_at DATETIME,
    decided_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX held_changes_plan ON held_changes (plan_id, state);
