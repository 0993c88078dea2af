-- rollcall schema, version 7 (PostgreSQL): a cheaper enter and leave.
-- members_open (tenant_id, session_id) WHERE open_visit_id IS NOT NULL duplicated
-- members_connected (002_ivs.sql), which has the same partial condition and leads with
-- (tenant_id, session_id): every query that used it (ListOpenMembers, CloseOpenVisits) uses
-- members_connected instead, and each enter and leave, which move a member in or out of both,
-- now maintains one index less.
DROP INDEX members_open;
