#include "generator.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tables.hpp"

namespace techmart::gen {

namespace {

// Stream tags: every entity and every day draws from its own stream, so one table never
// depends on how many values another one consumed.
enum Tag : uint64_t {
  kTagSupplier = 1,
  kTagSupplierName,
  kTagSupplierMix,
  kTagProduct,
  kTagCategoryMix,
  kTagCustomer,
  kTagCustomerMix,
  kTagPlan,
  kTagDay,
  kTagDevice,
  kTagIp,
  kTagFp,
  kTagFp2,
  kTagFreshDevice,
  kTagFreshFp,
  kTagFreshFp2,
  kTagDayNoise,
  kTagCompromisedPlan,  // --compromised-devices (appended: earlier tags keep their streams)
  kTagCompromised,
  kTagCompromisedIp,
  kTagVerdict,
};

enum Status : uint8_t { kPending, kCompleted, kFailed, kRefunded };
const char* const kStatus[] = {"pending", "completed", "failed", "refunded"};

enum Method : uint8_t {
  kCreditCard,
  kDebitCard,
  kPaypal,
  kBankTransfer,
  kApplePay,
  kGooglePay,
  kGiftCard,
  kCrypto,
  kCashOnDelivery,
  kMethodCount
};
const char* const kMethods[] = {"credit_card",   "debit_card", "paypal",
                                "bank_transfer", "apple_pay",  "google_pay",
                                "gift_card",     "crypto",     "cash_on_delivery"};
const double kMethodWeights[] = {35, 22, 18, 4, 8, 7, 2, 0.5, 3.5};

enum Platform : uint8_t { kWeb, kMobileApp, kIosApp, kAndroidApp, kAmazon, kEbay };
const char* const kPlatforms[] = {"web",         "mobile_app",         "ios_app",
                                  "android_app", "amazon_marketplace", "ebay_marketplace"};
const double kPlatformWeights[] = {40, 12, 17, 17, 10, 4};

// Local hour-of-day profiles: most customers never buy between 01:00 and 06:00 local time.
const double kHourProfile[2][24] = {{1.4, 0,   0,   0,   0,   0,   0.6, 1.5, 2.6, 3.4, 4.0, 4.6,
                                     5.8, 6.1, 5.2, 4.4, 4.5, 4.9, 5.6, 6.6, 7.0, 6.2, 4.3, 2.6},
                                    {3.5, 3.0, 2.5, 2.0, 1.5, 1.0, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5,
                                     4.5, 4.5, 4.0, 4.0, 4.0, 4.5, 5.0, 6.0, 6.5, 6.5, 6.0, 5.0}};
// Monday .. Sunday
const double kWeekday[7] = {0.94, 0.92, 0.95, 0.98, 1.05, 1.20, 1.16};

constexpr int kTzMin = -12, kTzMax = 14;

const char* const kBookWords1[] = {"Silent", "Hidden", "Last", "Northern", "Golden", "Broken",
                                   "Winter", "Secret", "Lost", "Distant",  "Quiet",  "Burning"};
const char* const kBookWords2[] = {"River",      "Garden",  "City",    "Island",
                                   "Kingdom",    "Letters", "Summer",  "Harbour",
                                   "Lighthouse", "Empire",  "Station", "Orchard"};
const char* const kModelLetters[] = {"X", "S", "Z", "A", "G", "R", "V"};

std::string lower_ascii_slug(std::string_view s) {
  // lower-case ASCII letters only; common Latin letters with diacritics are transliterated
  static const struct {
    const char* utf8;
    const char* ascii;
  } kMap[] = {{"á", "a"}, {"à", "a"}, {"â", "a"},  {"ä", "a"},  {"ã", "a"}, {"å", "a"}, {"ą", "a"},
              {"é", "e"}, {"è", "e"}, {"ê", "e"},  {"ë", "e"},  {"ę", "e"}, {"í", "i"}, {"ì", "i"},
              {"î", "i"}, {"ï", "i"}, {"ó", "o"},  {"ò", "o"},  {"ô", "o"}, {"ö", "o"}, {"õ", "o"},
              {"ø", "o"}, {"ú", "u"}, {"ù", "u"},  {"û", "u"},  {"ü", "u"}, {"ñ", "n"}, {"ń", "n"},
              {"ç", "c"}, {"ć", "c"}, {"ß", "ss"}, {"æ", "ae"}, {"ł", "l"}, {"ś", "s"}, {"ź", "z"},
              {"ż", "z"}, {"Ł", "l"}, {"Ś", "s"},  {"Ż", "z"},  {"É", "e"}};
  std::string out;
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c >= 'A' && c <= 'Z') out.push_back(static_cast<char>(c - 'A' + 'a'));
      if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    bool mapped = false;
    for (const auto& m : kMap) {
      const size_t n = std::strlen(m.utf8);
      if (s.substr(i, n) == m.utf8) {
        out += m.ascii;
        i += n;
        mapped = true;
        break;
      }
    }
    if (!mapped) ++i;
  }
  return out;
}

int64_t round_cents_milli(double v) {  // to a whole cent, in milli-units
  return static_cast<int64_t>(std::floor(v * 100.0 + 0.5)) * 10;
}

int64_t price_point_milli(double p) {
  if (p < 20.0) {
    const double base = std::floor(p);
    return static_cast<int64_t>(base) * 1000 + (p - base < 0.5 ? 490 : 990);
  }
  if (p < 200.0) return static_cast<int64_t>(std::floor(p + 0.5)) * 1000 - 10;
  return static_cast<int64_t>(std::floor(p / 10.0 + 0.5)) * 10000 - 10;
}

void civil_from_days(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t yy = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = yy + (*m <= 2);
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

const char* pattern_name(int p) {
  static const char* const kNames[] = {
      "", "velocity_burst", "amount_spike", "impossible_travel", "odd_hours", "card_testing"};
  if (p == kCompromisedDevice) return "compromised_device";
  return (p >= 0 && p < kPatternCount) ? kNames[p] : "";
}

const char* const kTables[5] = {"categories", "suppliers", "products", "customers", "transactions"};

// ------------------------------------------------------------------------------------ time

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool parse_utc(std::string_view s, int64_t* out) {
  auto num = [&](size_t pos, size_t len, int* v) {
    if (pos + len > s.size()) return false;
    int r = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      r = r * 10 + (s[i] - '0');
    }
    *v = r;
    return true;
  };
  int y, mo, d, h = 0, mi = 0, se = 0;
  if (!num(0, 4, &y) || s.size() < 10 || s[4] != '-' || !num(5, 2, &mo) || s[7] != '-' ||
      !num(8, 2, &d))
    return false;
  size_t pos = 10;
  if (s.size() > 10) {
    if (s[10] != 'T' && s[10] != ' ') return false;
    if (!num(11, 2, &h) || s.size() < 19 || s[13] != ':' || !num(14, 2, &mi) || s[16] != ':' ||
        !num(17, 2, &se))
      return false;
    pos = 19;
    if (pos < s.size() && s[pos] == 'Z') ++pos;
  }
  if (pos != s.size()) return false;
  static const int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kMonthDays[mo - 1] || h > 23 || mi > 59 || se > 59)
    return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return false;
  *out = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + se;
  return true;
}

std::string format_utc(int64_t t) {
  const int64_t days = floor_div(t, 86400);
  const int64_t sec = t - days * 86400;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(y), m,
                d, static_cast<int>(sec / 3600), static_cast<int>(sec / 60 % 60),
                static_cast<int>(sec % 60));
  return buf;
}

// ------------------------------------------------------------------------------------- Out

void Out::text(std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    raw(v);
    return;
  }
  buf_.push_back('"');
  for (char c : v) {
    if (c == '"') buf_.push_back('"');
    buf_.push_back(c);
  }
  buf_.push_back('"');
}

void Out::u64(uint64_t v) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) buf_.push_back(tmp[--n]);
}

void Out::i64(int64_t v) {
  if (v < 0) {
    buf_.push_back('-');
    u64(static_cast<uint64_t>(-(v + 1)) + 1);
  } else {
    u64(static_cast<uint64_t>(v));
  }
}

void Out::fixed(int64_t v, int decimals, bool trim_zero) {
  uint64_t scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  if (v < 0) buf_.push_back('-');
  const uint64_t a = v < 0 ? static_cast<uint64_t>(-(v + 1)) + 1 : static_cast<uint64_t>(v);
  u64(a / scale);
  uint64_t frac = a % scale;
  if (trim_zero && decimals > 0 && frac % 10 == 0) {
    frac /= 10;
    scale /= 10;
    --decimals;
  }
  if (decimals == 0) return;
  buf_.push_back('.');
  for (uint64_t s = scale / 10; s > 0; s /= 10)
    buf_.push_back(static_cast<char>('0' + frac / s % 10));
}

void Out::hex(uint64_t v, int digits) {
  static const char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) buf_.push_back(kHex[(v >> (4 * i)) & 15]);
}

bool Out::flush() {
  if (buf_.empty()) return ok_;
  if (str_) {
    str_->append(buf_);
  } else if (file_) {
    if (std::fwrite(buf_.data(), 1, buf_.size(), file_) != buf_.size()) ok_ = false;
  }
  buf_.clear();
  return ok_;
}

// ----------------------------------------------------------------------------------- Model

Model::Model(const Config& cfg) : cfg_(cfg) {
  const auto& cats = categories();
  for (uint32_t i = 0; i < cfg_.categories && i < cats.size(); ++i) cat_ids_.push_back(i);
  std::vector<double> w;
  for (uint32_t c : cat_ids_) w.push_back(cats[c].weight);
  category_mix_ = AliasTable(w);

  const auto& cs = countries();
  const auto& ci = cities();
  cities_of_country_.resize(cs.size());
  for (size_t i = 0; i < ci.size(); ++i) {
    cities_of_country_[static_cast<size_t>(country_index(ci[i].country))].push_back(
        static_cast<uint16_t>(i));
  }
  for (size_t i = 0; i < cs.size(); ++i) {
    if (cs[i].customer_weight > 0) home_countries_.push_back(static_cast<uint16_t>(i));
  }
  build_suppliers();
  build_products();
  build_customers();
}

void Model::build_suppliers() {
  const auto& a = company_words_a();
  const auto& b = company_words_b();
  const auto& cs = countries();
  const uint64_t combos = a.size() * b.size();
  const uint64_t offset = hash_of(cfg_.seed, kTagSupplierName) % combos;
  std::vector<double> cw;
  for (const auto& c : cs) cw.push_back(c.supplier_weight);
  static const char* const kContacts[] = {"sales", "orders", "info", "partners", "supply"};
  for (uint64_t i = 0; i < cfg_.suppliers; ++i) {
    Rng r(hash_of(cfg_.seed, kTagSupplier, i));
    const uint64_t k = (i * 7919 + offset) % combos;  // 7919 is prime, coprime with combos
    const std::string_view wa = a[k % a.size()], wb = b[k / a.size()];
    Supplier s;
    s.country = static_cast<uint16_t>(r.pick(cw));
    s.name = std::string(wa) + " " + std::string(wb);
    std::string slug = lower_ascii_slug(wa) + "-" + lower_ascii_slug(wb);
    if (i >= combos) {
      s.name += " " + std::to_string(i / combos + 1);
      slug += std::to_string(i / combos + 1);
    }
    s.name += std::string(" ") + cs[s.country].company_suffix;
    s.email = std::string(kContacts[r.below(5)]) + "@" + slug + ".example.com";
    const double u = r.uniform();
    const double rel = r.chance(0.12) ? 0.35 + 0.4 * u : 1.0 - 0.3 * u * u;
    s.reliability_milli = static_cast<int>(std::floor(rel * 1000.0 + 0.5));
    suppliers_.push_back(std::move(s));
  }
}

void Model::build_products() {
  const auto& cats = categories();
  const auto& adjs = adjectives();
  std::vector<double> supplier_w;
  for (uint64_t s = 0; s < cfg_.suppliers; ++s) {
    Rng r(hash_of(cfg_.seed, kTagSupplierMix, s));
    supplier_w.push_back(std::min(30.0, r.pareto(1.0, 1.2)));
  }
  AliasTable supplier_mix(supplier_w);
  by_category_.assign(cat_ids_.size(), {});
  cat_accessories_.assign(cat_ids_.size(), {});
  std::vector<std::vector<double>> popularity(cat_ids_.size());
  static const int kThresholds[] = {5, 10, 10, 10, 15, 20, 25};

  for (uint64_t i = 0; i < cfg_.products; ++i) {
    Rng r(hash_of(cfg_.seed, kTagProduct, i));
    Product p;
    p.category = i < cat_ids_.size() ? static_cast<uint32_t>(i)
                                     : static_cast<uint32_t>(category_mix_.sample(r));
    const CategoryInfo& ci = cats[cat_ids_[p.category]];
    p.supplier = static_cast<uint32_t>(supplier_mix.sample(r));
    p.accessory = r.chance(0.12) && !ci.accessories.empty();
    const std::string_view brand = ci.brands[r.below(ci.brands.size())];
    std::string noun;
    double price;
    if (p.accessory) {
      noun = std::string(ci.accessories[r.below(ci.accessories.size())]);
      p.name = std::string(brand) + " " + noun;
      static const int kCheap[] = {1490, 1990, 2490, 2990, 3490, 3990, 4490, 4990};
      p.price_milli = kCheap[r.below(8)];
      price = static_cast<double>(p.price_milli) / 1000.0;
    } else {
      noun = std::string(ci.nouns[r.below(ci.nouns.size())]);
      const Adjective& adj = adjs[r.below(adjs.size())];
      if (std::strcmp(ci.prefix, "BOO") == 0) {
        // (one draw per statement: the evaluation order of operands is unspecified)
        const char* w1 = kBookWords1[r.below(12)];
        const char* w2 = kBookWords2[r.below(12)];
        p.name = std::string("The ") + w1 + " " + w2 + " (" + noun + ")";
      } else {
        p.name = std::string(brand) + " " + (adj.word[0] ? std::string(adj.word) + " " : "") + noun;
        if (ci.model_numbers && r.chance(0.7)) {
          const char* letter = kModelLetters[r.below(7)];
          p.name += std::string(" ") + letter + std::to_string(r.range(1, 9));
        }
      }
      price = std::min(6000.0,
                       std::max(5.0, r.lognormal(ci.median_price * adj.price_factor, ci.sigma)));
      p.price_milli = price_point_milli(price);
      if (r.chance(0.06)) {  // an odd unit price with three decimals
        p.price_milli = static_cast<int64_t>(std::floor(price * 1000.0 + 0.5));
        if (p.price_milli % 10 == 0) p.price_milli += 5;
      }
    }
    p.log_price = det_log(static_cast<double>(p.price_milli) / 1000.0);
    const std::string_view b1 = ci.blurbs[r.below(ci.blurbs.size())];
    const std::string_view b2 = ci.blurbs[r.below(ci.blurbs.size())];
    std::string s1(b1), s2(b2);
    if (s1[0] >= 'a' && s1[0] <= 'z') s1[0] = static_cast<char>(s1[0] - 'a' + 'A');
    if (s2.size() > 1 && s2[0] >= 'A' && s2[0] <= 'Z' && s2[1] >= 'a' && s2[1] <= 'z')
      s2[0] = static_cast<char>(s2[0] - 'A' + 'a');  // not for acronyms ("BPA free")
    p.description = noun + " by " + std::string(brand) + ". " + s1;
    if (b2 != b1) p.description += ", " + s2;
    p.description += ".";
    p.threshold = kThresholds[r.below(7)];
    const double u = r.uniform();
    if (u < 0.04) {
      p.stock = 0;
    } else if (u < 0.11) {
      p.stock = static_cast<int>(r.range(1, p.threshold));
    } else {
      p.stock = static_cast<int>(
          std::min(5000.0, std::max<double>(p.threshold + 1, r.lognormal(120, 0.8))));
    }
    popularity[p.category].push_back(std::min(60.0, r.pareto(1.0, 1.3)));
    by_category_[p.category].push_back(static_cast<uint32_t>(i));
    if (p.accessory) cat_accessories_[p.category].push_back(static_cast<uint32_t>(i));
    if (p.price_milli < 5000) cheap_.push_back(static_cast<uint32_t>(i));
    expensive_.push_back(static_cast<uint32_t>(i));
    products_.push_back(std::move(p));
  }
  for (auto& pw : popularity) cat_popularity_.emplace_back(pw);
  std::stable_sort(expensive_.begin(), expensive_.end(), [&](uint32_t x, uint32_t y) {
    return products_[x].price_milli > products_[y].price_milli;
  });
  // the category mix used for shopping only covers categories that have products
  std::vector<double> w;
  for (size_t c = 0; c < cat_ids_.size(); ++c) {
    w.push_back(by_category_[c].empty() ? 0.0 : categories()[cat_ids_[c]].weight);
  }
  category_mix_ = AliasTable(w);
}

void Model::build_customers() {
  const auto& cs = countries();
  const auto& ci = cities();
  const auto& groups = name_groups();
  std::vector<double> cw;
  for (uint16_t c : home_countries_) cw.push_back(cs[c].customer_weight);
  AliasTable country_mix(cw);
  const int64_t start = this->start();
  std::vector<double> activity;
  static const double kDevices[] = {0.45, 0.35, 0.15, 0.05};
  static const double kInstruments[] = {0.55, 0.33, 0.12};
  for (uint64_t i = 0; i < cfg_.customers; ++i) {
    Rng r(hash_of(cfg_.seed, kTagCustomer, i));
    Customer c{};
    c.country = home_countries_[country_mix.sample(r)];
    const auto& list = cities_of_country_[c.country];
    std::vector<double> city_w;
    for (size_t k = 0; k < list.size(); ++k) city_w.push_back(1.0 / (1.0 + 0.6 * k));
    c.city = list[r.pick(city_w)];
    c.lat = ci[c.city].lat + 0.04 * r.normal();
    c.lon = ci[c.city].lon + 0.06 * r.normal();
    c.tz = static_cast<int8_t>(ci[c.city].utc_offset);
    if (i == 0 || r.chance(0.85)) {
      c.registered = start - r.range(86400, 3 * 365 * 86400);
    } else {
      c.registered = start + r.range(0, std::max<int64_t>(0, cfg_.end - start - 3600));
    }
    c.rate = std::min(30.0, r.pareto(1.0, 1.5));
    c.basket = std::min(1500.0, std::max(4.0, r.lognormal(40, 0.75)));
    c.night_owl = r.chance(0.07);
    c.devices = static_cast<uint8_t>(1 + r.pick(kDevices));
    for (int d = 0; d < 4; ++d) c.platform[d] = static_cast<uint8_t>(r.pick(kPlatformWeights));
    c.instruments = static_cast<uint8_t>(1 + r.pick(kInstruments));
    for (int k = 0; k < 3; ++k) c.method[k] = static_cast<uint8_t>(r.pick(kMethodWeights));
    for (int k = 0; k < 3; ++k) c.cat[k] = static_cast<uint8_t>(category_mix_.sample(r));
    c.name_group = static_cast<uint8_t>(cs[c.country].name_group);
    const NameGroup& g = groups[c.name_group];
    c.first = static_cast<uint8_t>(r.below(g.first.size()));
    c.last = static_cast<uint8_t>(r.below(g.last.size()));
    c.email_form = static_cast<uint8_t>(r.below(4));
    c.domain = static_cast<uint8_t>(r.below(3));
    activity.push_back(c.rate);
    customers_.push_back(c);
  }
  customer_activity_ = AliasTable(activity);
}

std::string Model::customer_email(size_t i) const {
  const Customer& c = customers_[i];
  const NameGroup& g = name_groups()[c.name_group];
  const std::string first = lower_ascii_slug(g.first[c.first]);
  const std::string last = lower_ascii_slug(g.last[c.last]);
  static const char* const kDomains[] = {"example.com", "example.org", "example.net"};
  std::string local;
  switch (c.email_form) {
    case 0:
      local = first + "." + last;
      break;
    case 1:
      local = first.substr(0, 1) + last;
      break;
    case 2:
      local = first + "_" + last;
      break;
    default:
      local = last + "." + first;
      break;
  }
  // The id as the trailing digits makes every address unique (no name part ends in a digit).
  return local + std::to_string(i + 1) + "@" + kDomains[c.domain];
}

void Model::write_categories(Out& out) const {
  out.raw("id,name,description\n");
  for (size_t i = 0; i < cat_ids_.size(); ++i) {
    const CategoryInfo& c = categories()[cat_ids_[i]];
    out.u64(i + 1);
    out.sep();
    out.text(c.name);
    out.sep();
    out.text(c.description);
    out.end_row();
  }
}

void Model::write_suppliers(Out& out) const {
  out.raw("id,name,reliability_score,country,contact_email\n");
  for (size_t i = 0; i < suppliers_.size(); ++i) {
    const Supplier& s = suppliers_[i];
    out.u64(i + 1);
    out.sep();
    out.text(s.name);
    out.sep();
    out.fixed(s.reliability_milli, 3);
    out.sep();
    out.raw(countries()[s.country].code);
    out.sep();
    out.text(s.email);
    out.end_row();
  }
}

void Model::write_products(Out& out) const {
  out.raw(
      "id,sku,name,description,category_id,price,stock_quantity,low_stock_threshold,"
      "supplier_id\n");
  for (size_t i = 0; i < products_.size(); ++i) {
    const Product& p = products_[i];
    out.u64(i + 1);
    out.sep();
    out.raw(categories()[cat_ids_[p.category]].prefix);
    out.ch('-');
    std::string id = std::to_string(i + 1);
    if (id.size() < 6) out.raw(std::string(6 - id.size(), '0'));
    out.raw(id);
    out.sep();
    out.text(p.name);
    out.sep();
    out.text(p.description);
    out.sep();
    out.u64(p.category + 1);
    out.sep();
    out.fixed(p.price_milli, 3, true);
    out.sep();
    out.i64(p.stock);
    out.sep();
    out.i64(p.threshold);
    out.sep();
    out.u64(p.supplier + 1);
    out.end_row();
  }
}

void Model::write_customers(Out& out) const {
  out.raw("id,email,name,country,city,home_lat,home_lon,registration_date\n");
  for (size_t i = 0; i < customers_.size(); ++i) {
    const Customer& c = customers_[i];
    const NameGroup& g = name_groups()[c.name_group];
    out.u64(i + 1);
    out.sep();
    out.text(customer_email(i));
    out.sep();
    out.text(std::string(g.first[c.first]) + " " + std::string(g.last[c.last]));
    out.sep();
    out.raw(countries()[c.country].code);
    out.sep();
    out.text(cities()[c.city].name);
    out.sep();
    out.fixed(static_cast<int64_t>(std::floor(c.lat * 1e4 + 0.5)), 4);
    out.sep();
    out.fixed(static_cast<int64_t>(std::floor(c.lon * 1e4 + 0.5)), 4);
    out.sep();
    out.raw(format_utc(c.registered));
    out.end_row();
  }
}

// ---------------------------------------------------------------------------- transactions

struct Row {
  int64_t time;
  uint64_t order;  // order key within the day: tie-break and grouping
  uint32_t line;
  uint32_t customer, product, quantity;
  int64_t unit_price;  // milli
  uint8_t status, method, platform, pattern;
  uint16_t country;
  bool has_fp;
  int32_t lat, lon;  // 1e-4 degrees
  uint64_t device;
  uint32_t ip;
  uint64_t fp_hi, fp_lo;
};

// Where, with what and how an order is placed.
struct Ctx {
  uint16_t country;
  double lat, lon;
  uint64_t device;
  uint8_t platform;
  uint32_t ip;
  uint8_t method;
  bool has_fp;
  uint64_t fp_hi, fp_lo;
  uint8_t status;
};

class TxStream {
 public:
  explicit TxStream(const Model& m) : m_(m), cfg_(m.cfg()) {
    for (int owl = 0; owl < 2; ++owl) {
      for (int tz = kTzMin; tz <= kTzMax; ++tz) {
        double acc = 0;
        for (int h = 0; h < 24; ++h) {
          acc += kHourProfile[owl][((h + tz) % 24 + 24) % 24];
          hour_cdf_[owl][tz - kTzMin][h] = acc;
        }
      }
    }
    hist_.assign(m.customers_.size(), 0);
    hist_sum_.assign(m.customers_.size(), 0.0);
    plan();
  }

  void run(Out& out, Out* verdicts = nullptr);

 private:
  struct Episode {
    uint32_t day;
    uint8_t pattern;
    uint8_t size;
    bool anchor;
    uint32_t idx;
  };

  void plan();
  // --verdicts: 90% of the fraud rows are labelled fraud 2 h .. 4 days later (1 in 12 of them
  // first labelled legitimate and corrected a day later), 15% of the legitimate rows are
  // labelled legitimate 1 .. 7 days later.
  void write_verdicts(Out& v, uint64_t id, const Row& w) const;
  void gen_day(uint32_t d, std::vector<Row>& rows, size_t* next_episode);
  void gen_episode(Rng& r, const Episode& ep, int64_t day_start, std::vector<Row>& rows,
                   uint64_t* order, uint64_t* anchors);

  int64_t sample_time(Rng& r, const Customer& c, int64_t day_start) const {
    const double* cdf = hour_cdf_[c.night_owl ? 1 : 0][c.tz - kTzMin];
    const double u = r.uniform() * cdf[23];
    int h = 0;
    while (h < 23 && u >= cdf[h]) ++h;
    return day_start + h * 3600 + static_cast<int64_t>(r.below(3600));
  }
  uint32_t ip_in(uint16_t country, uint64_t h) const {
    const CountryInfo& c = countries()[country];
    const uint32_t o1 = c.ip_octet[h & 1];
    const uint32_t o2 = static_cast<uint32_t>((h >> 8) & 255);
    const uint32_t o3 = static_cast<uint32_t>((h >> 16) & 255);
    const uint32_t o4 = 1 + static_cast<uint32_t>((h >> 24) % 254);
    return (o1 << 24) | (o2 << 16) | (o3 << 8) | o4;
  }
  void place_in_city(Rng& r, Ctx& x, uint16_t city, double spread) const {
    const CityInfo& ci = cities()[city];
    x.country = static_cast<uint16_t>(country_index(ci.country));
    x.lat = ci.lat + spread * r.normal();
    x.lon = ci.lon + spread * r.normal();
  }
  uint16_t random_city(Rng& r, uint16_t country) const {
    const auto& list = m_.cities_of_country_[country];
    return list[r.below(list.size())];
  }
  Ctx usual_ctx(Rng& r, uint32_t cid, bool allow_travel) const;
  void fresh_device(Rng& r, Ctx& x, uint32_t ep, uint64_t k) const {
    static const double kFraudPlatforms[] = {60, 15, 5, 15, 3, 2};
    x.device = hash_of(cfg_.seed, kTagFreshDevice, ep, k);
    x.platform = static_cast<uint8_t>(r.pick(kFraudPlatforms));
  }
  void fresh_instrument(Rng& r, Ctx& x, const Customer& c, uint32_t ep, uint64_t k,
                        bool new_method) const {
    double w[kMethodCount];
    for (int i = 0; i < kMethodCount; ++i) w[i] = kMethodWeights[i];
    w[kCashOnDelivery] = 0;
    if (new_method) {
      for (int i = 0; i < c.instruments; ++i) w[c.method[i]] = 0;
      w[kCrypto] = 4;
      w[kGiftCard] = 6;
    }
    x.method = static_cast<uint8_t>(r.pick(w));
    x.has_fp = true;
    x.fp_hi = hash_of(cfg_.seed, kTagFreshFp, ep, k);
    x.fp_lo = hash_of(cfg_.seed, kTagFreshFp2, ep, k);
  }
  uint32_t choose_product(Rng& r, const Customer& c, double basket_factor, int addon_cat) const;
  uint32_t quantity(Rng& r, uint32_t product) const {
    static const double kCheapQty[] = {0.5, 0.25, 0.12, 0.08, 0.05};
    static const double kQty[] = {0.8, 0.14, 0.045, 0.01, 0.005};
    return 1 + static_cast<uint32_t>(
                   r.pick(m_.products_[product].price_milli < 10000 ? kCheapQty : kQty));
  }
  int64_t unit_price(Rng& r, uint32_t product) const {
    const int64_t p = m_.products_[product].price_milli;
    if (!r.chance(0.07)) return p;
    return round_cents_milli(static_cast<double>(p) / 1000.0 * r.uniform(0.70, 0.95));
  }
  void emit(std::vector<Row>& rows, const Ctx& x, uint32_t cid, int64_t t, uint64_t order,
            uint32_t line, uint32_t product, uint32_t qty, int64_t price, uint8_t pattern) const {
    Row w;
    w.time = t;
    w.order = order;
    w.line = line;
    w.customer = cid;
    w.product = product;
    w.quantity = qty;
    w.unit_price = price;
    w.status = x.status;
    w.method = x.method;
    w.platform = x.platform;
    w.pattern = pattern;
    w.country = x.country;
    w.lat = static_cast<int32_t>(std::floor(std::min(89.9, std::max(-89.9, x.lat)) * 1e4 + 0.5));
    w.lon = static_cast<int32_t>(std::floor(std::min(179.9, std::max(-179.9, x.lon)) * 1e4 + 0.5));
    w.device = x.device;
    w.ip = x.ip;
    w.has_fp = x.has_fp;
    w.fp_hi = x.fp_hi;
    w.fp_lo = x.fp_lo;
    rows.push_back(w);
  }
  uint32_t pick_victim(Rng& r, int64_t day_start, uint32_t min_hist, bool day_person) const;
  uint8_t status_of(Rng& r, double completed, double pending, double failed,
                    double refunded) const {
    const double w[] = {pending, completed, failed, refunded};
    return static_cast<uint8_t>(r.pick(w));
  }

  const Model& m_;
  const Config& cfg_;
  double hour_cdf_[2][kTzMax - kTzMin + 1][24];
  std::vector<double> day_weight_;
  std::vector<uint64_t> legit_per_day_;
  std::vector<Episode> episodes_;
  std::vector<uint32_t> hist_;    // legitimate rows per customer in the days generated so far
  std::vector<double> hist_sum_;  // and the sum of their amounts
};

void TxStream::plan() {
  const uint64_t days = cfg_.days;
  const int64_t start_day = floor_div(m_.start(), 86400);
  for (uint64_t d = 0; d < days; ++d) {
    const int64_t epoch_day = start_day + static_cast<int64_t>(d);
    const int dow = static_cast<int>(((epoch_day + 3) % 7 + 7) % 7);  // 1970-01-01 was Thursday
    const double growth = 1.0 + 0.25 * static_cast<double>(d) / static_cast<double>(days);
    Rng nr(hash_of(cfg_.seed, kTagDayNoise, d));
    day_weight_.push_back(kWeekday[dow] * growth * nr.uniform(0.93, 1.07));
  }
  const uint64_t n = cfg_.transactions;
  uint64_t fraud =
      static_cast<uint64_t>(std::floor(static_cast<double>(n) * cfg_.fraud_rate + 0.5));
  if (fraud > n) fraud = n;
  legit_per_day_ = apportion(n - fraud, day_weight_);

  // pattern shares and episode sizes (rows)
  const double share[kPatternCount] = {0, 0.24, 0.17, 0.17, 0.18, 0.24};
  const int min_size[kPatternCount] = {0, 5, 1, 1, 1, 4};
  const int max_size[kPatternCount] = {0, 12, 2, 2, 3, 9};
  const std::vector<uint64_t> quota =
      apportion(fraud, std::vector<double>(share + 1, share + kPatternCount));

  // fraud happens after a first stretch of normal history
  const uint64_t first = days >= 4 ? days / 4 : 0;
  std::vector<double> ew(day_weight_.begin() + static_cast<std::ptrdiff_t>(first),
                         day_weight_.end());
  AliasTable day_mix(ew);
  std::vector<uint64_t> anchors(days, 0);
  Rng r(hash_of(cfg_.seed, kTagPlan));
  uint32_t idx = 0;
  for (int p = 1; p < kPatternCount; ++p) {
    uint64_t left = quota[static_cast<size_t>(p - 1)];
    while (left > 0) {
      uint64_t size = static_cast<uint64_t>(r.range(min_size[p], max_size[p]));
      if (size > left) size = left;
      if (left - size < static_cast<uint64_t>(min_size[p])) size = left;
      Episode ep{};
      ep.pattern = static_cast<uint8_t>(p);
      ep.idx = idx++;
      ep.day = static_cast<uint32_t>(first + day_mix.sample(r));
      if (p == kImpossibleTravel) {
        // the home purchase just before comes out of that day's legitimate rows
        for (int t = 0; t < 20 && !ep.anchor; ++t) {
          if (anchors[ep.day] < legit_per_day_[ep.day]) {
            ep.anchor = true;
            ++anchors[ep.day];
          } else {
            ep.day = static_cast<uint32_t>(first + day_mix.sample(r));
          }
        }
      }
      // long episodes are split so that an episode never has more than 255 rows
      while (size > 0) {
        Episode part = ep;
        part.size = static_cast<uint8_t>(std::min<uint64_t>(size, 255));
        size -= part.size;
        left -= part.size;
        episodes_.push_back(part);
        ep.anchor = false;
        ep.idx = idx++;
      }
    }
  }
  // compromised devices (own stream: without the option nothing above or below changes)
  if (cfg_.compromised_devices > 0 && days > first) {
    Rng cr(hash_of(cfg_.seed, kTagCompromisedPlan));
    const uint64_t room = days - first > 3 ? days - first - 3 : 1;
    for (uint64_t i = 0; i < cfg_.compromised_devices; ++i) {
      const uint64_t start = first + cr.below(room);
      const uint64_t len = 2 + cr.below(3);
      for (uint64_t d = start; d < start + len && d < days; ++d) {
        Episode ep{};
        ep.day = static_cast<uint32_t>(d);
        ep.pattern = kCompromisedDevice;
        ep.size = static_cast<uint8_t>(3 + cr.below(6));
        ep.idx = static_cast<uint32_t>(i);
        episodes_.push_back(ep);
      }
    }
  }
  std::stable_sort(episodes_.begin(), episodes_.end(),
                   [](const Episode& a, const Episode& b) { return a.day < b.day; });
}

Ctx TxStream::usual_ctx(Rng& r, uint32_t cid, bool allow_travel) const {
  const Customer& c = m_.customers_[cid];
  Ctx x{};
  x.country = c.country;
  x.lat = c.lat + 0.02 * r.normal();
  x.lon = c.lon + 0.03 * r.normal();
  bool abroad = false;
  if (allow_travel) {
    const double u = r.uniform();
    if (u < 0.006) {  // on holiday in a neighbouring country
      std::vector<uint16_t> near;
      for (uint16_t k : m_.home_countries_) {
        if (k != c.country && countries()[k].region == countries()[c.country].region)
          near.push_back(k);
      }
      if (!near.empty()) {
        place_in_city(r, x, random_city(r, near[r.below(near.size())]), 0.03);
        abroad = true;
      }
    } else if (u < 0.05) {  // elsewhere in the home country
      place_in_city(r, x, random_city(r, c.country), 0.03);
    }
  }
  static const double kDeviceUse[] = {0.6, 0.25, 0.1, 0.05};
  const size_t dev = r.pick(kDeviceUse, c.devices);
  x.device = hash_of(cfg_.seed, kTagDevice, cid, dev);
  x.platform = c.platform[dev];
  if (abroad) {
    x.ip = ip_in(x.country, r.next());
  } else if (r.chance(0.85)) {
    x.ip = ip_in(c.country, hash_of(cfg_.seed, kTagIp, cid, dev));
  } else {
    x.ip = ip_in(c.country, r.next());  // mobile network, public wifi
  }
  static const double kInstrumentUse[] = {0.72, 0.2, 0.08};
  const size_t k = r.pick(kInstrumentUse, c.instruments);
  x.method = c.method[k];
  x.has_fp = x.method != kCashOnDelivery;
  x.fp_hi = hash_of(cfg_.seed, kTagFp, cid, k);
  x.fp_lo = hash_of(cfg_.seed, kTagFp2, cid, k);
  x.status = kCompleted;
  return x;
}

uint32_t TxStream::choose_product(Rng& r, const Customer& c, double basket_factor,
                                  int addon_cat) const {
  if (addon_cat >= 0 && r.chance(0.35)) {
    const auto& acc = m_.cat_accessories_[static_cast<size_t>(addon_cat)];
    if (!acc.empty()) return acc[r.below(acc.size())];
  }
  size_t cat;
  if (r.chance(0.75)) {
    static const double kPref[] = {0.5, 0.3, 0.2};
    cat = c.cat[r.pick(kPref)];
  } else {
    cat = m_.category_mix_.sample(r);
  }
  const auto& list = m_.by_category_[cat];
  if (list.empty()) return static_cast<uint32_t>(r.below(m_.products_.size()));
  const double target = det_log(c.basket * basket_factor) + 0.6 * r.normal();
  uint32_t best = list[m_.cat_popularity_[cat].sample(r)];
  for (int k = 0; k < 3; ++k) {
    const uint32_t cand = list[m_.cat_popularity_[cat].sample(r)];
    if (std::fabs(m_.products_[cand].log_price - target) <
        std::fabs(m_.products_[best].log_price - target))
      best = cand;
  }
  return best;
}

uint32_t TxStream::pick_victim(Rng& r, int64_t day_start, uint32_t min_hist,
                               bool day_person) const {
  for (int pass = 0; pass < 3; ++pass) {
    const uint32_t need = pass == 0 ? min_hist : pass == 1 ? 1 : 0;
    for (int tries = 0; tries < 400; ++tries) {
      const uint32_t c = static_cast<uint32_t>(m_.customer_activity_.sample(r));
      const Customer& cu = m_.customers_[c];
      if (cu.registered >= day_start - 86400) continue;
      if (hist_[c] < need) continue;
      if (day_person && cu.night_owl && pass < 2) continue;
      return c;
    }
  }
  return 0;  // customer 1 is always registered before the period
}

void TxStream::gen_episode(Rng& r, const Episode& ep, int64_t day_start, std::vector<Row>& rows,
                           uint64_t* order, uint64_t* anchors) {
  const int64_t day_end = day_start + 86400;
  const auto fit = [&](int64_t t0, int64_t span) {
    if (t0 + span >= day_end) t0 = day_end - 1 - span;
    return std::max(t0, day_start);
  };
  const int n = ep.size;
  switch (ep.pattern) {
    case kVelocityBurst: {
      const uint32_t cid = pick_victim(r, day_start, 2, false);
      const Customer& c = m_.customers_[cid];
      const int64_t span = r.range(120, 600);
      const int64_t t0 = fit(sample_time(r, c, day_start), span);
      std::vector<int64_t> offs(static_cast<size_t>(n));
      for (auto& o : offs) o = static_cast<int64_t>(r.below(static_cast<uint64_t>(span) + 1));
      std::sort(offs.begin(), offs.end());
      offs[0] = 0;
      Ctx x = usual_ctx(r, cid, false);
      if (r.chance(0.4)) fresh_device(r, x, ep.idx, 0);
      if (r.chance(0.3)) fresh_instrument(r, x, c, ep.idx, 0, false);
      for (int k = 0; k < n; ++k) {
        x.status = status_of(r, 0.75, 0.10, 0.15, 0);
        const uint32_t p = choose_product(r, c, 1.5, -1);
        const uint32_t q = quantity(r, p);
        const int64_t up = unit_price(r, p);
        emit(rows, x, cid, t0 + offs[static_cast<size_t>(k)], (*order)++, 0, p, q, up,
             kVelocityBurst);
      }
      break;
    }
    case kAmountSpike: {
      const uint32_t cid = pick_victim(r, day_start, 3, false);
      const Customer& c = m_.customers_[cid];
      const int64_t t = sample_time(r, c, day_start);
      Ctx x = usual_ctx(r, cid, false);
      if (r.chance(0.4)) fresh_device(r, x, ep.idx, 0);
      if (r.chance(0.5)) fresh_instrument(r, x, c, ep.idx, 0, true);
      x.status = status_of(r, 0.85, 0.15, 0, 0);
      const uint64_t order_key = (*order)++;
      const auto& ex = m_.expensive_;
      // the customer's usual line amount so far (mean of the legitimate history)
      const double usual = hist_[cid] > 0 ? std::max(1.0, hist_sum_[cid] / hist_[cid]) : c.basket;
      size_t above = 0;  // products costing at least 8x the usual amount
      while (above < ex.size() &&
             static_cast<double>(m_.products_[ex[above]].price_milli) >= 8000.0 * usual)
        ++above;
      for (int k = 0; k < n; ++k) {
        uint32_t p, q;
        if (above > 0) {
          p = ex[r.below(std::min<size_t>(above, 40))];
          q = static_cast<uint32_t>(r.chance(0.7) ? 1 : 2);
        } else {
          p = ex[r.below(std::min<size_t>(ex.size(), 10))];
          const double price = static_cast<double>(m_.products_[p].price_milli) / 1000.0;
          q = static_cast<uint32_t>(std::min(50.0, std::max(1.0, std::ceil(10.0 * usual / price))));
        }
        emit(rows, x, cid, t, order_key, static_cast<uint32_t>(k), p, q,
             m_.products_[p].price_milli, kAmountSpike);
      }
      break;
    }
    case kImpossibleTravel: {
      const uint32_t cid = pick_victim(r, day_start, 2, false);
      const Customer& c = m_.customers_[cid];
      const int64_t gap = r.range(15 * 60, 75 * 60);
      const int64_t span = gap + 20 * 60 * n;
      int64_t t = fit(sample_time(r, c, day_start), span);
      if (ep.anchor) {  // an ordinary purchase at home first
        Ctx home = usual_ctx(r, cid, false);
        const uint32_t p = choose_product(r, c, 1.0, -1);
        const uint32_t q = quantity(r, p);
        const int64_t up = unit_price(r, p);
        emit(rows, home, cid, t, (*order)++, 0, p, q, up, kLegit);
        ++*anchors;
      }
      t += gap;
      std::vector<uint16_t> far;
      for (size_t k = 0; k < cities().size(); ++k) {
        if (countries()[static_cast<size_t>(country_index(cities()[k].country))].region !=
            countries()[c.country].region)
          far.push_back(static_cast<uint16_t>(k));
      }
      Ctx x = usual_ctx(r, cid, false);
      place_in_city(r, x, far[r.below(far.size())], 0.03);
      x.ip = ip_in(x.country, r.next());
      if (r.chance(0.7)) fresh_device(r, x, ep.idx, 0);
      if (r.chance(0.4)) fresh_instrument(r, x, c, ep.idx, 0, false);
      for (int k = 0; k < n; ++k) {
        x.status = status_of(r, 0.8, 0.1, 0, 0.1);
        const uint32_t p = choose_product(r, c, 2.0, -1);
        const uint32_t q = quantity(r, p);
        const int64_t up = unit_price(r, p);
        emit(rows, x, cid, t, (*order)++, 0, p, q, up, kImpossibleTravel);
        t += r.range(120, 900);
      }
      break;
    }
    case kOddHours: {
      const uint32_t cid = pick_victim(r, day_start, 3, true);
      const Customer& c = m_.customers_[cid];
      const int64_t local_hour = r.range(2, 4);
      const int64_t utc_hour = ((local_hour - c.tz) % 24 + 24) % 24;
      const int64_t t = day_start + utc_hour * 3600 + static_cast<int64_t>(r.below(3600));
      Ctx x = usual_ctx(r, cid, false);
      if (r.chance(0.5)) fresh_device(r, x, ep.idx, 0);
      if (r.chance(0.65)) fresh_instrument(r, x, c, ep.idx, 0, true);
      x.status = status_of(r, 0.8, 0.1, 0.05, 0.05);
      const uint64_t order_key = (*order)++;
      for (int k = 0; k < n; ++k) {
        const uint32_t p = choose_product(r, c, 2.5, -1);
        emit(rows, x, cid, t, order_key, static_cast<uint32_t>(k), p, quantity(r, p),
             m_.products_[p].price_milli, kOddHours);
      }
      break;
    }
    case kCardTesting: {
      const uint32_t cid = pick_victim(r, day_start, 1, false);
      const Customer& c = m_.customers_[cid];
      const bool big = n >= 5 && r.chance(0.5);
      const int small = n - (big ? 1 : 0);
      const int64_t span = 50 * small + 180;
      int64_t t = fit(day_start + static_cast<int64_t>(r.below(86400)), span);
      Ctx x = usual_ctx(r, cid, false);
      fresh_device(r, x, ep.idx, 0);
      if (r.chance(0.6)) {  // through a proxy somewhere in the world
        place_in_city(r, x, static_cast<uint16_t>(r.below(cities().size())), 0.03);
      }
      x.ip = ip_in(x.country, r.next());
      const bool rotate = r.chance(0.3);
      fresh_instrument(r, x, c, ep.idx, 0, false);
      x.method = r.chance(0.75) ? kCreditCard : kDebitCard;
      for (int k = 0; k < small; ++k) {
        if (rotate && k > 0) {
          fresh_instrument(r, x, c, ep.idx, static_cast<uint64_t>(k), false);
          x.method = kCreditCard;
        }
        x.status = status_of(r, 0.45, 0, 0.55, 0);
        uint32_t p;
        int64_t price;
        if (!m_.cheap_.empty()) {
          p = m_.cheap_[r.below(m_.cheap_.size())];
          price = m_.products_[p].price_milli;
        } else {  // no cheap products: the cheapest one, at a token price
          p = m_.expensive_.back();
          price = std::min(m_.products_[p].price_milli, round_cents_milli(r.uniform(0.5, 2.99)));
        }
        emit(rows, x, cid, t, (*order)++, 0, p, 1, price, kCardTesting);
        t += r.range(8, 50);
      }
      if (big) {
        t += r.range(30, 130);
        x.status = status_of(r, 0.7, 0.3, 0, 0);
        const uint32_t p = m_.expensive_[r.below(std::min<size_t>(m_.expensive_.size(), 20))];
        emit(rows, x, cid, t, (*order)++, 0, p, 1, m_.products_[p].price_milli, kCardTesting);
      }
      break;
    }
    case kCompromisedDevice: {
      // one device (and its IP) shared by many customers: their own cards, their own
      // countries, ordinary baskets -- only the device gives it away
      const uint64_t dev = hash_of(cfg_.seed, kTagCompromised, ep.idx);
      const uint16_t where = m_.home_countries_[hash_of(cfg_.seed, kTagCompromisedIp, ep.idx, 1) %
                                                m_.home_countries_.size()];
      const uint32_t ip = ip_in(where, hash_of(cfg_.seed, kTagCompromisedIp, ep.idx));
      for (int k = 0; k < n; ++k) {
        const uint32_t cid = pick_victim(r, day_start, 2, false);
        const Customer& c = m_.customers_[cid];
        Ctx x = usual_ctx(r, cid, false);
        x.device = dev;
        x.platform = 0;
        x.ip = ip;
        x.status = status_of(r, 0.9, 0.05, 0.05, 0);
        const uint8_t pattern = r.chance(0.8) ? kCompromisedDevice : static_cast<uint8_t>(kLegit);
        const uint32_t p = choose_product(r, c, 1.2, -1);
        const uint32_t q = quantity(r, p);
        const int64_t up = unit_price(r, p);
        emit(rows, x, cid, sample_time(r, c, day_start), (*order)++, 0, p, q, up, pattern);
      }
      break;
    }
    default:
      break;
  }
}

void TxStream::gen_day(uint32_t d, std::vector<Row>& rows, size_t* next_episode) {
  rows.clear();
  Rng r(hash_of(cfg_.seed, kTagDay, d));
  const int64_t day_start = m_.start() + static_cast<int64_t>(d) * 86400;
  uint64_t order = 0, anchors = 0;
  while (*next_episode < episodes_.size() && episodes_[*next_episode].day == d) {
    gen_episode(r, episodes_[*next_episode], day_start, rows, &order, &anchors);
    ++*next_episode;
  }
  uint64_t budget = legit_per_day_[d] > anchors ? legit_per_day_[d] - anchors : 0;
  static const double kLines[] = {0.62, 0.24, 0.09, 0.05};
  const bool last_days = d + 2 >= cfg_.days;
  while (budget > 0) {
    uint32_t cid = 0;
    int64_t t = 0;
    bool found = false;
    for (int tries = 0; tries < 64 && !found; ++tries) {
      cid = static_cast<uint32_t>(m_.customer_activity_.sample(r));
      t = sample_time(r, m_.customers_[cid], day_start);
      found = t > m_.customers_[cid].registered;
    }
    if (!found) {  // customer 1 registered before the period
      cid = 0;
      t = sample_time(r, m_.customers_[0], day_start);
    }
    const Customer& c = m_.customers_[cid];
    const uint64_t lines = std::min<uint64_t>(budget, 1 + r.pick(kLines));
    Ctx x = usual_ctx(r, cid, true);
    x.status =
        last_days ? status_of(r, 0.80, 0.15, 0.03, 0.02) : status_of(r, 0.915, 0.015, 0.03, 0.04);
    int cat = -1;
    for (uint64_t k = 0; k < lines; ++k) {
      const uint32_t p = choose_product(r, c, 1.0, cat);
      if (cat < 0) cat = static_cast<int>(m_.products_[p].category);
      const uint32_t q = quantity(r, p);
      const int64_t up = unit_price(r, p);
      emit(rows, x, cid, t, order, static_cast<uint32_t>(k), p, q, up, kLegit);
    }
    ++order;
    budget -= lines;
  }
  for (const Row& w : rows) {
    if (w.pattern == kLegit) {
      ++hist_[w.customer];
      hist_sum_[w.customer] += static_cast<double>(w.unit_price) * w.quantity / 1000.0;
    }
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
    if (a.time != b.time) return a.time < b.time;
    if (a.order != b.order) return a.order < b.order;
    return a.line < b.line;
  });
}

void TxStream::run(Out& out, Out* verdicts) {
  if (verdicts != nullptr) verdicts->raw("transaction_id,label,labelled_at\n");
  out.raw(
      "id,customer_id,product_id,quantity,unit_price,transaction_time,status,payment_method,"
      "platform,order_number,country,latitude,longitude,device_id,ip_address,payment_fingerprint,"
      "fraud_pattern\n");
  std::vector<Row> rows;
  size_t next_episode = 0;
  uint64_t id = 0, order_no = 0;
  for (uint32_t d = 0; d < cfg_.days; ++d) {
    gen_day(d, rows, &next_episode);
    const int64_t day_start = m_.start() + static_cast<int64_t>(d) * 86400;
    // date part of the day start; rows are inside [day_start, day_start + 86400)
    const std::string date = format_utc(day_start);
    const int64_t base = day_start - floor_div(day_start, 86400) * 86400;  // seconds into date
    uint64_t prev_order = UINT64_MAX;
    for (const Row& w : rows) {
      out.u64(++id);
      out.sep();
      out.u64(w.customer + 1);
      out.sep();
      out.u64(w.product + 1);
      out.sep();
      out.u64(w.quantity);
      out.sep();
      out.fixed(w.unit_price, 3, true);
      out.sep();
      const int64_t sec = base + (w.time - day_start);
      if (sec < 86400) {
        out.raw(std::string_view(date).substr(0, 11));
        char hms[9] = {static_cast<char>('0' + sec / 36000),
                       static_cast<char>('0' + sec / 3600 % 10),
                       ':',
                       static_cast<char>('0' + sec / 60 % 60 / 10),
                       static_cast<char>('0' + sec / 60 % 10),
                       ':',
                       static_cast<char>('0' + sec % 60 / 10),
                       static_cast<char>('0' + sec % 10),
                       'Z'};
        out.raw(std::string_view(hms, 9));
      } else {  // --end not at midnight: the row falls on the next calendar date
        out.raw(format_utc(w.time));
      }
      out.sep();
      out.raw(kStatus[w.status]);
      out.sep();
      out.raw(kMethods[w.method]);
      out.sep();
      out.raw(kPlatforms[w.platform]);
      out.sep();
      if (w.order != prev_order) {
        ++order_no;
        prev_order = w.order;
      }
      out.raw("ORD-");
      {
        char num[24];
        const int len =
            std::snprintf(num, sizeof num, "%07llu", static_cast<unsigned long long>(order_no));
        out.raw(std::string_view(num, static_cast<size_t>(len)));
      }
      out.sep();
      out.raw(countries()[w.country].code);
      out.sep();
      out.fixed(w.lat, 4);
      out.sep();
      out.fixed(w.lon, 4);
      out.sep();
      out.raw("dev-");
      out.hex(w.device, 16);
      out.sep();
      out.u64(w.ip >> 24);
      out.ch('.');
      out.u64((w.ip >> 16) & 255);
      out.ch('.');
      out.u64((w.ip >> 8) & 255);
      out.ch('.');
      out.u64(w.ip & 255);
      out.sep();
      if (w.has_fp) {
        out.hex(w.fp_hi, 16);
        out.hex(w.fp_lo, 16);
      }
      out.sep();
      out.raw(pattern_name(w.pattern));
      out.end_row();
      if (verdicts != nullptr) write_verdicts(*verdicts, id, w);
    }
  }
}

void TxStream::write_verdicts(Out& v, uint64_t id, const Row& w) const {
  Rng r(hash_of(cfg_.seed, kTagVerdict, id));
  const auto row = [&](const char* label, int64_t at) {
    v.u64(id);
    v.sep();
    v.raw(label);
    v.sep();
    v.raw(format_utc(at));
    v.end_row();
  };
  if (w.pattern != kLegit) {
    if (!r.chance(0.9)) return;
    const int64_t at = w.time + 7200 + static_cast<int64_t>(r.below(4 * 86400));
    if (r.chance(1.0 / 12)) {
      row("legitimate", at);
      row("fraud", at + 86400);
    } else {
      row("fraud", at);
    }
  } else if (r.chance(0.15)) {
    row("legitimate", w.time + 86400 + static_cast<int64_t>(r.below(6 * 86400)));
  }
}

void Model::write_transactions(Out& out) const { write_transactions(out, nullptr); }

void Model::write_transactions(Out& out, Out* verdicts) const {
  TxStream s(*this);
  s.run(out, verdicts);
}

bool write_table(const Model& m, std::string_view table, Out& out) {
  if (table == "categories") {
    m.write_categories(out);
  } else if (table == "suppliers") {
    m.write_suppliers(out);
  } else if (table == "products") {
    m.write_products(out);
  } else if (table == "customers") {
    m.write_customers(out);
  } else if (table == "transactions") {
    m.write_transactions(out);
  } else {
    return false;
  }
  return true;
}

}  // namespace techmart::gen
