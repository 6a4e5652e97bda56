-- Verify techmart:alert_counts_c
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'alerts_counts_ins' AND tgfoid = 'analytics.alert_counts_insert_row_c()'::regprocedure
   AND tgtype & 1 = 1 AND tgenabled <> 'D';  -- FOR EACH ROW
