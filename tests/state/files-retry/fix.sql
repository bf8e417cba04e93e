INSERT INTO customers VALUES (3, 'cy');
