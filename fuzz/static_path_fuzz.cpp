// StaticFiles::serve_path over arbitrary paths, against a tree holding hidden files and symlinks
// that point outside the root. Property: a served body is one of the files inside the root;
// nothing hidden or outside is ever served; refusals are 404 problems.
#include <cstdint>
#include <string>

#include "common.h"
#include "problem.h"
#include "static_files.h"

using namespace techmart::api;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static StaticFiles* files = new StaticFiles(techmart::fuzz::make_static_tree());
  const std::string path(reinterpret_cast<const char*>(data), size);
  try {
    const Response r = files->serve_path(path);
    FUZZ_CHECK(r.status == 200 || r.status == 304 || r.status == 301 || r.status == 302, "status");
    FUZZ_CHECK(r.body.find(techmart::fuzz::kSecret) == std::string::npos,
               "never serves hidden files or files outside the root");
    FUZZ_CHECK(r.body == "<html>index</html>" || r.body == "console.log(1)" || r.body == "<p>sub</p>" ||
                   r.body.empty(),
               "only the files of the root");
  } catch (const Problem& p) {
    FUZZ_CHECK(p.status() == 404 || p.status() == 400 || p.status() == 403, "refusals are 4xx");
  }
  return 0;
}
