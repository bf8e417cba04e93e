CREATE TABLE customers (id int PRIMARY KEY, vip int, opted smallint, prefs jsonb);
INSERT INTO customers VALUES
  (1, 1, 0, '{"active": 1, "tags": [{"on": 0}]}'),
  (2, 0, NULL, '{"active": true, "tags": [{"on": 1}]}'),
  (3, 2, 1, '{"active": 0, "tags": []}'),
  (4, 1, 1, '{"active": 0, "tags": [{"on": 3}]}');
CREATE TABLE flags (id int PRIMARY KEY, vip boolean NOT NULL, opted boolean, active boolean NOT NULL, first_on boolean);
