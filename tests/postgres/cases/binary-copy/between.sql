-- the second run inserts the same rows again into emptied tables, and upserts the same keys:
-- pgbin_up's pages meet their keys and go through the staging table
TRUNCATE pgbin_all, pgbin_log, pgbin_text;
UPDATE pgbin_up SET runs = runs + 1;
