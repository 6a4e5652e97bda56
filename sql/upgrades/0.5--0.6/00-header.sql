-- techmart 0.5 -> 0.6. Fragments of this directory are concatenated in name order
-- (owners: 10-29 the DBA's and analyst's functions: argument checks, shadow scores of deleted
-- transactions).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.6'" to load this file. \quit
