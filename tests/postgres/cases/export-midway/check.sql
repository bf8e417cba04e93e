SELECT count(*), min(n), max(n) FROM copied;
