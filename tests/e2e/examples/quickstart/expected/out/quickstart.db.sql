PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE IF NOT EXISTS "big_orders" ("id" INTEGER, "email" TEXT, "name" TEXT, "total_cents" INTEGER, "vip" INTEGER, "lines" INTEGER, "note" TEXT, UNIQUE ("id"));
INSERT INTO big_orders VALUES(1,'anna@example.com','Anna Berg',125050,1,2,'gift wrap');
INSERT INTO big_orders VALUES(5,'eve@example.com','Eve Moss',50000,0,1,'');
COMMIT;
