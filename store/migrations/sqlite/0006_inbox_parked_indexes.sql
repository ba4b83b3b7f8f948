-- Only parked events are looked up by status or by plan (operators listing and
-- retrying them, plan status counting them); applied, stale and pending
-- events are read by id or through inbox_events_pending. Full indexes on
-- status and plan_id cost every event two more index entries when it is
-- stored and two more when it is finished. The queries name their statuses
-- as literals, so even a generic plan proves the predicates.
DROP INDEX inbox_events_status;
DROP INDEX inbox_events_plan;
CREATE INDEX inbox_events_parked ON inbox_events (status, id) WHERE status IN ('failed', 'rejected', 'unmatched', 'conflict');
CREATE INDEX inbox_events_plan_parked ON inbox_events (plan_id) WHERE status IN ('failed', 'rejected');
