-- Revert techmart:api_endpoints
BEGIN;
DO $$
DECLARE
  f regprocedure;
BEGIN
  -- every function this change created (api_v1/api_auth/api_live ones stay)
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'api'::regnamespace
              AND p.proname IN ('_check_int', '_check_num', '_check_bool', '_check_enum', '_check_time', '_time',
                                '_check_page', '_order_by', '_raise_if', '_tx_check', '_tx_where', 'list_transactions',
                                'suspicious_transactions', 'export_transactions', 'update_transaction', 'alert_json',
                                'create_alert', 'get_alert', 'list_alerts', 'update_alert', 'alerts_status',
                                '_inventory_rows', '_inventory_list', 'list_inventory', 'low_stock', 'update_inventory',
                                'inventory_history', '_list', 'list_categories', 'list_suppliers', 'list_products',
                                'get_category', 'get_supplier', 'get_product', '_category_errors', 'create_category',
                                'update_category', '_supplier_errors', 'create_supplier', 'update_supplier',
                                '_product_errors', 'create_product', 'update_product', '_delete', 'delete_category',
                                'delete_supplier', 'delete_product', 'list_customers', 'get_customer',
                                '_customer_errors', 'create_customer', 'update_customer')
  LOOP
    EXECUTE format('DROP FUNCTION %s CASCADE', f);
  END LOOP;
END $$;
COMMIT;
