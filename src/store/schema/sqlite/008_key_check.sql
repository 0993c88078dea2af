-- rollcall schema, version 8 (SQLite): the key check value.
-- One row at most: a fixed plaintext sealed with the key file's key (Service::SealStoredSecrets
-- writes it at the first start and checks it at every later one), so that a process given
-- another key file is refused even when no secret is stored yet.
CREATE TABLE key_check (
  id     integer PRIMARY KEY CHECK (id = 1),
  sealed blob NOT NULL
);
