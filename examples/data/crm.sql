-- The CRM accounts map-lookup.flow looks up (make demo and the tests load it with sqlite3 into data/crm.db).
CREATE TABLE accounts (email TEXT PRIMARY KEY, owner TEXT NOT NULL, segment TEXT);
INSERT INTO accounts VALUES ('anna@example.com', 'kim', 'enterprise');
INSERT INTO accounts VALUES ('bob@example.com', 'lee', NULL);
INSERT INTO accounts VALUES ('eve@example.com', 'kim', 'smb');
