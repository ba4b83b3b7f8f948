-- The per-event limit of `make bench` (bench/run.sh runs it with pgbench at
-- the bench's concurrency): the least work one WorkOS event can cost on
-- seatsync's own schema, as one transaction of three statements: store the
-- event (a ~2 KB dsync.user.created payload, as the webhook handler does),
-- upsert its directory user and upsert its member, with the app's ON CONFLICT
-- keys. It needs organization bench, plan plan_bench and directory
-- directory_BENCH (run.sh inserts them). Ids are unique per client and draw.
\set n random(1, 2000000000)
BEGIN;
INSERT INTO inbox_events (event_id, event_type, source, payload, event_created_at, received_at, status,
                          next_attempt_at, directory_id, plan_id, processed_at)
VALUES ('event_pgbench_' || :client_id || '_' || :n, 'dsync.user.created', 'webhook',
        convert_to(
        '{"object":"event","id":"'
        || 'event_pgbench_' || :client_id || '_' || :n
        || '","event":"dsync.user.created","data":{"object":"directory_user","id":"'
        || 'directory_user_pgbench_' || :client_id || '_' || :n
        || '","directory_id":"directory_BENCH","organization_id":"org_BENCH","idp_id":"00u8k2q7xzP1aBcD4x7","email":"'
        || 'pgbench.' || :client_id || '.' || :n || '@bench.example.com'
        || '","first_name":"Priya","last_name":"Raman","name":"Priya Raman","emails":[{"primary":true,"type":"work","value":"'
        || 'pgbench.' || :client_id || '.' || :n || '@bench.example.com'
        || '"}],"username":"'
        || 'pgbench.' || :client_id || '.' || :n || '@bench.example.com'
        || '","job_title":"Staff Engineer","state":"active","raw_attributes":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"00u8k2q7xzP1aBcD4x7","userName":"'
        || 'pgbench.' || :client_id || '.' || :n || '@bench.example.com'
        || '","active":true,"name":{"givenName":"Priya","familyName":"Raman"},"emails":[{"primary":true,"type":"work","value":"'
        || 'pgbench.' || :client_id || '.' || :n || '@bench.example.com'
        || '"}],"title":"Staff Engineer","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Engineering","costCenter":"CC-4100"}},"custom_attributes":{"department":"Engineering","job_title":"Staff Engineer","cost_center":"CC-4100"},"role":{"slug":"member"},"roles":[{"slug":"member"}],"created_at":"2025-03-04T15:00:04.215Z","updated_at":"2025-03-04T15:00:04.215Z","groups":[{"object":"directory_group","id":"directory_group_01JNGTQK55X7RY68FGD5AA913E","idp_id":"00g9x1ab2CDeF3gh4i5","directory_id":"directory_BENCH","organization_id":"org_BENCH","name":"Engineering","created_at":"2025-03-04T15:00:03.877Z","updated_at":"2025-03-04T15:00:03.877Z","raw_attributes":{"id":"00g9x1ab2CDeF3gh4i5","displayName":"Engineering","schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}},{"object":"directory_group","id":"directory_group_01JNGTQK68HJB0JTVVS6WPYZRA","idp_id":"00g9x1ab7JKlM8no9p0","directory_id":"directory_BENCH","organization_id":"org_BENCH","name":"Seatsync Users","created_at":"2025-03-04T15:00:03.912Z","updated_at":"2025-03-04T15:00:03.912Z","raw_attributes":{"id":"00g9x1ab7JKlM8no9p0","displayName":"Seatsync Users","schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}}]},"created_at":"2025-03-04T15:00:04.502Z","context":{}}', 'UTF8'),
        now(), now(), 'applied', now(), 'directory_BENCH', 'plan_bench', now())
ON CONFLICT (event_id) DO NOTHING;
INSERT INTO directory_users (id, directory_id, organization_id, email, first_name, last_name, state, deleted, in_a, added,
                             version_updated_at, version_created_at, version_event_id, created_at, updated_at)
VALUES ('directory_user_pgbench_' || :client_id || '_' || :n, 'directory_BENCH', 'org_BENCH',
        'pgbench.' || :client_id || '.' || :n || '@bench.example.com', 'Priya', 'Raman', 'active', FALSE, TRUE, TRUE,
        now(), now(), 'event_pgbench_' || :client_id || '_' || :n, now(), now())
ON CONFLICT (id) DO UPDATE SET directory_id = excluded.directory_id, organization_id = excluded.organization_id,
    email = excluded.email, first_name = excluded.first_name, last_name = excluded.last_name, state = excluded.state,
    deleted = excluded.deleted, in_a = excluded.in_a, added = excluded.added,
    version_updated_at = excluded.version_updated_at, version_created_at = excluded.version_created_at,
    version_event_id = excluded.version_event_id, updated_at = excluded.updated_at;
INSERT INTO members (organization_id, email, name, plan_id, source, directory_user_id, created_at, updated_at)
VALUES ('bench', 'pgbench.' || :client_id || '.' || :n || '@bench.example.com', 'Priya Raman', 'plan_bench', 'directory',
        'directory_user_pgbench_' || :client_id || '_' || :n, now(), now())
ON CONFLICT (organization_id, email) DO UPDATE SET name = excluded.name, plan_id = excluded.plan_id,
    source = excluded.source, directory_user_id = excluded.directory_user_id, updated_at = excluded.updated_at;
END;
