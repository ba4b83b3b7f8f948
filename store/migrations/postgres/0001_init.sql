-- The whole schema of SPEC §1. Later migrations only add.
CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    domains     TEXT NOT NULL DEFAULT '[]', -- JSON array of lower-case domains; empty = any
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE plans (
    id                     TEXT PRIMARY KEY,
    organization_id        TEXT NOT NULL REFERENCES organizations (id),
    name                   TEXT NOT NULL DEFAULT '',
    workos_organization_id TEXT UNIQUE,
    test_mode_limit        INTEGER,              -- NULL = seats.test_mode_limit
    scoping_groups         TEXT NOT NULL DEFAULT '[]',
    mode                   TEXT NOT NULL DEFAULT 'manual',
    cutover_at             TIMESTAMPTZ,
    downgrade_due_at       TIMESTAMPTZ,
    downgraded_at          TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL
);
CREATE INDEX plans_organization ON plans (organization_id);
CREATE INDEX plans_downgrade_due ON plans (downgrade_due_at) WHERE downgrade_due_at IS NOT NULL;

CREATE TABLE plan_admins (
    plan_id TEXT NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    email   TEXT NOT NULL,
    PRIMARY KEY (plan_id, email)
);
CREATE INDEX plan_admins_email ON plan_admins (email);

CREATE TABLE members (
    id                BIGSERIAL PRIMARY KEY,
    organization_id   TEXT NOT NULL REFERENCES organizations (id),
    email             TEXT NOT NULL,
    name              TEXT NOT NULL DEFAULT '',
    plan_id           TEXT REFERENCES plans (id),  -- NULL = free
    source            TEXT NOT NULL DEFAULT '',
    manual_plan_id    TEXT,
    directory_user_id TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    UNIQUE (organization_id, email)
);
CREATE INDEX members_plan ON members (plan_id, email);
CREATE INDEX members_free ON members (organization_id, email) WHERE plan_id IS NULL;
CREATE INDEX members_manual_plan ON members (manual_plan_id) WHERE manual_plan_id IS NOT NULL;

CREATE TABLE directories (
    id                 TEXT PRIMARY KEY,
    plan_id            TEXT NOT NULL REFERENCES plans (id),
    organization_id    TEXT NOT NULL,              -- the WorkOS organization id it was linked by
    type               TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL,
    domains            TEXT NOT NULL DEFAULT '[]',
    users_added        INTEGER NOT NULL DEFAULT 0, -- |E|
    version_updated_at TIMESTAMPTZ,
    version_created_at TIMESTAMPTZ,
    version_event_id   TEXT NOT NULL DEFAULT '',
    last_event_at      TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX directories_plan ON directories (plan_id);

CREATE TABLE directory_users (
    id                 TEXT PRIMARY KEY,
    directory_id       TEXT NOT NULL REFERENCES directories (id),
    organization_id    TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    first_name         TEXT NOT NULL DEFAULT '',
    last_name          TEXT NOT NULL DEFAULT '',
    state              TEXT NOT NULL DEFAULT '',
    deleted            BOOLEAN NOT NULL DEFAULT FALSE,
    in_a               BOOLEAN NOT NULL DEFAULT FALSE,
    added              BOOLEAN NOT NULL DEFAULT FALSE,
    version_updated_at TIMESTAMPTZ,
    version_created_at TIMESTAMPTZ,
    version_event_id   TEXT NOT NULL DEFAULT '',
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX directory_users_directory ON directory_users (directory_id, id);
CREATE INDEX directory_users_email ON directory_users (email);

CREATE TABLE directory_groups (
    id                 TEXT PRIMARY KEY,
    directory_id       TEXT NOT NULL,
    name               TEXT NOT NULL DEFAULT '',
    deleted            BOOLEAN NOT NULL DEFAULT FALSE,
    version_created_at TIMESTAMPTZ,
    version_event_id   TEXT NOT NULL DEFAULT '',
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE INDEX directory_groups_directory ON directory_groups (directory_id);

CREATE TABLE directory_group_members (
    group_id           TEXT NOT NULL,
    user_id            TEXT NOT NULL,
    directory_id       TEXT NOT NULL,
    present            BOOLEAN NOT NULL,          -- FALSE = removed (a tombstone for late adds)
    version_created_at TIMESTAMPTZ,
    version_event_id   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX directory_group_members_user ON directory_group_members (user_id);

CREATE TABLE inbox_events (
    id               BIGSERIAL PRIMARY KEY,
    event_id         TEXT NOT NULL UNIQUE,
    event_type       TEXT NOT NULL,
    source           TEXT NOT NULL,
    payload          BYTEA NOT NULL,
    event_created_at TIMESTAMPTZ,
    received_at      TIMESTAMPTZ NOT NULL,
    status           TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    directory_id     TEXT NOT NULL DEFAULT '',
    plan_id          TEXT NOT NULL DEFAULT '',
    processed_at     TIMESTAMPTZ
);
CREATE INDEX inbox_events_pending ON inbox_events (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX inbox_events_status ON inbox_events (status, id);
CREATE INDEX inbox_events_plan ON inbox_events (plan_id, status);

CREATE TABLE audit_entries (
    id              BIGSERIAL PRIMARY KEY,
    plan_id         TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    member_email    TEXT NOT NULL DEFAULT '',
    from_plan_id    TEXT NOT NULL DEFAULT '',
    event_id        TEXT NOT NULL DEFAULT '',
    reason          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_entries_plan ON audit_entries (plan_id, id);

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
