-- techmart 0.3 -> 0.4. Fragments of this directory are concatenated in name order
-- (owners: 10-19 observability).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.4'" to load this file. \quit
