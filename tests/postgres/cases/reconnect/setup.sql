-- the lookup's sql and a trigger on the import's table each end their own connection once
-- (a sequence is not rolled back when its backend dies): the connector reconnects and retries
CREATE SEQUENCE lookup_kills;
CREATE SEQUENCE insert_kills;
CREATE TABLE sink (id int PRIMARY KEY, twice int);
CREATE FUNCTION kill_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF nextval('insert_kills') = 2 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER kill_once BEFORE INSERT ON sink FOR EACH STATEMENT EXECUTE FUNCTION kill_once();
