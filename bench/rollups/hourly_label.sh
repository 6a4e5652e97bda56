#!/bin/bash
# bench/rollups/hourly_label.sh: the C answer of api.hourly_sales over 30 days with the entry point of
# change hourly_sales_label (UTC hours each with its label in the business time zone,
# techmart_hourly_sales_json_label) against the one of change hourly_sales_utc (no label,
# techmart_hourly_sales_json_utc) of the same techmart.so; TZ_LABELS (default Europe/Berlin) is the zone
# of the labels; prints the median time per call of each and the ratio labels/none (hourly_ab.sh:
# ROUNDS, the libpq environment of a superuser).
exec "$(dirname "$0")/hourly_ab.sh" techmart_hourly_sales_json_utc techmart_hourly_sales_json_label \
  "UTC hours" "with labels" "${TZ_LABELS:-Europe/Berlin}"
