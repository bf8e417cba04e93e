-- one column of every type the connector maps, and the ones it hands over as text
CREATE TABLE types (
  id int PRIMARY KEY, i2 smallint, i8 bigint, f4 real, f8 double precision, n numeric(20,4), b boolean,
  j json, jb jsonb, ts timestamp, tstz timestamptz, d date, tm time, iv interval, t text, v varchar(10),
  c char(3), u uuid, by bytea, arr int[], tarr text[], money money, inet inet, e text
);
INSERT INTO types VALUES
  (1, 2, 9007199254740991, 1.5, 0.1, 12.3400, true, '{"a":[1,2,{"b":null}]}', '{"z": 1, "a": "x"}',
   '2026-11-01 01:00:00', '2026-11-01 02:00:00+01', '2026-11-01', '13:45:00', '1 day 2 hours', 'héllo "q" \ 日本',
   'v', 'ab', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x0102ff', '{1,2,3}', '{"a b",NULL}', 12.5, '10.0.0.1', NULL),
  (2, -32768, 9223372036854775807, 3.25, -1e-300, 9007199254740993.0000, false, 'null', '[]', 'infinity',
   '2026-11-01 01:00:00.123456+00', '0044-03-15 BC', '00:00:00', '-3 minutes', '', NULL, NULL, NULL, '', '{}', '{}',
   0, NULL, NULL),
  (3, 0, -42, -0.25, 1e300, 123456789.0001, NULL, '"str"', '3.5', '1999-12-31 23:59:59.5',
   '2000-01-01 00:00:00-05:30', '2000-02-29', NULL, NULL, 'line1
line2	tab', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'x'),
  (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   NULL, NULL, NULL, NULL, NULL),
  (5, 1, 1, 1, 1, 1, true, '1', '1', '2026-01-01', '2026-01-01', '2026-01-01', '00:00', '0', 'skip me', NULL, NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (6, 6, -9223372036854775808, 'NaN', 'Infinity', 'NaN', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'nan', NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (7, 7, 9007199254740993, 1, 1, 1, NULL, '{"deep": "\u0000"}', NULL, NULL, NULL, NULL, NULL, NULL, 'nul', NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (8, 8, -9007199254740993, 1, 1, -9007199254740993.0000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'big', NULL,
   NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
