-- techmart 0.6 -> 0.7. Fragments of this directory are concatenated in name order
-- (owners: 10-19 what pg_dump dumps of the extension's tables).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.7'" to load this file. \quit
