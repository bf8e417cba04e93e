-- a role that may not call random() in this database: the one-slot COPY's WHERE fails for it
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'flow_plain') THEN CREATE ROLE flow_plain LOGIN; END IF;
  EXECUTE format('ALTER DATABASE %I SET log_statement = ''all''', current_database());
END $$;
REVOKE EXECUTE ON FUNCTION pg_catalog.random() FROM PUBLIC;
CREATE TABLE fallback (id bigint PRIMARY KEY, name text, at timestamptz);
GRANT SELECT, INSERT, UPDATE ON fallback TO flow_plain;
