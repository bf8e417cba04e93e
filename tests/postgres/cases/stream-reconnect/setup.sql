CREATE SEQUENCE kills;
CREATE TABLE stream_sink (id int PRIMARY KEY, v text);
CREATE FUNCTION kill_once() RETURNS trigger AS $$
BEGIN
  IF NEW.id = 1234 AND nextval('kills') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER kill BEFORE INSERT ON stream_sink FOR EACH ROW EXECUTE FUNCTION kill_once();
