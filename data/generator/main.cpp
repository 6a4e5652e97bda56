// techmart-gen: command line (see --help).
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "generator.hpp"
#include "self_check.hpp"

namespace {

using techmart::gen::Config;

const char kUsage[] =
    R"USAGE(Usage: techmart-gen --out DIR [options]
       techmart-gen --stdout TABLE [options]
       techmart-gen --self-check [--seed N]

Deterministic seed data for TechMart: the same arguments give byte-identical output on every
platform (own xoshiro256** generator and distributions, no locale, no libm randomness).

Output (exactly one of):
  --out DIR            write categories.csv, suppliers.csv, products.csv, customers.csv and
                       transactions.csv into DIR (created if missing; files are overwritten)
  --stdout TABLE       stream one table as CSV to standard output; TABLE is one of categories,
                       suppliers, products, customers, transactions. Transactions are generated
                       day by day in time order: memory is bounded by the busiest day's rows
                       (about 100 bytes each) plus the customers and products, whatever the
                       total, e.g. 2,000,000 rows over 60 days in under 10 MB:
                         techmart-gen --stdout transactions --transactions 10000000 |
                           psql -c "COPY staging FROM STDIN (FORMAT csv, HEADER)"
  --self-check         generate a small data set in memory, verify its invariants (sorted times,
                       ids and references, CHECK constraints of the schema, every fraud pattern
                       present and well formed, determinism); exit 0 if all hold, 1 otherwise

Options (defaults in brackets):
  --seed N             random seed, 0 .. 2^64-1 [42]
  --suppliers N        suppliers, 1 .. 1000000 [50]
  --categories K       categories, 1 .. 12 [12] (Electronics, Computers, Phones, Audio, Gaming,
                       Home & Kitchen, Books, Toys, Sports, Fashion, Beauty, Garden: the first K)
  --products N         products, 1 .. 10000000 [500]
  --customers N        customers, 1 .. 10000000 [1000]
  --transactions N     transaction rows (order lines), 0 .. 10000000000 [5000]
  --end TIME           end of the generated history, exclusive, UTC, YYYY-MM-DDTHH:MM:SSZ or
                       YYYY-MM-DD [2026-11-01T00:00:00Z]
  --days N             length of the history in days before --end, 1 .. 3650 [60]
  --fraud-rate R       share of rows that are planted fraud, 0 .. 0.5 [0.03]
  --compromised-devices N
                       also plant N compromised devices, 0 .. 100000 [0]: each is used by many
                       customers (their own cards, countries and ordinary baskets) on 2-4
                       consecutive days, 3-8 rows a day, 80% of them fraud (fraud_pattern
                       compromised_device, not one of the schema's planted_fraud patterns);
                       these rows come on top of --transactions
  --verdicts           with --out: also write transaction_labels.csv (transaction_id,label,
                       labelled_at): 90% of the fraud rows labelled fraud 2 h .. 4 days later
                       (1 in 12 first labelled legitimate, corrected a day later), 15% of the
                       legitimate rows labelled legitimate 1 .. 7 days later
  -h, --help           this text

Files (comma separated, header row, RFC 4180 quoting, UTF-8, LF line ends; an empty field
is NULL):
  categories.csv    id,name,description
  suppliers.csv     id,name,reliability_score,country,contact_email
  products.csv      id,sku,name,description,category_id,price,stock_quantity,
                    low_stock_threshold,supplier_id
  customers.csv     id,email,name,country,city,home_lat,home_lon,registration_date
  transactions.csv  id,customer_id,product_id,quantity,unit_price,transaction_time,status,
                    payment_method,platform,order_number,country,latitude,longitude,device_id,
                    ip_address,payment_fingerprint,fraud_pattern

Ids start at 1. Times are UTC ("2026-10-31T14:03:11Z"). Transactions are sorted by time (ties by
order, then line); the lines of one order share order_number, customer and time. fraud_pattern
is empty for legitimate rows, else velocity_burst, amount_spike, impossible_travel, odd_hours or
card_testing (ground truth). Planted fraud falls in the last three quarters of the period so that
victims have normal history first; each impossible_travel episode is preceded by an ordinary
purchase at home (an unlabelled row). The amount column is not written: it is quantity *
unit_price (the scoring trigger fills it).

Exit status: 0 success, 1 failure (I/O, self-check), 2 invalid arguments.
)USAGE";

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "techmart-gen: %s\nTry 'techmart-gen --help'.\n", msg.c_str());
  std::exit(2);
}

uint64_t parse_u64(const std::string& opt, const std::string& v, uint64_t lo, uint64_t hi) {
  if (v.empty() || v.find_first_not_of("0123456789") != std::string::npos)
    usage_error(opt + ": expected a non-negative integer, got '" + v + "'");
  errno = 0;
  char* end = nullptr;
  const unsigned long long x = std::strtoull(v.c_str(), &end, 10);
  if (errno == ERANGE || *end != '\0' || x < lo || x > hi)
    usage_error(opt + ": " + v + " is out of range " + std::to_string(lo) + " .. " +
                std::to_string(hi));
  return x;
}

double parse_rate(const std::string& opt, const std::string& v) {
  if (v.empty() || v.find_first_not_of("0123456789.") != std::string::npos ||
      v.find_first_of("0123456789") == std::string::npos)
    usage_error(opt + ": expected a decimal number, got '" + v + "'");
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (*end != '\0' || !(x >= 0.0 && x <= 0.5))
    usage_error(opt + ": " + v + " is out of range 0 .. 0.5");
  return x;
}

bool write_file(const techmart::gen::Model& m, const std::string& dir, const char* table) {
  const std::string path = dir + "/" + table + ".csv";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) {
    std::fprintf(stderr, "techmart-gen: cannot write %s: %s\n", path.c_str(), std::strerror(errno));
    return false;
  }
  bool ok;
  {
    techmart::gen::Out out(f);
    techmart::gen::write_table(m, table, out);
    ok = out.flush();
  }
  if (std::fclose(f) != 0) ok = false;
  if (!ok) std::fprintf(stderr, "techmart-gen: error writing %s\n", path.c_str());
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  std::string out_dir, table;
  bool have_out = false, have_stdout = false, self_check = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool inline_value = false;
    if (arg.rfind("--", 0) == 0) {
      const size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        inline_value = true;
      }
    }
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (arg == "--self-check") {
      self_check = true;
      continue;
    }
    if (arg == "--verdicts") {
      cfg.verdicts = true;
      continue;
    }
    static const char* const kWithValue[] = {
        "--out",        "--stdout",   "--seed",       "--suppliers",
        "--categories", "--products", "--customers",  "--transactions",
        "--end",        "--days",     "--fraud-rate", "--compromised-devices"};
    bool known = false;
    for (const char* k : kWithValue) known = known || arg == k;
    if (!known) usage_error("unknown argument '" + arg + "'");
    if (!inline_value) {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      value = argv[++i];
    }
    if (arg == "--out") {
      if (value.empty()) usage_error("--out: empty directory name");
      out_dir = value;
      have_out = true;
    } else if (arg == "--stdout") {
      bool ok = false;
      for (const char* t : techmart::gen::kTables) ok = ok || value == t;
      if (!ok)
        usage_error("--stdout: unknown table '" + value +
                    "' (categories, suppliers, products, customers, transactions)");
      table = value;
      have_stdout = true;
    } else if (arg == "--seed") {
      cfg.seed = parse_u64(arg, value, 0, UINT64_MAX);
    } else if (arg == "--suppliers") {
      cfg.suppliers = parse_u64(arg, value, 1, 1000000);
    } else if (arg == "--categories") {
      cfg.categories = parse_u64(arg, value, 1, 12);
    } else if (arg == "--products") {
      cfg.products = parse_u64(arg, value, 1, 10000000);
    } else if (arg == "--customers") {
      cfg.customers = parse_u64(arg, value, 1, 10000000);
    } else if (arg == "--transactions") {
      cfg.transactions = parse_u64(arg, value, 0, 10000000000ULL);
    } else if (arg == "--days") {
      cfg.days = parse_u64(arg, value, 1, 3650);
    } else if (arg == "--compromised-devices") {
      cfg.compromised_devices = parse_u64(arg, value, 0, 100000);
    } else if (arg == "--fraud-rate") {
      cfg.fraud_rate = parse_rate(arg, value);
    } else if (arg == "--end") {
      int64_t t;
      if (!techmart::gen::parse_utc(value, &t))
        usage_error("--end: expected YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD, got '" + value + "'");
      if (t < 86400LL * 3650 * 2 || t > 253402300799LL)
        usage_error("--end: " + value + " is out of range 1990 .. 9999");
      cfg.end = t;
    }
  }
  if (self_check) {
    if (have_out || have_stdout) usage_error("--self-check takes no --out or --stdout");
    return techmart::gen::self_check(cfg.seed) ? 0 : 1;
  }
  if (have_out == have_stdout)
    usage_error("exactly one of --out DIR or --stdout TABLE is required");
  if (cfg.verdicts && !have_out) usage_error("--verdicts needs --out DIR");

  const techmart::gen::Model model(cfg);
  if (have_stdout) {
    bool ok;
    {
      techmart::gen::Out out(stdout);
      techmart::gen::write_table(model, table, out);
      ok = out.flush();
    }
    if (std::fflush(stdout) != 0 || !ok) {
      std::fprintf(stderr, "techmart-gen: error writing to standard output\n");
      return 1;
    }
    return 0;
  }
  if (mkdir(out_dir.c_str(), 0777) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "techmart-gen: cannot create %s: %s\n", out_dir.c_str(),
                 std::strerror(errno));
    return 1;
  }
  for (const char* t : techmart::gen::kTables) {
    if (cfg.verdicts && std::string_view(t) == "transactions") continue;
    if (!write_file(model, out_dir, t)) return 1;
  }
  if (cfg.verdicts) {  // transactions.csv and transaction_labels.csv in one pass
    const std::string tp = out_dir + "/transactions.csv", lp = out_dir + "/transaction_labels.csv";
    std::FILE* tf = std::fopen(tp.c_str(), "wb");
    std::FILE* lf = std::fopen(lp.c_str(), "wb");
    bool ok = tf != nullptr && lf != nullptr;
    if (ok) {
      techmart::gen::Out out(tf), labels(lf);
      model.write_transactions(out, &labels);
      ok = out.flush() && labels.flush();
    }
    if (tf != nullptr && std::fclose(tf) != 0) ok = false;
    if (lf != nullptr && std::fclose(lf) != 0) ok = false;
    if (!ok) {
      std::fprintf(stderr, "techmart-gen: error writing %s or %s\n", tp.c_str(), lp.c_str());
      return 1;
    }
  }
  return 0;
}
