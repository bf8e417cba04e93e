SELECT * FROM accounts ORDER BY code;
