#include "static_files.h"

#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "problem.h"

namespace techmart::api {
namespace {

constexpr std::size_t kMaxStaticFileBytes = 32 * 1024 * 1024;

std::string canonical(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return {};
  return buf;
}

}  // namespace

StaticFiles::StaticFiles(const std::string& root) : root_(canonical(root)) {
  struct stat st {};
  if (root_.empty() || ::stat(root_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw std::invalid_argument("TECHMART_STATIC_DIR is not a directory: " + root);
  }
}

std::string StaticFiles::mime_type(const std::string& path) {
  static const std::map<std::string, std::string> types = {
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"txt", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"wasm", "application/wasm"},
      {"webmanifest", "application/manifest+json"},
  };
  const std::size_t slash = path.rfind('/');
  const std::size_t dot = path.rfind('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) {
    return "application/octet-stream";
  }
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto it = types.find(ext);
  return it == types.end() ? "application/octet-stream" : it->second;
}

Response StaticFiles::serve(const RequestContext& ctx) const { return serve_path(ctx.path()); }

Response StaticFiles::serve_path(const std::string& path) const {
  // Reject "..", "." and hidden segments, backslashes and NULs outright.
  if (path.empty() || path[0] != '/' || path.find('\\') != std::string::npos ||
      path.find('\0') != std::string::npos || path.find("/.") != std::string::npos) {
    throw problems::not_found();
  }
  std::string rel = path;
  if (rel.back() == '/') rel += "index.html";
  std::string full = canonical(root_ + rel);
  struct stat st {};
  if (!full.empty() && ::stat(full.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    full = canonical(full + "/index.html");
  }
  // Symlinks may not lead out of the root.
  if (full.empty() || full.compare(0, root_.size() + 1, root_ + "/") != 0 ||
      ::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw problems::not_found();
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxStaticFileBytes) {
    throw std::runtime_error("static file too large: " + full);
  }
  std::ifstream in(full, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  Response r;
  r.status = 200;
  r.body = ss.str();
  r.content_type = mime_type(full);
  r.headers.emplace_back("Cache-Control", "no-cache");
  return r;
}

}  // namespace techmart::api
