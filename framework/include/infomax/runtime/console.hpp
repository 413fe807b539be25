// What a command says while it works. Results (a resolved spec, a table's
// path, a verdict) go to stdout through the CLI; everything said on the way
// (progress, notices, warnings) goes to stderr through here, so
// `infomax show SPEC > resolved.yaml` and pipes get the result alone.
//   quiet:   warnings only (--quiet)
//   normal:  progress and notices (the default)
//   verbose: also the details of how settings were resolved (--verbose)
#pragma once

#include <string>

namespace infomax::console {

enum class Level { quiet = 0, normal = 1, verbose = 2 };

void set_level(Level level);
Level level();

// A progress line or a notice (normal and verbose).
void info(const std::string& line);
// How something was decided: threads, plugins, files read (verbose only).
void detail(const std::string& line);
// Something the user should act on (every level).
void warn(const std::string& line);

// A live line that rewrites itself on a terminal: true when stderr is one,
// the level is normal or verbose, and live lines are not turned off
// (--no-progress).
bool live();
void set_live(bool on);
void live_line(const std::string& line);  // "\r<line>" and erase the rest
void clear_live();                         // erase a live line before a plain one

}  // namespace infomax::console
