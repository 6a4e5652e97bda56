#include "self_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "generator.hpp"
#include "tables.hpp"

namespace techmart::gen {

namespace {

using Table = std::vector<std::vector<std::string>>;

// RFC 4180 parser (quoted fields, doubled quotes, embedded separators).
bool parse_csv(const std::string& text, Table* rows) {
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_field = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          quoted = false;
        }
      } else {
        field.push_back(c);
      }
    } else if (c == '"' && !in_field) {
      quoted = in_field = true;
    } else if (c == ',') {
      row.push_back(field);
      field.clear();
      in_field = false;
    } else if (c == '\n') {
      row.push_back(field);
      rows->push_back(row);
      row.clear();
      field.clear();
      in_field = false;
    } else {
      field.push_back(c);
      in_field = true;
    }
  }
  return !quoted && field.empty() && row.empty();
}

struct Checker {
  int failures = 0;
  void expect(bool ok, const std::string& what) {
    if (!ok) {
      ++failures;
      if (failures <= 30) std::fprintf(stderr, "FAIL: %s\n", what.c_str());
    }
  }
};

double money(const std::string& s) { return std::strtod(s.c_str(), nullptr); }

double km_between(double lat1, double lon1, double lat2, double lon2) {
  const double r = 6371.0, k = 3.14159265358979323846 / 180.0;
  const double dlat = (lat2 - lat1) * k, dlon = (lon2 - lon1) * k;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * k) * std::cos(lat2 * k) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * r * std::asin(std::sqrt(std::min(1.0, a)));
}

std::string all_tables(const Config& cfg) {
  std::string s;
  const Model m(cfg);
  for (const char* t : kTables) {
    Out out(&s);
    write_table(m, t, out);
  }
  return s;
}

}  // namespace

bool self_check(uint64_t seed) {
  Config cfg;
  cfg.seed = seed;
  cfg.suppliers = 20;
  cfg.products = 300;
  cfg.customers = 400;
  cfg.transactions = 8000;
  cfg.days = 30;
  cfg.fraud_rate = 0.04;
  Checker ck;

  // determinism: the same configuration twice gives the same bytes; another seed differs
  const std::string a = all_tables(cfg), b = all_tables(cfg);
  ck.expect(a == b, "two runs with the same arguments produce identical output");
  Config other = cfg;
  other.seed = seed + 1;
  ck.expect(all_tables(other) != a, "another seed produces different output");

  const Model m(cfg);
  std::map<std::string, Table> t;
  for (const char* name : kTables) {
    std::string s;
    {
      Out out(&s);
      write_table(m, name, out);
    }
    ck.expect(parse_csv(s, &t[name]), std::string(name) + ": well-formed CSV");
  }
  const std::map<std::string, std::pair<std::string, size_t>> expected = {
      {"categories", {"id,name,description", cfg.categories}},
      {"suppliers", {"id,name,reliability_score,country,contact_email", cfg.suppliers}},
      {"products",
       {"id,sku,name,description,category_id,price,stock_quantity,low_stock_threshold,supplier_id",
        cfg.products}},
      {"customers",
       {"id,email,name,country,city,home_lat,home_lon,registration_date", cfg.customers}},
      {"transactions",
       {"id,customer_id,product_id,quantity,unit_price,transaction_time,status,payment_method,"
        "platform,order_number,country,latitude,longitude,device_id,ip_address,"
        "payment_fingerprint,fraud_pattern",
        cfg.transactions}},
  };
  for (const auto& [name, exp] : expected) {
    Table& rows = t[name];
    if (rows.empty()) {
      ck.expect(false, name + ": has a header");
      return false;
    }
    std::string header;
    for (size_t i = 0; i < rows[0].size(); ++i) header += (i ? "," : "") + rows[0][i];
    ck.expect(header == exp.first, name + ": header is " + exp.first);
    ck.expect(rows.size() == exp.second + 1, name + ": " + std::to_string(exp.second) + " rows");
    for (size_t i = 1; i < rows.size(); ++i) {
      ck.expect(rows[i].size() == rows[0].size(), name + ": row " + std::to_string(i) + " width");
      ck.expect(rows[i][0] == std::to_string(i), name + ": ids are 1..n");
    }
  }
  if (ck.failures) return false;

  const std::regex country_re("^[A-Z]{2}$"), email_re("^[^@\\s]+@[^@\\s]+$"),
      money_re("^[0-9]+(\\.[0-9]{1,3})?$"), hex_re("^[0-9a-f]{16,128}$"),
      platform_re("^[a-z0-9_]{1,40}$"),
      time_re("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"),
      ip_re(
          "^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-"
          "9]?[0-9])){3}$");
  const auto in_range = [](const std::string& s, double lo, double hi) {
    const double v = std::strtod(s.c_str(), nullptr);
    return !s.empty() && v >= lo && v <= hi;
  };
  std::set<std::string> names;
  for (size_t i = 1; i < t["categories"].size(); ++i)
    ck.expect(names.insert(t["categories"][i][1]).second, "category names unique");
  names.clear();
  for (size_t i = 1; i < t["suppliers"].size(); ++i) {
    const auto& r = t["suppliers"][i];
    ck.expect(names.insert(r[1]).second, "supplier names unique: " + r[1]);
    ck.expect(in_range(r[2], 0, 1), "reliability in 0..1");
    ck.expect(std::regex_match(r[3], country_re), "supplier country");
    ck.expect(std::regex_match(r[4], email_re), "supplier email");
  }
  names.clear();
  size_t low_stock = 0, cheap = 0;
  for (size_t i = 1; i < t["products"].size(); ++i) {
    const auto& r = t["products"][i];
    ck.expect(names.insert(r[1]).second, "skus unique");
    ck.expect(std::regex_match(r[5], money_re), "price >= 0 with at most 3 decimals: " + r[5]);
    ck.expect(in_range(r[4], 1, static_cast<double>(cfg.categories)), "category exists");
    ck.expect(in_range(r[8], 1, static_cast<double>(cfg.suppliers)), "supplier exists");
    ck.expect(in_range(r[6], 0, 1e9) && in_range(r[7], 0, 1e9), "stock >= 0");
    low_stock += std::stol(r[6]) <= std::stol(r[7]);
    cheap += money(r[5]) < 5;
  }
  ck.expect(low_stock > 0, "some products are low on stock");
  ck.expect(cheap > 0, "some products cost less than 5");
  names.clear();
  std::vector<std::string> registered(1);
  for (size_t i = 1; i < t["customers"].size(); ++i) {
    const auto& r = t["customers"][i];
    std::string lower = r[1];
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    ck.expect(names.insert(lower).second, "customer emails unique");
    ck.expect(std::regex_match(r[1], email_re), "customer email");
    ck.expect(std::regex_match(r[3], country_re), "customer country");
    ck.expect(in_range(r[5], -90, 90) && in_range(r[6], -180, 180), "home location");
    ck.expect(std::regex_match(r[7], time_re), "registration_date format");
    registered.push_back(r[7]);
  }

  // transactions
  const std::set<std::string> statuses = {"pending", "completed", "failed", "refunded", "blocked"};
  const std::set<std::string> methods = {
      "credit_card", "debit_card", "paypal", "bank_transfer",    "apple_pay",
      "google_pay",  "gift_card",  "crypto", "cash_on_delivery", "unknown"};
  const Table& tx = t["transactions"];
  const std::string first = format_utc(m.start()), end = format_utc(cfg.end);
  std::map<std::string, size_t> per_pattern;
  std::map<std::string, std::pair<std::string, std::string>> order_of;  // customer, time
  std::string prev_order;
  for (size_t i = 1; i < tx.size(); ++i) {
    const auto& r = tx[i];
    const std::string at = "transactions row " + r[0] + ": ";
    ck.expect(in_range(r[1], 1, static_cast<double>(cfg.customers)), at + "customer exists");
    ck.expect(in_range(r[2], 1, static_cast<double>(cfg.products)), at + "product exists");
    ck.expect(in_range(r[3], 1, 1e6), at + "quantity > 0");
    ck.expect(std::regex_match(r[4], money_re), at + "unit_price");
    ck.expect(std::regex_match(r[5], time_re), at + "time format");
    ck.expect(r[5] >= first && r[5] < end, at + "time inside the period");
    if (i > 1) ck.expect(tx[i - 1][5] <= r[5], at + "sorted by time");
    const size_t cid = std::stoul(r[1]);
    if (cid < registered.size()) ck.expect(registered[cid] < r[5], at + "registered before");
    ck.expect(statuses.count(r[6]) == 1, at + "status");
    ck.expect(methods.count(r[7]) == 1, at + "payment_method");
    ck.expect(std::regex_match(r[8], platform_re), at + "platform");
    ck.expect(r[9].rfind("ORD-", 0) == 0, at + "order number");
    auto [it, fresh] = order_of.emplace(r[9], std::make_pair(r[1], r[5]));
    ck.expect(fresh ? r[9] != prev_order
                    : (it->second == std::make_pair(r[1], r[5]) && r[9] == prev_order),
              at + "lines of an order are adjacent, same customer and time");
    prev_order = r[9];
    ck.expect(std::regex_match(r[10], country_re), at + "country");
    ck.expect(in_range(r[11], -90, 90) && in_range(r[12], -180, 180), at + "location");
    ck.expect(!r[13].empty() && r[13].size() <= 200, at + "device_id");
    ck.expect(std::regex_match(r[14], ip_re), at + "ip_address");
    ck.expect(r[15].empty() || std::regex_match(r[15], hex_re), at + "payment_fingerprint");
    ++per_pattern[r[16]];
  }
  const size_t fraud_expected =
      static_cast<size_t>(std::floor(static_cast<double>(cfg.transactions) * cfg.fraud_rate + 0.5));
  size_t fraud = 0;
  for (int p = 1; p < kPatternCount; ++p) {
    const size_t n = per_pattern[pattern_name(p)];
    fraud += n;
    ck.expect(n >= 15, std::string("pattern ") + pattern_name(p) + " has >= 15 rows");
  }
  ck.expect(fraud == fraud_expected, "fraud rows = round(transactions * fraud-rate)");
  ck.expect(per_pattern.size() == kPatternCount, "no unknown fraud_pattern values");

  // pattern semantics, per customer in time order
  struct Tx {
    int64_t time;
    double amount, lat, lon;
    std::string country, pattern, fp;
  };
  std::map<size_t, std::vector<Tx>> by_customer;
  for (size_t i = 1; i < tx.size(); ++i) {
    const auto& r = tx[i];
    int64_t tt;
    parse_utc(r[5], &tt);
    by_customer[std::stoul(r[1])].push_back({tt, std::stod(r[3]) * money(r[4]), std::stod(r[11]),
                                             std::stod(r[12]), r[10], r[16], r[15]});
  }
  size_t travel_checked = 0, spikes_checked = 0;
  for (const auto& entry : by_customer) {
    const size_t cid = entry.first;
    const std::vector<Tx>& list = entry.second;
    const Customer& cu = m.customers()[cid - 1];
    std::vector<double> legit_amounts;
    bool legit_night = false;
    for (const Tx& x : list) {
      const int local = static_cast<int>((((x.time / 3600) + cu.tz) % 24 + 24) % 24);
      if (x.pattern.empty() && local >= 1 && local <= 5) legit_night = true;
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const Tx& x = list[i];
      const auto near_same = [&](int64_t window) {
        size_t n = 0;
        for (const Tx& y : list)
          n += y.pattern == x.pattern && std::llabs(y.time - x.time) <= window;
        return n;
      };
      if (x.pattern == "velocity_burst") {
        ck.expect(near_same(600) >= 5, "velocity_burst: >= 5 purchases within 10 minutes");
      } else if (x.pattern == "card_testing") {
        ck.expect(near_same(600) >= 3, "card_testing: >= 3 attempts within 10 minutes");
      } else if (x.pattern == "amount_spike") {
        ck.expect(!legit_amounts.empty(), "amount_spike: customer has prior history");
        if (!legit_amounts.empty()) {
          std::vector<double> s = legit_amounts;
          std::nth_element(s.begin(), s.begin() + static_cast<long>(s.size() / 2), s.end());
          ck.expect(x.amount >= 4 * s[s.size() / 2],
                    "amount_spike: amount >= 4x the customer's median (customer " +
                        std::to_string(cid) + ")");
          ++spikes_checked;
        }
      } else if (x.pattern == "odd_hours") {
        const int local = static_cast<int>((((x.time / 3600) + cu.tz) % 24 + 24) % 24);
        ck.expect(local >= 2 && local <= 4, "odd_hours: between 02:00 and 05:00 local time");
        ck.expect(!cu.night_owl && !legit_night, "odd_hours: the customer never buys at night");
        ck.expect(!legit_amounts.empty(), "odd_hours: customer has prior history");
      } else if (x.pattern == "impossible_travel") {
        ck.expect(!legit_amounts.empty(), "impossible_travel: customer has prior history");
        if (i > 0 && list[i - 1].pattern.empty()) {
          const Tx& p = list[i - 1];
          const double hours = std::max(1.0, static_cast<double>(x.time - p.time)) / 3600.0;
          ck.expect(x.country != p.country, "impossible_travel: another country");
          ck.expect(km_between(p.lat, p.lon, x.lat, x.lon) / hours > 1000,
                    "impossible_travel: faster than a plane");
          ++travel_checked;
        }
      }
      if (x.pattern.empty()) legit_amounts.push_back(x.amount);
    }
  }
  ck.expect(travel_checked > 0 && spikes_checked > 0, "pattern checks ran");

  std::fprintf(stderr, "self-check: %zu transactions, %zu fraud (", tx.size() - 1, fraud);
  for (int p = 1; p < kPatternCount; ++p)
    std::fprintf(stderr, "%s%s %zu", p > 1 ? ", " : "", pattern_name(p),
                 per_pattern[pattern_name(p)]);
  std::fprintf(stderr, "): %s\n", ck.failures ? "FAILED" : "ok");
  return ck.failures == 0;
}

}  // namespace techmart::gen
