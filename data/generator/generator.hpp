// techmart-gen: deterministic seed data for TechMart (see docs/architecture.md, "Seed data").
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "rng.hpp"

namespace techmart::gen {

struct Config {
  uint64_t seed = 42;
  uint64_t suppliers = 50;
  uint64_t categories = 12;
  uint64_t products = 500;
  uint64_t customers = 1000;
  uint64_t transactions = 5000;
  int64_t end = 1793491200;  // 2026-11-01T00:00:00Z
  uint64_t days = 60;
  double fraud_rate = 0.03;
  // --compromised-devices N: N devices, each used by many customers on 2-4 consecutive days,
  // most of its rows fraud (pattern compromised_device); extra rows, off by default.
  uint64_t compromised_devices = 0;
  // --verdicts: also write transaction_labels.csv (analysts' delayed verdicts); off by default.
  bool verdicts = false;
};

// Fraud patterns, in the order of the schema's planted_fraud CHECK; 0 = legitimate.
enum Pattern : uint8_t {
  kLegit = 0,
  kVelocityBurst,
  kAmountSpike,
  kImpossibleTravel,
  kOddHours,
  kCardTesting,
  kPatternCount
};
// Only with --compromised-devices (not one of the schema's planted_fraud patterns).
constexpr uint8_t kCompromisedDevice = kPatternCount;
const char* pattern_name(int p);

// --- time helpers (UTC, proleptic Gregorian) ---
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
bool parse_utc(std::string_view text, int64_t* out);  // YYYY-MM-DD[THH:MM:SS[Z]]
std::string format_utc(int64_t t);                    // 2026-10-31T14:03:11Z

// Buffered output to a FILE* or into a string.
class Out {
 public:
  explicit Out(std::FILE* f) : file_(f) { buf_.reserve(1 << 17); }
  explicit Out(std::string* s) : str_(s) {}
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;
  ~Out() { flush(); }

  void raw(std::string_view v) { buf_.append(v.data(), v.size()); }
  void ch(char c) { buf_.push_back(c); }
  void sep() { buf_.push_back(','); }
  void text(std::string_view v);  // one CSV field, RFC 4180 quoted when needed
  void u64(uint64_t v);
  void i64(int64_t v);
  // fixed point: v / 10^decimals; trim_zero drops one trailing zero (3 decimals -> 2 if exact)
  void fixed(int64_t v, int decimals, bool trim_zero = false);
  void hex(uint64_t v, int digits);
  void end_row() {
    buf_.push_back('\n');
    if (buf_.size() >= (1 << 16)) flush();
  }
  bool flush();
  bool ok() const { return ok_; }

 private:
  std::FILE* file_ = nullptr;
  std::string* str_ = nullptr;
  std::string buf_;
  bool ok_ = true;
};

struct Product {
  uint32_t category;  // index into the categories in use
  int64_t price_milli;
  double log_price;
  uint32_t supplier;  // index
  bool accessory;
  std::string name, description;
  int stock, threshold;
};

struct Customer {
  uint16_t country;  // index into countries()
  uint16_t city;     // index into cities()
  double lat, lon;   // home
  int64_t registered;
  double rate;    // relative activity
  double basket;  // typical amount of a line
  bool night_owl;
  int8_t tz;
  uint8_t devices, instruments;
  uint8_t method[3];    // payment method of each instrument
  uint8_t platform[4];  // platform of each device
  uint8_t cat[3];       // preferred categories
  uint8_t name_group, first, last, email_form, domain;
};

// The entities every table is derived from; built from the configuration alone.
class Model {
 public:
  explicit Model(const Config& cfg);
  const Config& cfg() const { return cfg_; }
  int64_t start() const { return cfg_.end - static_cast<int64_t>(cfg_.days) * 86400; }

  void write_categories(Out& out) const;
  void write_suppliers(Out& out) const;
  void write_products(Out& out) const;
  void write_customers(Out& out) const;
  // Streams the transactions in time order; memory is bounded by one day's rows.
  void write_transactions(Out& out) const;
  // The same, and the delayed verdicts (transaction_labels.csv) into *verdicts.
  void write_transactions(Out& out, Out* verdicts) const;

  const std::vector<Product>& products() const { return products_; }
  const std::vector<Customer>& customers() const { return customers_; }
  std::string customer_email(size_t i) const;

 private:
  friend class TxStream;
  void build_suppliers();
  void build_products();
  void build_customers();

  Config cfg_;
  std::vector<uint32_t> cat_ids_;  // categories in use -> index into categories()
  struct Supplier {
    std::string name, email;
    uint16_t country;
    int reliability_milli;
  };
  std::vector<Supplier> suppliers_;
  std::vector<Product> products_;
  std::vector<Customer> customers_;
  std::vector<std::vector<uint32_t>> by_category_;  // product indices per category
  std::vector<AliasTable> cat_popularity_;          // over by_category_[c]
  std::vector<std::vector<uint32_t>> cat_accessories_;
  std::vector<uint32_t> cheap_;      // price < 5
  std::vector<uint32_t> expensive_;  // by price, descending (top decile and more)
  AliasTable customer_activity_;
  AliasTable category_mix_;
  std::vector<std::vector<uint16_t>> cities_of_country_;
  std::vector<uint16_t> home_countries_;
};

bool write_table(const Model& m, std::string_view table, Out& out);  // false: unknown table
extern const char* const kTables[5];

}  // namespace techmart::gen
