-- techmart 0.2 -> 0.3. Fragments of this directory are concatenated in name order
-- (owners: 10-19 fraud engine).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.3'" to load this file. \quit
