#include "techmart/core/online_retail.hpp"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <unordered_map>

namespace techmart::core::online_retail {

namespace {

bool is_space(char c) noexcept {  // the regular expressions' \s
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}
bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// \s* on both ends
std::string_view trim_regex_spaces(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

int two_digits(std::string_view s, std::size_t at) noexcept {
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

bool leap(int y) noexcept { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

// length in bytes of the UTF-8 character starting with byte c (1 for a stray byte)
std::size_t char_len(unsigned char c) noexcept {
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) return 2;
  if ((c & 0xF0) == 0xE0) return 3;
  if ((c & 0xF8) == 0xF0) return 4;
  return 1;
}

bool like_at(std::string_view s, std::size_t si, std::string_view p, std::size_t pi) {
  while (pi < p.size()) {
    const char c = p[pi];
    if (c == '%') {
      while (pi < p.size() && p[pi] == '%') ++pi;
      if (pi == p.size()) return true;
      for (std::size_t k = si;;) {
        if (like_at(s, k, p, pi)) return true;
        if (k >= s.size()) return false;
        k = std::min(s.size(), k + char_len(static_cast<unsigned char>(s[k])));
      }
    }
    if (c == '_') {
      if (si >= s.size()) return false;
      si = std::min(s.size(), si + char_len(static_cast<unsigned char>(s[si])));
      ++pi;
      continue;
    }
    std::size_t lit = pi;
    if (c == '\\') {
      if (pi + 1 >= p.size()) {
        throw std::invalid_argument("LIKE pattern must not end with escape character");
      }
      lit = pi + 1;
    }
    const std::size_t n = std::min(p.size() - lit, char_len(static_cast<unsigned char>(p[lit])));
    if (si + n > s.size() || s.compare(si, n, p.substr(lit, n)) != 0) return false;
    si += n;
    pi = lit + n;
  }
  return si == s.size();
}

constexpr std::string_view kDomain = "@online-retail.example";

}  // namespace

std::string_view trim_spaces(std::string_view s) noexcept {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool is_ascii(std::string_view s) noexcept {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool invoice_valid(std::string_view inv) noexcept {
  if (!inv.empty() && inv.front() >= 'A' && inv.front() <= 'Z') inv.remove_prefix(1);
  if (inv.empty() || inv.size() > 20) return false;
  return std::all_of(inv.begin(), inv.end(), is_digit);
}

std::optional<std::int32_t> parse_quantity(std::string_view raw) noexcept {
  std::string_view s = trim_regex_spaces(raw);
  bool neg = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || s.size() > 9 || !std::all_of(s.begin(), s.end(), is_digit)) return std::nullopt;
  std::int32_t v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return neg ? -v : v;
}

std::optional<Price> parse_price(std::string_view raw) noexcept {
  std::string_view s = trim_regex_spaces(raw);
  bool neg = false;
  if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  const std::size_t dot = s.find('.');
  const std::string_view whole = s.substr(0, dot);
  const std::string_view frac =
      dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
  if (!std::all_of(whole.begin(), whole.end(), is_digit) ||
      !std::all_of(frac.begin(), frac.end(), is_digit)) {
    return std::nullopt;
  }
  // \d{1,11}(\.\d{0,3})? | \.\d{1,3}
  if (whole.size() > 11 || frac.size() > 3) return std::nullopt;
  if (whole.empty() && (dot == std::string_view::npos || frac.empty())) return std::nullopt;
  Price p;
  for (char c : whole) p.units = p.units * 10 + (c - '0');
  for (char c : frac) p.units = p.units * 10 + (c - '0');
  p.scale = static_cast<int>(frac.size());
  if (neg) p.units = -p.units;
  return p;
}

std::optional<LocalTime> parse_invoice_date(std::string_view raw) noexcept {
  const std::string_view s = trim_spaces(raw);
  // YYYY-MM-DD[ T]HH:MM(:SS)?
  if (s.size() != 16 && s.size() != 19) return std::nullopt;
  static constexpr const char* kShape = "dddd-dd-dd?dd:dd:dd";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char k = kShape[i];
    if (k == 'd' ? !is_digit(s[i]) : k == '?' ? (s[i] != ' ' && s[i] != 'T') : s[i] != k) {
      return std::nullopt;
    }
  }
  LocalTime t;
  t.year = two_digits(s, 0) * 100 + two_digits(s, 2);
  t.month = two_digits(s, 5);
  t.day = two_digits(s, 8);
  t.hour = two_digits(s, 11);
  t.minute = two_digits(s, 14);
  t.second = s.size() == 19 ? two_digits(s, 17) : 0;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (t.year < 1900 || t.year > 2999 || t.month < 1 || t.month > 12 || t.day < 1)
    return std::nullopt;
  const int days = t.month == 2 && leap(t.year) ? 29 : kDays[t.month - 1];
  if (t.day > days || t.hour >= 24 || t.minute >= 60 || t.second >= 60) return std::nullopt;
  return t;
}

Customer parse_customer_id(std::string_view raw) noexcept {
  Customer c;
  if (trim_spaces(raw).empty()) {
    c.valid = true;
    return c;
  }
  std::string_view s = trim_regex_spaces(raw);
  std::size_t n = 0;
  while (n < s.size() && is_digit(s[n])) ++n;
  if (n < 1 || n > 15) return c;
  const std::string_view rest = s.substr(n);  // (\.0*)?
  if (!rest.empty() && (rest.front() != '.' || !std::all_of(rest.begin() + 1, rest.end(),
                                                            [](char x) { return x == '0'; }))) {
    return c;
  }
  std::int64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v = v * 10 + (s[i] - '0');
  c.valid = true;
  c.id = v;
  return c;
}

bool like(std::string_view s, std::string_view pattern) { return like_at(s, 0, pattern, 0); }

struct Parsed::Storage {
  struct Invoice {
    std::string inv;
    bool ok = false;
  };
  struct Sku {
    std::string_view sku;
    bool ok = false;
    std::string_view outcome;  // non_product:<reason> or empty
  };
  struct Date {
    bool ok = false;
    std::int64_t ts = 0;
  };
  struct Country {
    bool ok = false;
    std::string_view code;
  };
  std::unordered_map<std::string_view, Invoice> invoices;   // by raw InvoiceNo
  std::unordered_map<std::string_view, Sku> skus;           // by raw StockCode
  std::unordered_map<std::string_view, Date> dates;         // by raw InvoiceDate
  std::unordered_map<std::string_view, Country> countries;  // by raw Country
  std::unordered_map<std::string, std::string> country_code;
  std::deque<std::string> texts;                                  // non_product outcomes, emails
  std::unordered_map<std::int64_t, std::string_view> cust_email;  // by CustomerID
  std::unordered_map<std::string_view, std::string_view> guest_email;  // by country code
};

Parsed::Parsed() : storage(std::make_unique<Storage>()) {}
Parsed::~Parsed() = default;
Parsed::Parsed(Parsed&&) noexcept = default;
Parsed& Parsed::operator=(Parsed&&) noexcept = default;

Parsed parse(const std::vector<RawLine>& raw, const Rules& rules, const Hooks& hooks) {
  if (raw.size() >= UINT32_MAX) throw std::length_error("online_retail: too many lines");
  Parsed out;
  Parsed::Storage& st = *out.storage;
  for (const auto& [name, code] : rules.countries) st.country_code.emplace(name, code);
  std::vector<std::string_view> special_outcome;
  for (const auto& sp : rules.specials) {
    st.texts.push_back("non_product:" + sp.second);
    special_outcome.push_back(st.texts.back());
  }
  const auto field = [](const RawLine& r, int f) {
    return r.null[f] ? std::string_view() : r.field[f];  // NULL reads as ''
  };
  const auto upper = [&](std::string_view s) {
    if (!is_ascii(s)) return hooks.upper(s);
    std::string u(s);
    for (char& c : u) {
      if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    }
    return u;
  };

  std::unordered_map<std::string_view, std::int32_t> line_nos;  // by inv
  out.lines.resize(raw.size());
  // the lines of an invoice usually follow each other: the previous line's lookups are reused
  // when a field has the same text
  const RawLine* prev = nullptr;
  decltype(st.invoices)::iterator inv_it;
  std::int32_t* line_no = nullptr;
  decltype(st.dates)::iterator d_it;
  decltype(st.countries)::iterator c_it;
  Customer cu;
  const auto same = [&](const RawLine& r, int f) {
    return prev != nullptr && field(r, f) == field(*prev, f);
  };
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const RawLine& r = raw[i];
    ParsedLine& p = out.lines[i];
    p.line = static_cast<std::int64_t>(i) + 2;
    bool ok = true;

    if (!same(r, kInvoiceNo)) {
      inv_it = st.invoices.find(field(r, kInvoiceNo));
      if (inv_it == st.invoices.end()) {
        Parsed::Storage::Invoice v;
        v.inv = upper(trim_spaces(field(r, kInvoiceNo)));
        v.ok = invoice_valid(v.inv);
        inv_it = st.invoices.emplace(field(r, kInvoiceNo), std::move(v)).first;
      }
      line_no = &line_nos[inv_it->second.inv];
    }
    p.inv = inv_it->second.inv;
    ok = ok && inv_it->second.ok;
    p.line_no = ++*line_no;

    auto sku_it = st.skus.find(field(r, kStockCode));
    if (sku_it == st.skus.end()) {
      Parsed::Storage::Sku v;
      v.sku = trim_spaces(field(r, kStockCode));
      v.ok = !v.sku.empty();
      const std::string u = upper(v.sku);
      for (std::size_t k = 0; k < rules.specials.size(); ++k) {
        if (like(u, rules.specials[k].first)) {
          v.outcome = special_outcome[k];
          break;
        }
      }
      sku_it = st.skus.emplace(field(r, kStockCode), v).first;
    }
    p.sku = sku_it->second.sku;
    ok = ok && sku_it->second.ok;

    if (!r.null[kDescription]) {
      p.descr = trim_spaces(r.field[kDescription]);
      p.has_descr = !p.descr.empty();
    }

    if (const auto q = parse_quantity(field(r, kQuantity))) {
      p.has_qty = true;
      p.qty = *q;
    } else {
      ok = false;
    }

    if (!same(r, kInvoiceDate)) {
      d_it = st.dates.find(field(r, kInvoiceDate));
      if (d_it == st.dates.end()) {
        Parsed::Storage::Date v;
        if (const auto t = parse_invoice_date(field(r, kInvoiceDate))) {
          v.ok = true;
          v.ts = hooks.uk_time(*t);
        }
        d_it = st.dates.emplace(field(r, kInvoiceDate), v).first;
      }
    }
    p.has_ts = d_it->second.ok;
    p.ts = d_it->second.ts;
    ok = ok && p.has_ts;

    if (const auto pr = parse_price(field(r, kUnitPrice))) {
      p.has_price = true;
      p.price = *pr;
    } else {
      ok = false;
    }

    if (!same(r, kCustomerId)) cu = parse_customer_id(field(r, kCustomerId));
    ok = ok && cu.valid;
    p.has_cust = cu.id.has_value();
    if (p.has_cust) p.cust = *cu.id;

    if (!same(r, kCountry)) {
      c_it = st.countries.find(field(r, kCountry));
      if (c_it == st.countries.end()) {
        Parsed::Storage::Country v;
        const std::string_view name = trim_spaces(field(r, kCountry));
        const auto m = st.country_code.find(std::string(name));
        v.ok = !name.empty() && m != st.country_code.end();
        if (m != st.country_code.end()) v.code = m->second;
        c_it = st.countries.emplace(field(r, kCountry), v).first;
      }
    }
    p.has_cc = !c_it->second.code.empty();  // (the glue checks that codes are not empty)
    p.cc = c_it->second.code;
    ok = ok && c_it->second.ok;

    if (same(r, kCustomerId) && same(r, kCountry)) {  // (the e-mail depends on these two only)
      p.has_email = out.lines[i - 1].has_email;
      p.email = out.lines[i - 1].email;
    } else if (p.has_cust) {
      auto e = st.cust_email.find(p.cust);
      if (e == st.cust_email.end()) {
        st.texts.push_back("c" + std::to_string(p.cust) + std::string(kDomain));
        e = st.cust_email.emplace(p.cust, st.texts.back()).first;
      }
      p.has_email = true;
      p.email = e->second;
    } else if (p.has_cc) {
      auto e = st.guest_email.find(p.cc);
      if (e == st.guest_email.end()) {
        std::string g = "guest-";
        for (char c : p.cc) g += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        st.texts.push_back(g + std::string(kDomain));
        e = st.guest_email.emplace(p.cc, st.texts.back()).first;
      }
      p.has_email = true;
      p.email = e->second;
    }

    const bool cancel = !p.inv.empty() && p.inv.front() == 'C';
    if (!ok) {
      p.outcome = "invalid";
      ++out.invalid;
    } else if (!sku_it->second.outcome.empty()) {
      p.outcome = sku_it->second.outcome;
    } else if (p.price.units < 0) {
      p.outcome = "negative_price";
    } else if (p.price.units == 0) {
      p.outcome = "zero_price";
    } else if (p.qty == 0) {
      p.outcome = "zero_quantity";
    } else if (cancel && p.qty < 0) {
      p.outcome = "refund";
    } else if (cancel) {
      p.outcome = "cancellation_with_positive_quantity";
    } else if (p.qty < 0) {
      p.outcome = "negative_quantity";
    } else {
      p.outcome = "sale";
    }
    prev = &r;
  }
  // (ts, line), no time (invalid) last: the keys sorted (16 bytes each, not the lines), the
  // position in the input (= line order) breaking ties
  std::vector<std::pair<std::int64_t, std::uint32_t>> keys(out.lines.size());
  for (std::size_t i = 0; i < out.lines.size(); ++i) {
    const ParsedLine& p = out.lines[i];
    keys[i] = {p.has_ts ? p.ts : INT64_MAX, static_cast<std::uint32_t>(i)};
  }
  if (!std::is_sorted(keys.begin(), keys.end())) std::sort(keys.begin(), keys.end());
  out.order.resize(keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) out.order[i] = keys[i].second;
  return out;
}

}  // namespace techmart::core::online_retail
