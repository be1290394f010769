-- Who holds ncm's advisory lock: the session's pid, name, user, client and since when.
-- $1 and $2 are the high and low halves of the key (ncm_postgres.lock.halves).
SELECT a.pid, a.application_name, a.usename, host(a.client_addr) AS client, a.state_change
FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
  AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND l.classid::bigint = $1 AND l.objid::bigint = $2
