-- The second page (ids 4 to 7) is 5242871 bytes as the generic way counts rows (a column's name, its
-- text and 4 more each, 2 a row): 9 under the 5 MB limit, where the JSON text's size would be 34
-- bytes more for the typed row 7 (5,242,350 tabs). Change a value of those rows and that sum changes.
CREATE TABLE src (id bigint PRIMARY KEY, name text, amount numeric, f8 float8, qty bigint, tag text, active boolean,
                  born timestamptz, local timestamp, note text, doc jsonb);
INSERT INTO src VALUES
  (-9223372036854775808, 'min', -9223372036854775808, 0, 1, NULL, true, '2026-01-01 00:00:00+00', '2026-01-01 12:30:00.5', NULL, NULL),
  (9223372036854775807, 'max', 9223372036854775807, 1e300, 2, NULL, false, '2026-06-30 23:59:59.999999+00', NULL, E'tab\tand \\ back', NULL),
  (9007199254740993, 'two53', 1.0000, -1.5, 3, NULL, true, 'infinity', '1999-12-31 23:59:59', '', NULL),
  (1, 'digits', 123456789.123456789012345678, 2.5, 4, NULL, false, '0044-03-15 12:00:00+00 BC', NULL, 'x', NULL),
  (2, 'past int64', 99999999999999999999, '-0', 5, NULL, true, '2026-03-01 10:00:00+05:30', NULL, NULL, NULL),
  (3, 'not a number', 'NaN', 1, 6, NULL, true, '2026-03-01 10:00:00+00', NULL, NULL, NULL),
  (4, 'misfit', 0.1234567890123456789, 1, 11, 'x12', true, '2026-03-01 10:00:00+00', NULL, NULL, NULL),
  (5, NULL, -0.5, 1, 7, NULL, true, '2026-03-01 10:00:00+00', NULL, NULL, NULL),
  (6, 'json', 0, 'NaN', 8, NULL, false, '2026-03-01 10:00:00+00', NULL, NULL, '{"a": [1, 2.5]}'),
  (7, 'tabs', 3.25, 0, 9, NULL, true, '2026-03-01 10:00:00+00', NULL, repeat(E'\t', 5242350), NULL),
  (8, 'small', 0, -2.75, 10, NULL, null, '2026-03-01 10:00:00+00', NULL, NULL, NULL);
CREATE TABLE dst (id bigint PRIMARY KEY, name text, amount numeric, f8 float8, neg float8, qty bigint, active boolean,
                  born text, local text, note text);
CREATE TABLE ins (LIKE dst);
ALTER TABLE dst ADD CHECK (qty <> 10);
