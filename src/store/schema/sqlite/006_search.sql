-- rollcall schema, version 3 (SQLite): searches whose cost does not grow with the session.
-- See docs/benchmarks.md for the figures behind each structure.

-- seq: the visit's 1-based rank in its session's (created_at, id) order, kept exact by the
-- store (InsertVisit): a visit entered in time order takes the next number; one entered out of
-- order (the clock stepped back) renumbers the visits after it. A page of the default order,
-- and the count of a created-time range, are then seq arithmetic: O(log n) for any page.
ALTER TABLE visits ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE visits SET seq = r.n
  FROM (SELECT id, row_number() OVER (PARTITION BY session_id ORDER BY created_at, id) AS n
          FROM visits) AS r
 WHERE visits.id = r.id;
CREATE UNIQUE INDEX visits_by_seq ON visits (session_id, seq);

-- A member's visits: a nickname search goes profile -> member -> visits.
CREATE INDEX visits_by_member ON visits (member_id, created_at, id);

-- Every suffix of 3 or more characters of each profile's folded nickname, by tenant, kept by
-- triggers: a substring filter of 3+ characters is a prefix range of suffixes, exact and
-- tenant-scoped, whatever the number of profiles. (About 220 bytes per profile.)
CREATE TABLE profile_nickname_suffixes (
  tenant_id  INTEGER NOT NULL,
  suffix     TEXT    NOT NULL,
  profile_id INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, suffix, profile_id)
) WITHOUT ROWID;
-- 1..1024: the character positions a suffix can start at (triggers cannot use WITH).
CREATE TABLE nickname_positions (n INTEGER PRIMARY KEY);
INSERT INTO nickname_positions (n)
  WITH RECURSIVE p(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM p WHERE n < 1024)
  SELECT n FROM p;
INSERT INTO profile_nickname_suffixes (tenant_id, suffix, profile_id)
  SELECT p.tenant_id, substr(p.nickname_folded, n), p.id FROM profiles p
    JOIN nickname_positions ON n <= length(p.nickname_folded) - 2;
CREATE TRIGGER profile_nickname_suffixes_insert AFTER INSERT ON profiles BEGIN
  INSERT INTO profile_nickname_suffixes (tenant_id, suffix, profile_id)
    SELECT new.tenant_id, substr(new.nickname_folded, n), new.id FROM nickname_positions
     WHERE n <= length(new.nickname_folded) - 2;
END;
CREATE TRIGGER profile_nickname_suffixes_update AFTER UPDATE OF nickname_folded ON profiles
  WHEN old.nickname_folded IS NOT new.nickname_folded BEGIN
  DELETE FROM profile_nickname_suffixes
   WHERE tenant_id = old.tenant_id AND profile_id = old.id AND suffix IN
         (SELECT substr(old.nickname_folded, n) FROM nickname_positions
           WHERE n <= length(old.nickname_folded) - 2);
  INSERT INTO profile_nickname_suffixes (tenant_id, suffix, profile_id)
    SELECT new.tenant_id, substr(new.nickname_folded, n), new.id FROM nickname_positions
     WHERE n <= length(new.nickname_folded) - 2;
END;
CREATE TRIGGER profile_nickname_suffixes_delete AFTER DELETE ON profiles BEGIN
  DELETE FROM profile_nickname_suffixes
   WHERE tenant_id = old.tenant_id AND profile_id = old.id AND suffix IN
         (SELECT substr(old.nickname_folded, n) FROM nickname_positions
           WHERE n <= length(old.nickname_folded) - 2);
END;
