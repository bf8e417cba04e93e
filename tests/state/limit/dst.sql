create table lim (id integer not null, since text);
create table del (id integer not null, since text);
