#include "infomax/runtime/console.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace infomax::console {

namespace {
Level current = Level::normal;
bool live_on = true;
bool shown = false;  // a live line is on the screen
}  // namespace

void set_level(Level l) { current = l; }
Level level() { return current; }

namespace {
void say(const std::string& line) {
    if (shown) clear_live();
    fmt::print(stderr, "{}\n", line);
    std::fflush(stderr);  // progress must show up in files and pipes as it happens
}
}  // namespace

void info(const std::string& line) {
    if (current >= Level::normal) say(line);
}

void detail(const std::string& line) {
    if (current >= Level::verbose) say(line);
}

void warn(const std::string& line) { say(line); }

bool live() { return live_on && current >= Level::normal && isatty(STDERR_FILENO); }
void set_live(bool on) { live_on = on; }

void live_line(const std::string& line) {
    fmt::print(stderr, "\r{}\x1b[K", line);
    std::fflush(stderr);
    shown = true;
}

void clear_live() {
    if (!shown) return;
    fmt::print(stderr, "\r\x1b[K");
    std::fflush(stderr);
    shown = false;
}

}  // namespace infomax::console
