create table seed (x);
