-- rollcall schema, version 8 (PostgreSQL): the key check value.
-- One row at most: a fixed plaintext sealed with the key file's key (Service::SealStoredSecrets
-- writes it at the first start and checks it at every later one), so that a process given
-- another key file is refused even when no secret is stored yet. Not tenant data: no tenant_id;
-- a reference table when sharded, like the credential directory (001_init.sql). Two processes
-- inserting it at once collide on the primary key; the one that loses runs again and reads it.
CREATE TABLE key_check (
  id     integer PRIMARY KEY CHECK (id = 1),
  sealed bytea   NOT NULL
);
