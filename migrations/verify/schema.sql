-- Verify techmart:schema
SELECT id, name, reliability_score, country FROM suppliers WHERE false;
SELECT id, name, description FROM categories WHERE false;
SELECT id, sku, name, category_id, price, stock_quantity, low_stock_threshold, supplier_id FROM products WHERE false;
SELECT id, product_id, previous_quantity, new_quantity, reason, changed_at, changed_by FROM inventory_history WHERE false;
SELECT id, email, name, country, city, home_lat, home_lon, registration_date, total_spent, risk_score FROM customers WHERE false;
SELECT id, customer_id, product_id, quantity, unit_price, amount, transaction_time, status, payment_method,
       platform, order_number, country, latitude, longitude, device_id, ip_address, payment_fingerprint,
       fraud_score, fraud_reasons, is_suspicious, label, labelled_at FROM transactions WHERE false;
SELECT id, transaction_id, label, labelled_at FROM transaction_labels WHERE false;
SELECT transaction_id, pattern FROM planted_fraud WHERE false;
SELECT id, type, severity, message, transaction_id, customer_id, product_id, metadata, status FROM alerts WHERE false;
SELECT id, email, username, password_hash, role, verified FROM users WHERE false;
SELECT 1/count(*) FROM pg_trigger WHERE tgname = 'transactions_score';
