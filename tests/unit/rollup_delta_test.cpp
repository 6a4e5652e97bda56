#include "techmart/core/rollup_delta.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "techmart/core/hyperloglog.hpp"

using namespace techmart::core::rollup;

namespace {
constexpr std::int64_t kMinute = 60LL * 1000000LL;
constexpr std::int64_t kHour = 60 * kMinute;
const std::int64_t kH = 1000 * kHour;  // some hour after 2000-01-01

Line line(int sign, std::int64_t id, const char* order, std::int64_t t, Status st,
          std::int64_t milli, const char* product, std::int64_t customer) {
  Line l;
  l.sign = sign;
  l.id = id;
  l.has_order = order != nullptr;
  if (order != nullptr) l.order_number = order;
  l.time_us = t;
  l.status = st;
  l.amount_milli = milli;
  l.quantity = 1;
  l.product = product;
  l.category = "3";
  l.country = "GB";
  l.platform = "web";
  l.payment_method = "card";
  l.has_customer = true;
  l.customer = customer;
  return l;
}

const Delta* find(const std::vector<Delta>& ds, Dim dim, std::int64_t hour,
                  const std::string& key) {
  for (const Delta& d : ds)
    if (d.dim == dim && d.hour_us == hour && d.key == key) return &d;
  return nullptr;
}
}  // namespace

TEST(RollupDelta, HourFloorIsDateBin) {
  EXPECT_EQ(hour_floor_us(kH + 59 * kMinute), kH);
  EXPECT_EQ(hour_floor_us(kH), kH);
  EXPECT_EQ(hour_floor_us(-1), -kHour);  // before 2000: floor, not truncation
  EXPECT_EQ(hour_floor_us(-kHour), -kHour);
}

TEST(RollupDelta, InsertCountsOrdersOncePerBucket) {
  // order A: two completed lines in one minute, products 1 and 2; order B one pending line;
  // a line without order number, completed
  const std::vector<Line> lines = {
      line(1, 1, "A", kH + 5 * kMinute, Status::kCompleted, 10000, "1", 7),
      line(1, 2, "A", kH + 5 * kMinute, Status::kCompleted, 5500, "2", 7),
      line(1, 3, "B", kH + 9 * kMinute, Status::kPending, 2000, "1", 8),
      line(1, 4, nullptr, kH + 61 * kMinute, Status::kCompleted, 1250, "1", 9)};
  const std::vector<Delta> ds = deltas(lines);
  const Delta* all = find(ds, Dim::kAll, kH, "");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->revenue_milli, 15500);
  EXPECT_EQ(all->orders, 1);  // A once; B pending
  EXPECT_EQ(all->transactions, 3);
  EXPECT_EQ(all->completed, 2);
  EXPECT_EQ(all->pending, 1);
  EXPECT_EQ(all->units, 2);
  const Delta* p1 = find(ds, Dim::kProduct, kH, "1");
  ASSERT_NE(p1, nullptr);
  EXPECT_EQ(p1->orders, 1);
  EXPECT_EQ(p1->revenue_milli, 10000);
  EXPECT_EQ(p1->transactions, 2);
  const Delta* m5 = find(ds, Dim::kMinute, kH, "05");
  ASSERT_NE(m5, nullptr);
  EXPECT_EQ(m5->orders, 1);
  EXPECT_EQ(find(ds, Dim::kMinute, kH, "09")->orders, 0);
  const Delta* next = find(ds, Dim::kAll, kH + kHour, "");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->orders, 1);  // no order number: the line is its own order
  EXPECT_NE(find(ds, Dim::kMinute, kH + kHour, "01"), nullptr);
  // the customers' sketch of the bucket
  techmart::core::HyperLogLog h;
  h.add(7);
  h.add(8);
  ASSERT_TRUE(all->customers_hll.has_value());
  EXPECT_EQ(*all->customers_hll, h.serialize());
  EXPECT_EQ(all->revenue_scale, 3);
  EXPECT_EQ(find(ds, Dim::kMinute, kH, "09")->revenue_scale, -1);  // no completed line: SQL 0
}

TEST(RollupDelta, UpdateWithAnotherLineOfTheOrder) {
  // order C had two completed lines (ids 1, 2); the statement refunds line 1: old version -1,
  // new version +1 refunded; line 2 is read as sign 0. The order stays present: orders delta 0.
  std::vector<Line> lines = {line(-1, 1, "C", kH, Status::kCompleted, 4000, "1", 5),
                             line(1, 1, "C", kH, Status::kRefunded, 4000, "1", 5),
                             line(0, 2, "C", kH, Status::kCompleted, 1000, "2", 5)};
  std::vector<Delta> ds = deltas(lines);
  const Delta* all = find(ds, Dim::kAll, kH, "");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->orders, 0);
  EXPECT_EQ(all->revenue_milli, -4000);
  EXPECT_EQ(all->completed, -1);
  EXPECT_EQ(all->refunded, 1);
  EXPECT_EQ(all->refunded_amount_milli, 4000);
  EXPECT_EQ(all->transactions, 0);
  // product 1's bucket loses the order (no other completed line of C there); product 2 unchanged
  EXPECT_EQ(find(ds, Dim::kProduct, kH, "1")->orders, -1);
  EXPECT_EQ(find(ds, Dim::kProduct, kH, "2"), nullptr);  // all metrics zero: no delta
  // now line 2 is not completed either: the order leaves the hour
  lines[2].status = Status::kPending;
  ds = deltas(lines);
  EXPECT_EQ(find(ds, Dim::kAll, kH, "")->orders, -1);
}

TEST(RollupDelta, RefundRowsAreNetAndDeletesSubtract) {
  Line r = line(1, 1, nullptr, kH, Status::kRefunded, 2500, "1", 1);
  r.refund_kind = true;
  Line d = line(-1, 2, nullptr, kH, Status::kCompleted, 1000, "1", 2);
  d.suspicious = true;
  d.amount_scale = 2;
  const std::vector<Delta> ds = deltas({r, d});
  const Delta* all = find(ds, Dim::kAll, kH, "");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->revenue_milli, -2500 - 1000);
  EXPECT_EQ(all->units, -2);
  EXPECT_EQ(all->orders, -1);
  EXPECT_EQ(all->suspicious, -1);
  EXPECT_EQ(all->revenue_scale, 3);
  ASSERT_TRUE(all->customers_hll.has_value());  // the added line's customer only
  techmart::core::HyperLogLog h;
  h.add(1);
  EXPECT_EQ(*all->customers_hll, h.serialize());
  EXPECT_FALSE(deltas({d})[0].customers_hll.has_value());  // removals add no customer
}

TEST(RollupDelta, SortedByDimHourKeyBytes) {
  std::vector<Line> lines;
  const char* products[] = {"9", "10", "100", "2"};
  for (int i = 0; i < 4; ++i)
    lines.push_back(line(1, i, nullptr, kH - i * kHour, Status::kCompleted, 100, products[i], i));
  const std::vector<Delta> ds = deltas(lines);
  for (std::size_t i = 1; i < ds.size(); ++i) {
    const std::string a = dim_name(ds[i - 1].dim), b = dim_name(ds[i].dim);
    ASSERT_TRUE(a < b ||
                (a == b && (ds[i - 1].hour_us < ds[i].hour_us ||
                            (ds[i - 1].hour_us == ds[i].hour_us && ds[i - 1].key < ds[i].key))))
        << i;
  }
  EXPECT_EQ(ds.size(), 4u * 7u);
  EXPECT_EQ(std::string(dim_name(ds.front().dim)), "all");
  EXPECT_EQ(std::string(dim_name(ds.back().dim)), "product");
}

TEST(RollupDelta, KeysWithinAnHourInByteOrderAndSketchesOfEveryCustomer) {
  // one hour, keys of several lengths (product "" is a NULL product), minutes out of order, the
  // same bucket fed customers in an order unrelated to their values: the keys come out in byte
  // order within each (dim, hour) and a bucket's sketch is the sketch of all its customers
  std::vector<Line> lines;
  const char* products[] = {"9", "10", "", "100", "2", "1", "10", "9"};
  const std::int64_t minutes[] = {59, 0, 7, 10, 1, 59, 9, 0};
  const std::int64_t customers[] = {77, 5, 12, 3, 900, 41, 6, 2};
  for (int i = 0; i < 8; ++i) {
    Line l = line(1, i, nullptr, kH + minutes[i] * kMinute + i, Status::kCompleted, 100,
                  products[i], customers[i]);
    l.country = i % 2 == 0 ? "GB" : "DE";
    lines.push_back(l);
  }
  const std::vector<Delta> ds = deltas(lines);
  for (std::size_t i = 1; i < ds.size(); ++i) {
    if (ds[i - 1].dim == ds[i].dim && ds[i - 1].hour_us == ds[i].hour_us) {
      ASSERT_LT(ds[i - 1].key, ds[i].key) << dim_name(ds[i].dim) << " " << i;
    }
  }
  std::vector<std::string> keys;
  for (const Delta& d : ds)
    if (d.dim == Dim::kProduct) keys.push_back(d.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"", "1", "10", "100", "2", "9"}));
  keys.clear();
  for (const Delta& d : ds)
    if (d.dim == Dim::kMinute) keys.push_back(d.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"00", "01", "07", "09", "10", "59"}));
  techmart::core::HyperLogLog all_customers;
  for (int i = 7; i >= 0; --i) all_customers.add(customers[i]);
  const Delta* all = find(ds, Dim::kAll, kH, "");
  ASSERT_NE(all, nullptr);
  ASSERT_TRUE(all->customers_hll.has_value());
  EXPECT_EQ(*all->customers_hll, all_customers.serialize());
  techmart::core::HyperLogLog gb;
  for (int i = 0; i < 8; i += 2) gb.add(customers[i]);
  EXPECT_EQ(*find(ds, Dim::kCountry, kH, "GB")->customers_hll, gb.serialize());
  EXPECT_EQ(find(ds, Dim::kProduct, kH, "10")->transactions, 2);
  EXPECT_EQ(find(ds, Dim::kMinute, kH, "59")->transactions, 2);
}
