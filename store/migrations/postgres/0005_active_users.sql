-- Directory counter, kept by the applier with every change of a user's in_a
-- (Store.TouchDirectory), so plan status never counts a directory's users (a
-- directory may have a million).
ALTER TABLE directories ADD COLUMN active_users BIGINT NOT NULL DEFAULT 0;
UPDATE directories SET active_users = (SELECT COUNT(*) FROM directory_users
    WHERE directory_users.directory_id = directories.id AND directory_users.in_a);
-- The mass-revocation guard counts a plan's recent revocations
-- (Store.RecentRevocations); without this it reads every audit entry of the
-- plan. The query names the same two actions as literals, so even a generic
-- plan proves the predicate.
CREATE INDEX audit_entries_revocations ON audit_entries (plan_id, at) WHERE action IN ('moved_to_free', 'moved');
