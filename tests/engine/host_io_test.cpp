#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "server/confined_path.hpp"
#include "server/host_io.hpp"

using namespace ustub;
namespace fs = std::filesystem;

namespace {

// A scratch directory tree, removed afterwards:
//   root/inside.txt, root/dir/, root/abs-link -> /inside.txt, root/up-link -> ../../..
struct Sandbox {
  fs::path root;
  Sandbox() {
    char tmpl[] = "/tmp/ustub-confined-XXXXXX";
    root = ::mkdtemp(tmpl);
    std::ofstream(root / "inside.txt") << "inside";
    fs::create_directory(root / "dir");
    fs::create_symlink("/inside.txt", root / "abs-link");
    fs::create_symlink("../../..", root / "dir" / "up-link");
  }
  ~Sandbox() { fs::remove_all(root); }
  ConfinedPaths paths() const {
    int error = -1;
    ConfinedPaths p = ConfinedPaths::at(root, &error);
    REQUIRE(error == 0);
    return p;
  }
  std::string read(const ConfinedPaths& p, const std::string& path) const {
    int fd = p.open(path, O_RDONLY, 0);
    if (fd < 0) return "errno " + std::to_string(-fd);
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);
    ::close(fd);
    return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
  }
};

}  // namespace

TEST_CASE("confined paths: absolute paths, '..' and absolute links all stay under the root") {
  Sandbox s;
  ConfinedPaths p = s.paths();
  CHECK(s.read(p, "/inside.txt") == "inside");
  CHECK(s.read(p, "/../../../inside.txt") == "inside");
  CHECK(s.read(p, "/dir/../inside.txt") == "inside");
  CHECK(s.read(p, "/abs-link") == "inside");               // "/inside.txt" means the root's
  CHECK(s.read(p, "/dir/up-link/inside.txt") == "inside");  // ../../.. stops at the root
  CHECK(s.read(p, "/etc/passwd") == "errno " + std::to_string(ENOENT));
  CHECK(s.read(p, "inside.txt") == "inside");  // relative paths start at a sandbox root
}

TEST_CASE("confined paths: create, readlink and unlink act inside the root only") {
  Sandbox s;
  ConfinedPaths p = s.paths();
  int fd = p.open("/new.txt", O_WRONLY | O_CREAT | O_EXCL, 0600);
  REQUIRE(fd >= 0);
  ::close(fd);
  CHECK(fs::exists(s.root / "new.txt"));
  char buf[64];
  long n = p.readlink("/abs-link", buf, sizeof buf);
  CHECK(std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0) == "/inside.txt");
  CHECK(p.unlink("/abs-link") == 0);  // the link goes, not what it names
  CHECK(fs::exists(s.root / "inside.txt"));
  CHECK(p.unlink("/dir/up-link/new.txt") == 0);
  CHECK(!fs::exists(s.root / "new.txt"));
}

TEST_CASE("confined paths: a link loop ends with ELOOP, a file used as a directory with ENOTDIR") {
  Sandbox s;
  fs::create_symlink("loop-b", s.root / "loop-a");
  fs::create_symlink("loop-a", s.root / "loop-b");
  ConfinedPaths p = s.paths();
  CHECK(p.open("/loop-a", O_RDONLY, 0) == -ELOOP);
  CHECK(p.open("/inside.txt/x", O_RDONLY, 0) == -ENOTDIR);
  CHECK(p.open("", O_RDONLY, 0) == -ENOENT);
}

TEST_CASE("confined paths: a link that belongs to another user is not followed") {
  if (::geteuid() != 0) return;  // only root can give a link away; CI runs this as root
  Sandbox s;
  fs::create_symlink("/inside.txt", s.root / "theirs");
  REQUIRE(::lchown((s.root / "theirs").c_str(), 12345, 12345) == 0);
  ConfinedPaths p = s.paths();
  CHECK(p.open("/theirs", O_RDONLY, 0) == -EACCES);
  CHECK(p.open("/inside.txt", O_RDONLY, 0) >= 0);
  char buf[64];
  CHECK(p.readlink("/theirs", buf, sizeof buf) == 11);  // reading the link itself is harmless
}

TEST_CASE("confined paths at '/': the kernel's own /proc links still work") {
  int error = -1;
  ConfinedPaths p = ConfinedPaths::at("/", &error);
  REQUIRE(error == 0);
  char buf[4096];
  long n = p.readlink("/proc/self/exe", buf, sizeof buf);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<std::size_t>(n)) == fs::read_symlink("/proc/self/exe").string());
  int fd = p.open("/proc/self/exe", O_RDONLY, 0);
  CHECK(fd >= 0);
  ::close(fd);
}

TEST_CASE("host I/O confined to a directory refuses vFile:setfs to a process") {
  Sandbox s;
  HostIo io(4096, s.root);
  CHECK(io.setfs({static_cast<std::int64_t>(::getpid())}) == "F-1,1");  // EPERM
  CHECK(io.setfs({0}) == "F0");
}
