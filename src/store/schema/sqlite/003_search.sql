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

-- Substring search of nicknames by trigrams over profiles.nickname_folded (already case-folded,
-- so the index compares code points, as instr() does). Serves filters of 3 or more characters.
CREATE VIRTUAL TABLE profile_nicknames USING fts5(
  nickname_folded, content = 'profiles', content_rowid = 'id',
  tokenize = 'trigram case_sensitive 1', detail = 'none');
INSERT INTO profile_nicknames (profile_nicknames) VALUES ('rebuild');
CREATE TRIGGER profile_nicknames_insert AFTER INSERT ON profiles BEGIN
  INSERT INTO profile_nicknames (rowid, nickname_folded) VALUES (new.id, new.nickname_folded);
END;
CREATE TRIGGER profile_nicknames_update AFTER UPDATE OF nickname_folded ON profiles
  WHEN old.nickname_folded IS NOT new.nickname_folded BEGIN
  INSERT INTO profile_nicknames (profile_nicknames, rowid, nickname_folded)
    VALUES ('delete', old.id, old.nickname_folded);
  INSERT INTO profile_nicknames (rowid, nickname_folded) VALUES (new.id, new.nickname_folded);
END;
CREATE TRIGGER profile_nicknames_delete AFTER DELETE ON profiles BEGIN
  INSERT INTO profile_nicknames (profile_nicknames, rowid, nickname_folded)
    VALUES ('delete', old.id, old.nickname_folded);
END;
