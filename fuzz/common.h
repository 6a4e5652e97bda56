// Helpers shared by the fuzz targets: a check that aborts (so libFuzzer records a crash with
// the input) and a throwaway directory tree for the static-file targets.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#define FUZZ_CHECK(cond, what)                                                         \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "fuzz invariant failed: %s (%s:%d)\n", what, __FILE__, __LINE__); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

namespace techmart::fuzz {

inline constexpr const char* kSecret = "TOP-SECRET-OUTSIDE-THE-ROOT";

// <tmp>/root/{index.html,app.js,sub/page.html,link-out -> ../secret.txt}, <tmp>/secret.txt
inline std::string make_static_tree() {
  char tmpl[] = "/tmp/techmart-fuzz-XXXXXX";
  const char* d = ::mkdtemp(tmpl);
  if (!d) std::abort();
  const std::string base = d;
  const std::string root = base + "/root";
  ::mkdir(root.c_str(), 0755);
  ::mkdir((root + "/sub").c_str(), 0755);
  ::mkdir((root + "/.hidden").c_str(), 0755);
  std::ofstream(root + "/index.html") << "<html>index</html>";
  std::ofstream(root + "/app.js") << "console.log(1)";
  std::ofstream(root + "/sub/page.html") << "<p>sub</p>";
  std::ofstream(root + "/.hidden/x.txt") << kSecret;
  std::ofstream(root + "/.env") << kSecret;
  std::ofstream(base + "/secret.txt") << kSecret;
  if (::symlink((base + "/secret.txt").c_str(), (root + "/link-out").c_str()) != 0) std::abort();
  if (::symlink(base.c_str(), (root + "/dir-out").c_str()) != 0) std::abort();
  return root;
}

}  // namespace techmart::fuzz
