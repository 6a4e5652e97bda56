-- techmart 0.1 -> 0.2. Fragments of this directory are concatenated in name order
-- (owners: 10-19 fraud engine, 20-29 statistics, 30-39 rollup support).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.2'" to load this file. \quit
