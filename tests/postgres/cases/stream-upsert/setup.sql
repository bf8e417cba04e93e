-- this database's sessions log their statements: check.sh counts the COPY commands
DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET log_statement = ''all''', current_database()); END $$;
CREATE TABLE src (id int PRIMARY KEY, name text);
INSERT INTO src SELECT i, 'n' || i FROM generate_series(1, 2000) i;
CREATE TABLE stream_up (id int PRIMARY KEY, name text, len int, at timestamptz DEFAULT now());
