#!/bin/bash
# bench/rollups/hourly_utc.sh: the C answer of api.hourly_sales over 30 days with the entry point of
# change hourly_sales_utc (UTC hours, techmart_hourly_sales_json_utc) against the earlier one (local
# hours of the business time zone, techmart_hourly_sales_json) of the same techmart.so, business zone
# Europe/Berlin; prints the median time per call of each and the ratio UTC/local (hourly_ab.sh: ROUNDS,
# the libpq environment of a superuser).
exec "$(dirname "$0")/hourly_ab.sh" techmart_hourly_sales_json techmart_hourly_sales_json_utc \
  "local hours" "UTC hours" Europe/Berlin
