PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE IF NOT EXISTS "contacts" ("id" INTEGER, "email" TEXT, "note" TEXT, "first_seen" TEXT, "source" TEXT, UNIQUE ("id"));
INSERT INTO contacts VALUES(1,' Anna@Example.com ','gift wrap','2026-11-27','webshop');
INSERT INTO contacts VALUES(2,'bob@example.com',NULL,'2026-11-27','webshop');
INSERT INTO contacts VALUES(3,'CARL@example.com',NULL,'2026-11-27','webshop');
INSERT INTO contacts VALUES(4,'dora@example.com',NULL,'2026-11-27','webshop');
INSERT INTO contacts VALUES(5,'eve@example.com',NULL,'2026-11-27','webshop');
COMMIT;
