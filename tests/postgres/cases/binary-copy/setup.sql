-- the destinations of binary-copy (flow.flow); each session logs its statements, so check.sh can
-- tell the binary COPY and the one-slot COPY were taken
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET log_statement = ''all''', current_database()); END $$;
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE TABLE pgbin_all (
  id bigint PRIMARY KEY, i2 smallint, i4 int, i8 bigint, n numeric, n2 numeric(12,2), f8 float8, b boolean,
  t text, vc varchar(8), bc char(3), ts timestamp, tsp timestamp(0), tstz timestamptz, j json, jb jsonb,
  dflt text DEFAULT 'default', gen bigint GENERATED ALWAYS AS (id * 2) STORED,
  CHECK (i4 IS DISTINCT FROM 13));
CREATE TABLE pgbin_log (id bigint, at_n numeric);
CREATE FUNCTION pgbin_logged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO pgbin_log VALUES (NEW.id, NEW.n2); RETURN NULL; END $$;
CREATE TRIGGER pgbin_after AFTER INSERT ON pgbin_all FOR EACH ROW WHEN (NEW.id < 100) EXECUTE FUNCTION pgbin_logged();
CREATE TABLE pgbin_up (id bigint PRIMARY KEY, n2 numeric(12,2), tstz timestamptz, t text, runs int DEFAULT 1);
CREATE TABLE pgbin_text (id bigint PRIMARY KEY, p posint, a int[], f4 real, t text);
