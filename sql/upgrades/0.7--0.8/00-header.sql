-- techmart 0.7 -> 0.8. Fragments of this directory are concatenated in name order
-- (owners: 10-19 the state after DELETE / UPDATE / TRUNCATE of transactions; 20-29 backtests).
\echo Use "ALTER EXTENSION techmart UPDATE TO '0.8'" to load this file. \quit
