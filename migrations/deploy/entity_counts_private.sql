-- Deploy techmart:entity_counts_private to pg
-- requires: entity_shadow
-- requires: analytics
--
-- techmart.entity_counts and techmart.shadow_scores were readable by PUBLIC (GRANT of the
-- extension's 0.2 scripts): every role of the database — the BI role techmart_bi and its logins
-- included — read the customers' IP addresses, device ids and payment fingerprints with their
-- customer ids and fraud verdicts (entity_counts rows 'ip/customer' 98.38.58.185/252 ...), and the
-- shadow scores' reasons (whose details name devices, IPs and amounts, like transactions.fraud_reasons,
-- which no BI view shows). The BI role is promised "no e-mail, IP, device or card fingerprints"
-- (change analytics). No other role needs them: the scoring trigger reads the counters as the
-- inserting role, which needs privileges on techmart.customer_state that only the owner has (the
-- API inserts through SECURITY DEFINER functions), and api.fraud_shadow / api.fraud_backtest are
-- SECURITY DEFINER. pg_dump keeps the change (an extension member's privileges are dumped as their
-- difference from pg_init_privs). The extension's version is unchanged.
BEGIN;

REVOKE SELECT ON techmart.entity_counts, techmart.shadow_scores FROM PUBLIC;

COMMIT;
