-- `typed` exists with its own column types; `created` is made by the connector from the first row
CREATE TABLE typed (id int PRIMARY KEY, at timestamptz, tags text[], doc json, flag boolean, amount numeric(10,2), note text);
