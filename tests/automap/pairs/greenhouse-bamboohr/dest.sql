CREATE TABLE employees (
  employeeNumber TEXT PRIMARY KEY,
  firstName TEXT NOT NULL,
  lastName TEXT NOT NULL,
  workEmail TEXT,
  homeEmail TEXT,
  jobTitle TEXT,
  department TEXT,
  location TEXT,
  hireDate DATE,
  payRate REAL,
  payRateCurrency TEXT,
  supervisorEmail TEXT
);
