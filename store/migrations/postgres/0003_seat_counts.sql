-- Seat counters, kept by the store with every seat change, so plan status
-- never counts a plan's members (a plan may have a million).
ALTER TABLE plans ADD COLUMN paid_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN free_count BIGINT NOT NULL DEFAULT 0;
UPDATE plans SET paid_count = (SELECT COUNT(*) FROM members WHERE members.plan_id = plans.id);
UPDATE organizations SET free_count = (SELECT COUNT(*) FROM members WHERE members.organization_id = organizations.id AND members.plan_id IS NULL);
