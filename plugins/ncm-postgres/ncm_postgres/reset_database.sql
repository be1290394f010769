-- Drops every schema a full dump recreates, in the restore's transaction.
-- The public schema is not in a full dump (pg_dump assumes every database has it, as
-- template0 made it), only changes to its comment and grants are. So it is dropped with its
-- contents and made again as template0 has it, and the dump re-applies the changes.
SET client_min_messages = warning;
DO $ncm$
DECLARE
    schema_name name;
BEGIN
    FOR schema_name IN
        SELECT nspname FROM pg_namespace
        WHERE nspname NOT LIKE 'pg\_%' AND nspname <> 'information_schema'
    LOOP
        EXECUTE format('DROP SCHEMA %I CASCADE', schema_name);
    END LOOP;
    CREATE SCHEMA public;
    IF current_setting('server_version_num')::int >= 150000 THEN
        ALTER SCHEMA public OWNER TO pg_database_owner;
        GRANT USAGE ON SCHEMA public TO PUBLIC;
    ELSE
        GRANT ALL ON SCHEMA public TO PUBLIC;
    END IF;
    COMMENT ON SCHEMA public IS 'standard public schema';
END
$ncm$;
