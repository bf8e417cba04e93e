CREATE TABLE src (id int PRIMARY KEY, name text);
INSERT INTO src SELECT i, 'n' || i FROM generate_series(1, 30) i;
-- keys 8 and 21 are there already: the pages of ids 7-9 and 19-21 meet them
CREATE TABLE plain (id int PRIMARY KEY, name text);
INSERT INTO plain VALUES (8, 'old'), (21, 'old');
CREATE TABLE numbered (n serial, id int UNIQUE, name text);
INSERT INTO numbered (id, name) VALUES (8, 'old'), (21, 'old');
CREATE TABLE triggered (id int PRIMARY KEY, name text);
INSERT INTO triggered VALUES (8, 'old'), (21, 'old');
CREATE TABLE fired (n int);
INSERT INTO fired VALUES (0);
CREATE FUNCTION count_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE fired SET n = n + 1; RETURN NULL; END $$;
CREATE TRIGGER counted AFTER UPDATE ON triggered FOR EACH STATEMENT EXECUTE FUNCTION count_update();
CREATE TABLE halves (half int PRIMARY KEY, id int, name text);
