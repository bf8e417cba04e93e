CREATE TABLE copied (n int PRIMARY KEY, inv numeric);
