insert into orders (id, total) values (7, 3) on conflict do nothing;
