CREATE TABLE customers (id int PRIMARY KEY, email text, tier text, since timestamptz);
INSERT INTO customers VALUES
  (1, 'ann@example.com', 'gold', '2020-05-01 10:00:00+00'),
  (2, 'bob@example.com', 'silver', NULL),
  (3, 'twin@example.com', 'bronze', '2021-01-01 00:00:00+00'),
  (4, 'twin@example.com', 'gold', '2022-01-01 00:00:00+00');
