CREATE TABLE big (id int PRIMARY KEY, body text, blob bytea, doc jsonb, u uuid, nums int[]);
INSERT INTO big VALUES
  (1, repeat('x', 1000000), decode(repeat('ff', 100000), 'hex'), jsonb_build_object('k', repeat('y', 200000)),
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', ARRAY(SELECT generate_series(1, 10000))),
  (2, NULL, NULL, NULL, NULL, NULL),
  (3, repeat('z', 3000000), NULL, NULL, NULL, '{}');
CREATE TABLE copy (id int PRIMARY KEY, body text, blob text, doc jsonb, u text, nums text);
