-- between run 1 (start 2024-01-02T00:00Z) and run 2 (start 2024-01-03T00:00Z)
update items set name = 'b2', updated_at = '2024-01-02T06:00:00Z' where id = 2;
insert into items (id, name, updated_at) values
  (5, 'e', '2024-01-02T12:00:00Z'),   -- new
  (6, 'f', '2024-01-01T23:55:00Z'),   -- before run 1's start, within the 10m lag
  (7, 'g', '2024-01-01T23:45:00Z');   -- before run 1's start - lag: not exported again
