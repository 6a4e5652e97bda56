#pragma once
// The per-bucket deltas of one statement's transaction lines for the hourly sales rollups
// (migrations: analytics.sales_hourly, change rollup_deltas_c). The same arithmetic as the rollup
// triggers' SQL (template 'apply' of analytics.rollup_sql, changes rollups .. overview_rollups),
// done in one pass over the lines instead of a grouping-sets aggregate, a per-order aggregate, a
// join and a sort:
//
//   buckets   (dim, hour, key) for dim all (key ""), product, category, country, platform,
//             payment_method (key the value as text, "" when NULL) and minute (key "00".."59", the
//             minute within the UTC hour); hour = start of the UTC hour of the line's time.
//   sign      +1 a line version added by the statement, -1 one removed, 0 another line of a
//             touched order (it only decides whether the order is already present in a bucket).
//   metrics   revenue = sum(sign * amount | completed) - sum(sign * amount | kind refund), units
//             likewise with quantity, transactions = sum(sign), completed / refunded / blocked /
//             failed / pending = sum(sign | status), refunded_amount = sum(sign * amount |
//             refunded), suspicious = sum(sign | is_suspicious).
//   orders    a line whose order has no other line version here (or no order number) counts
//             sign when completed; for the other orders, per bucket: present after (a completed
//             line with sign >= 0) minus present before (a completed line with sign <= 0).
//   customers the HyperLogLog of the customers of the lines with sign +1 (none: no sketch).
//
// A delta is returned only when one of the eleven metrics is non-zero. Amounts are fixed-point
// integers in thousandths (the schema's money_amount is numeric(14,3)); the sums keep the largest
// scale of their terms, as numeric sums do. Output sorted by (dim,
// hour, key) in byte order: the lock order of the upserts.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace techmart::core::rollup {

enum class Status : std::uint8_t { kCompleted, kRefunded, kBlocked, kFailed, kPending, kOther };
Status parse_status(const char* s, std::size_t len) noexcept;

struct Line {
  int sign = 1;
  std::int64_t id = 0;
  bool has_order = false;         // order_number IS NOT NULL
  std::string_view order_number;  // the caller keeps the bytes alive during deltas()
  std::int64_t time_us = 0;  // microseconds since 2000-01-01 00:00 UTC (PostgreSQL timestamptz)
  Status status = Status::kOther;
  std::int64_t amount_milli = 0;  // amount in thousandths
  int amount_scale = 3;           // decimals of the amount as given (0..3)
  std::int64_t quantity = 0;
  bool suspicious = false;
  bool refund_kind = false;  // kind = 'refund'
  // the dimension values as text, "" for NULL (the rollup keys)
  std::string_view product, category, country, platform, payment_method;
  bool has_customer = false;
  std::int64_t customer = 0;
};

// Dimensions in byte order of their names (the sort order of the output).
enum class Dim : std::uint8_t {
  kAll,
  kCategory,
  kCountry,
  kMinute,
  kPaymentMethod,
  kPlatform,
  kProduct
};
const char* dim_name(Dim d) noexcept;

struct Delta {
  Dim dim = Dim::kAll;
  std::int64_t hour_us = 0;
  std::string key;
  __int128 revenue_milli = 0;
  int revenue_scale = -1;  // largest scale of the amounts that entered revenue; -1: none (SQL: 0)
  std::int64_t orders = 0, units = 0, transactions = 0, completed = 0, refunded = 0;
  __int128 refunded_amount_milli = 0;
  int refunded_amount_scale = -1;
  std::int64_t blocked = 0, failed = 0, pending = 0, suspicious = 0;
  std::optional<std::string> customers_hll;  // serialised HyperLogLog (precision 14)
};

// Floor of t to its UTC hour (date_bin('1 hour', t, '2000-01-01 00:00+00')).
std::int64_t hour_floor_us(std::int64_t t) noexcept;

std::vector<Delta> deltas(const std::vector<Line>& lines);

}  // namespace techmart::core::rollup
