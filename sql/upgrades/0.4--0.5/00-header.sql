-- techmart 0.4 -> 0.5. Fragments of this directory are concatenated in name order
-- (owners: 10-19 fraud configuration).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.5'" to load this file. \quit
