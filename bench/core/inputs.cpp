#include "inputs.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <utility>

namespace techmart::bench {

namespace {

constexpr double kStart = 1736121600.0;  // 2025-01-06 00:00 UTC, a Monday
constexpr double kDay = 86400.0;

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
bool chance(std::mt19937_64& rng, double p) { return uniform(rng, 0.0, 1.0) < p; }
int pick(std::mt19937_64& rng, int lo, int hi) {  // [lo, hi]
  return std::uniform_int_distribution<int>(lo, hi)(rng);
}
double cents(double x) { return std::round(x * 100.0) / 100.0; }

core::RuleConfig rule(const char* name, bool enabled, double weight, double threshold,
                      std::map<std::string, double> params) {
  core::RuleConfig c;
  c.rule = name;
  c.enabled = enabled;
  c.weight = weight;
  c.threshold = threshold;
  c.params = std::move(params);
  return c;
}

// A customer living in Berlin who buys mostly at lunch and in the evening (local time, UTC+1),
// by credit card or PayPal, now and then from Hamburg or without a location.
class CustomerGen {
 public:
  explicit CustomerGen(std::uint64_t seed) : rng_(seed) {}
  // The same customer at the same point in time, with other random choices from here on.
  void reseed(std::uint64_t seed) { rng_.seed(seed); }

  core::TransactionInput next() {
    core::TransactionInput tx = base();
    if (chance(rng_, 0.15) && t_ > kStart) {
      t_ += uniform(rng_, 180.0, 2400.0);  // another purchase in the same session
    } else {
      t_ += -std::log(1.0 - uniform(rng_, 0.0, 0.999)) * 1.5 * kDay;  // exponential, mean 1.5 d
      static const int kLocalHours[] = {8, 12, 13, 13, 18, 19, 20, 20, 21, 21, 22, 23};
      const int hour = chance(rng_, 0.92) ? kLocalHours[pick(rng_, 0, 11)] : pick(rng_, 0, 23);
      double day = std::floor(t_ / kDay);
      double at = day * kDay + (hour - 1) * 3600.0 + uniform(rng_, 0.0, 3599.0);
      if (at <= last_) at += kDay;
      t_ = at;
    }
    last_ = t_;
    tx.time = t_;
    tx.account_age_days = (t_ - registered_) / kDay;
    return tx;
  }

  // An unusual next transaction (kind 0..4), after the ordinary ones so far.
  core::TransactionInput unusual(int kind) {
    const double prev = last_;  // the latest transaction folded so far
    core::TransactionInput tx = next();
    switch (kind) {
      case 0:  // a large amount, far above the customer's usual
        tx.unit_price = cents(tx.unit_price * uniform(rng_, 15.0, 40.0));
        tx.list_price = tx.unit_price;
        tx.amount = tx.unit_price;
        break;
      case 1:  // Sao Paulo, 20 minutes after a purchase in Berlin
        tx.time = prev + 1200.0;
        std::memcpy(tx.country, "BR", 3);
        tx.has_location = true;
        tx.lat = -23.55;
        tx.lon = -46.63;
        break;
      case 2:  // a payment method never used, a high-risk one every other time
        tx.method = core::payment_method_bit(chance(rng_, 0.5) ? "crypto" : "gift_card");
        break;
      case 3:  // a small amount seconds after the previous one (card testing)
        tx.time = prev + uniform(rng_, 20.0, 90.0);
        tx.unit_price = cents(uniform(rng_, 0.5, 3.0));
        tx.list_price = std::numeric_limits<double>::quiet_NaN();
        tx.amount = tx.unit_price;
        break;
      default:  // 03:00-04:59 local time
        tx.time = std::floor(tx.time / kDay) * kDay + kDay + 2 * 3600.0 + uniform(rng_, 0, 7199);
        break;
    }
    tx.account_age_days = (tx.time - registered_) / kDay;
    return tx;
  }

 private:
  core::TransactionInput base() {
    core::TransactionInput tx;
    const double amount = std::exp(3.8 + 0.8 * std::normal_distribution<double>()(rng_));
    const int qty = chance(rng_, 0.7) ? 1 : pick(rng_, 2, 4);
    tx.unit_price = std::max(0.5, cents(amount / qty));
    tx.amount = tx.unit_price * qty;
    tx.list_price =
        chance(rng_, 0.8) ? tx.unit_price : cents(tx.unit_price * uniform(rng_, 1.1, 1.3));
    tx.category_id =
        1 + std::min(7, static_cast<int>(std::floor(std::pow(uniform(rng_, 0, 1), 1.7) * 8)));
    std::memcpy(tx.country, "DE", 3);
    std::memcpy(tx.home_country, "DE", 3);
    const double where = uniform(rng_, 0.0, 1.0);
    if (where < 0.85) {
      tx.has_location = true;
      tx.lat = 52.52 + uniform(rng_, -0.05, 0.05);
      tx.lon = 13.405 + uniform(rng_, -0.08, 0.08);
    } else if (where < 0.95) {
      tx.has_location = true;
      tx.lat = 53.55;
      tx.lon = 9.99;
    }
    const double m = uniform(rng_, 0.0, 1.0);
    tx.method = core::payment_method_bit(m < 0.65   ? "credit_card"
                                         : m < 0.95 ? "paypal"
                                                    : "debit_card");
    return tx;
  }

  std::mt19937_64 rng_;
  double t_ = kStart;
  double last_ = kStart;
  double registered_ = kStart - 200 * kDay;
};

}  // namespace

std::vector<core::RuleConfig> default_rule_configs() {
  const double w = 30, ps = 5, ml = 1;
  std::vector<core::RuleConfig> c = {
      rule("amount_zscore", true, 1.2, 2.5,
           {{"prior_mean", 4.0}, {"prior_sd", 1.2}, {"prior_weight", 5}}),
      rule("velocity_10m", true, 1.5, 3, {{"window_s", 600}}),
      rule("velocity_1h", true, 0.8, 6, {{"window_s", 3600}}),
      rule("velocity_24h", true, 0.3, 15, {{"window_s", 86400}}),
      rule("spend_24h", true, 0.3, 10, {{"window_s", 86400}}),
      rule("card_testing", true, 2.0, 2, {{"window_s", 600}, {"small_amount", 5}}),
      rule("amount_robust", true, 1.0, 3,
           {{"prior_mean", 4.0}, {"prior_sd", 1.2}, {"prior_weight", 5}, {"min_history", 5}}),
      rule("amount_vs_list", true, 2.0, 0.4, {}),
      rule("foreign_country", true, 1.5, 0.5, {}),
      rule("impossible_travel", true, 3.0, 1,
           {{"max_kmh", 900}, {"min_km", 100}, {"min_elapsed_s", 60}, {"cap", 10}}),
      rule("high_risk_country", true, 4.0, 0.5, {}),
      rule("rare_hour_customer", true, 1.5, 1.4,
           {{"smoothing", 4}, {"min_history", 5}, {"spread", 0.5}}),
      rule("rare_hour_shop", true, 0.5, 1.4, {}),
      rule("young_account", true, 1.0, 1, {{"young_days", 30}, {"large_amount", 500}, {"cap", 20}}),
      rule("new_payment_method", true, 2.0, 0.5, {{"min_history", 3}}),
      rule("high_risk_method", true, 2.0, 0.5, {}),
  };
  for (const char* kind : {"customer", "product", "device", "ip", "ip24", "payment", "country"}) {
    c.push_back(rule(("entity_" + std::string(kind)).c_str(), false, 0.3, 0,
                     {{"window_days", w}, {"prior_strength", ps}, {"min_labelled", ml}}));
  }
  return c;
}

std::unique_ptr<Engine> default_engine() {
  auto e = std::unique_ptr<Engine>(
      new Engine{core::Scorer(core::RuleRegistry::builtin().build(default_rule_configs()),
                              std::make_unique<core::EvidenceCombiner>(-4.0)),
                 core::ScoringEnv{}, core::StateParams{}, 1.0});
  e->env.has_population = true;
  e->env.population = core::Prior{3.95, 1.15, 1.0};
  e->env.population_n = 200000;
  for (int c = 1; c <= 8; ++c) {
    e->env.categories[c] = {core::Prior{3.2 + 0.2 * c, 0.8 + 0.05 * c, 1.0}, 30000 / c};
  }
  e->env.has_shop_hours = true;
  double sum = 0;
  for (int h = 0; h < 24; ++h) {
    const double evening = std::exp(-(h - 19) * (h - 19) / 18.0);
    const double lunch = 0.6 * std::exp(-(h - 12) * (h - 12) / 8.0);
    e->env.shop_hours[h] = 0.05 + evening + lunch;
    sum += e->env.shop_hours[h];
  }
  for (double& s : e->env.shop_hours) s /= sum;
  e->env.high_risk_methods = 1u << core::payment_method_bit("crypto");
  return e;
}

core::FoldInput fold_input(const core::TransactionInput& tx, double score) {
  return core::FoldInput{tx.amount, tx.time, tx.country, tx.has_location,
                         tx.lat,    tx.lon,  tx.method,  score};
}

Customer make_customer(const Engine& engine, int history, int candidates, std::uint64_t seed) {
  Customer c;
  c.history = history;
  CustomerGen gen(seed);
  for (int i = 0; i < history; ++i) {
    const core::TransactionInput tx = gen.next();
    const core::ScoreResult r =
        engine.scorer.score({tx, c.state, &engine.env}, engine.min_contribution);
    core::fold(c.state, fold_input(tx, std::round(r.score * 100.0) / 100.0), engine.params);
  }
  // every candidate continues the same history: a copy of the generator per candidate
  for (int i = 0; i < candidates; ++i) {
    CustomerGen g = gen;
    g.reseed(seed ^ (0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(i + 1)));
    if (i % 6 == 5) {
      c.candidates.push_back(g.unusual((i / 6) % 5));
    } else {
      for (int skip = 0; skip < i % 4; ++skip) (void)g.next();  // not all at the same time
      c.candidates.push_back(g.next());
    }
  }
  return c;
}

std::vector<double> amounts(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> z;
  std::vector<double> v(n);
  for (double& x : v) x = cents(std::exp(3.8 + 0.9 * z(rng)));
  return v;
}

std::vector<std::string> online_retail_csv(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  static const char* const kWords[] = {
      "WHITE", "RED",      "HANGING", "HEART",   "T-LIGHT", "HOLDER",  "METAL",     "LANTERN",
      "CREAM", "CUPID",    "HEARTS",  "COAT",    "HANGER",  "KNITTED", "UNION",     "FLAG",
      "HOT",   "WATER",    "BOTTLE",  "SET",     "OF",      "3",       "BABUSHKA",  "NESTING",
      "BOXES", "GLASS",    "STAR",    "FROSTED", "VINTAGE", "JUMBO",   "BAG",       "RETROSPOT",
      "PINK",  "POLKADOT", "CAKE",    "CASES",   "LUNCH",   "BOX",     "CHRISTMAS", "WOODEN",
      "PAPER", "CHAIN",    "KIT",     "REGENCY", "TEACUP",  "AND",     "SAUCER",    "ALARM",
      "CLOCK", "BAKELIKE", "GREEN",   "BLUE",    "DOORMAT", "HOME",    "SWEET",     "NOTEBOOK"};
  constexpr int kWordCount = static_cast<int>(sizeof kWords / sizeof kWords[0]);
  static const char* const kOther[] = {"Germany",     "France",      "EIRE",    "Spain",
                                       "Netherlands", "Switzerland", "Belgium", "Portugal",
                                       "Australia",   "Norway"};
  struct Product {
    std::string code, descr;
    double price;
  };
  std::vector<Product> products(3000);
  for (std::size_t i = 0; i < products.size(); ++i) {
    Product& p = products[i];
    p.code = std::to_string(20000 + pick(rng, 0, 69999));
    if (chance(rng, 0.2)) p.code += static_cast<char>('A' + pick(rng, 0, 7));
    const int words = pick(rng, 2, 6);
    for (int w = 0; w < words; ++w) {
      if (w > 0) p.descr += ' ';
      p.descr += kWords[pick(rng, 0, kWordCount - 1)];
    }
    if (i % 97 == 0) {
      p.descr = "\"" + p.descr + ", \"\"UNION JACK\"\"\"";  // a comma and quotes inside quotes
    } else if (i % 41 == 0) {
      p.descr = "\"" + p.descr + ", ASSORTED\"";
    }
    p.price = cents(std::exp(0.9 + 0.8 * std::normal_distribution<double>()(rng)));
  }
  std::vector<std::string> out;
  out.reserve(n);
  long invoice = 536365;
  double minutes = 8 * 60;  // since 2010-12-01 00:00, local time
  char buf[512];
  while (out.size() < n) {
    ++invoice;
    minutes += pick(rng, 1, 20);
    if (std::fmod(minutes, 1440.0) > 18 * 60)
      minutes = std::floor(minutes / 1440.0 + 1) * 1440 + 8 * 60;
    const int day = static_cast<int>(minutes / 1440);  // 2010-12-01 + day, in 28-day months
    const int month = 12 + day / 28, year = 2010 + (month - 1) / 12;
    const int mm = (month - 1) % 12 + 1, dd = day % 28 + 1;
    const int hh = static_cast<int>(std::fmod(minutes, 1440.0)) / 60;
    const int mi = static_cast<int>(std::fmod(minutes, 60.0));
    char date[64];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d %02d:%02d:00", year, mm, dd, hh, mi);
    const bool cancel = chance(rng, 0.02);
    const bool guest = chance(rng, 0.33);
    char cust[32] = "";
    if (!guest) std::snprintf(cust, sizeof cust, "%d.0", 12346 + pick(rng, 0, 5000));
    const char* country = chance(rng, 0.9) ? "United Kingdom" : kOther[pick(rng, 0, 9)];
    const int lines = pick(rng, 1, 30);
    for (int l = 0; l < lines && out.size() < n; ++l) {
      const Product& p = products[static_cast<std::size_t>(pick(rng, 0, 2999))];
      int qty = chance(rng, 0.8) ? pick(rng, 1, 12) : 12 * pick(rng, 2, 8);
      if (cancel) qty = -qty;
      std::snprintf(buf, sizeof buf, "%s%ld,%s,%s,%d,%s,%.2f,%s,%s", cancel ? "C" : "", invoice,
                    p.code.c_str(), p.descr.c_str(), qty, date, p.price, cust, country);
      out.emplace_back(buf);
    }
    if (!cancel && chance(rng, 0.06)) {  // postage, a manual line, DOTCOM postage
      const double r = uniform(rng, 0.0, 1.0);
      const char* code = r < 0.8 ? "POST" : r < 0.9 ? "M" : "DOT";
      const char* descr = r < 0.8 ? "POSTAGE" : r < 0.9 ? "Manual" : "DOTCOM POSTAGE";
      std::snprintf(buf, sizeof buf, "%ld,%s,%s,%d,%s,%.2f,%s,%s", invoice, code, descr,
                    pick(rng, 1, 3), date, r < 0.8 ? 18.0 : uniform(rng, 0.5, 40.0), cust, country);
      if (out.size() < n) out.emplace_back(buf);
    }
  }
  return out;
}

std::vector<std::array<std::string, core::online_retail::kFields>> split_csv(
    const std::vector<std::string>& lines) {
  std::vector<std::array<std::string, core::online_retail::kFields>> out(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& s = lines[i];
    std::size_t p = 0;
    for (int f = 0; f < core::online_retail::kFields; ++f) {
      std::string& field = out[i][static_cast<std::size_t>(f)];
      if (p < s.size() && s[p] == '"') {
        for (++p; p < s.size(); ++p) {
          if (s[p] == '"' && p + 1 < s.size() && s[p + 1] == '"') {
            field += '"';
            ++p;
          } else if (s[p] == '"') {
            ++p;
            break;
          } else {
            field += s[p];
          }
        }
      } else {
        const std::size_t end = std::min(s.find(',', p), s.size());
        field.assign(s, p, end - p);
        p = end;
      }
      ++p;  // the comma
    }
  }
  return out;
}

core::online_retail::Rules online_retail_rules() {
  core::online_retail::Rules r;
  // import.country (migrations/deploy/import_online_retail.sql)
  r.countries = {{"United Kingdom", "GB"},
                 {"France", "FR"},
                 {"Australia", "AU"},
                 {"Netherlands", "NL"},
                 {"Germany", "DE"},
                 {"Norway", "NO"},
                 {"EIRE", "IE"},
                 {"Ireland", "IE"},
                 {"Switzerland", "CH"},
                 {"Spain", "ES"},
                 {"Poland", "PL"},
                 {"Portugal", "PT"},
                 {"Italy", "IT"},
                 {"Belgium", "BE"},
                 {"Lithuania", "LT"},
                 {"Japan", "JP"},
                 {"Iceland", "IS"},
                 {"Channel Islands", "XC"},
                 {"Jersey", "JE"},
                 {"Guernsey", "GG"},
                 {"Denmark", "DK"},
                 {"Cyprus", "CY"},
                 {"Sweden", "SE"},
                 {"Austria", "AT"},
                 {"Israel", "IL"},
                 {"Finland", "FI"},
                 {"Bahrain", "BH"},
                 {"Greece", "GR"},
                 {"Hong Kong", "HK"},
                 {"Singapore", "SG"},
                 {"Lebanon", "LB"},
                 {"United Arab Emirates", "AE"},
                 {"Saudi Arabia", "SA"},
                 {"Czech Republic", "CZ"},
                 {"Czechia", "CZ"},
                 {"Canada", "CA"},
                 {"Brazil", "BR"},
                 {"Malta", "MT"},
                 {"USA", "US"},
                 {"United States", "US"},
                 {"RSA", "ZA"},
                 {"South Africa", "ZA"},
                 {"European Community", "EU"},
                 {"Unspecified", "ZZ"}};
  // import.special_code, the longest pattern first (as import.online_retail() passes them)
  r.specials = {{"BANK CHARGES", "bank_charges"},
                {"AMAZONFEE", "amazon_fee"},
                {"GIFT\\_%", "gift_voucher"},
                {"CRUK", "commission"},
                {"PADS", "pads"},
                {"POST", "postage"},
                {"DOT", "postage"},
                {"C2", "carriage"},
                {"B", "bad_debt"},
                {"D", "discount"},
                {"M", "manual"},
                {"S", "samples"}};
  return r;
}

core::online_retail::Hooks online_retail_hooks() {
  core::online_retail::Hooks h;
  // UTC as UK time (the database's hook converts Europe/London; its cost is not the core's)
  h.uk_time = [](const core::online_retail::LocalTime& t) -> std::int64_t {
    int y = t.year;
    const int m = t.month;
    y -= m <= 2;
    const int era = (y >= 0 ? y : y - 399) / 400;
    const int yoe = y - era * 400;
    const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + t.day - 1;
    const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + yoe * 365 + yoe / 4 -
                              yoe / 100 + doy - 730425 + 59;  // days since 2000-01-01
    return ((days * 24 + t.hour) * 60 + t.minute) * 60000000LL + t.second * 1000000LL;
  };
  h.upper = [](std::string_view s) {
    std::string u(s);
    for (char& c : u) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return u;
  };
  return h;
}

}  // namespace techmart::bench
