PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE accounts (email TEXT PRIMARY KEY, owner TEXT NOT NULL, segment TEXT);
INSERT INTO accounts VALUES('anna@example.com','kim','enterprise');
INSERT INTO accounts VALUES('bob@example.com','lee',NULL);
INSERT INTO accounts VALUES('eve@example.com','kim','smb');
COMMIT;
