select id, exported from orders order by id;
select count(*), count(distinct id), string_agg(id::text, ',' order by id) from copies;
