// The load meter's reading of /proc and the thread count it leads to.
#include <catch2/catch.hpp>

#include "runtime/load.hpp"

using namespace infomax::detail;

TEST_CASE("the machine's busy time and a process's own CPU time are read from /proc text", "[threads]") {
    // user nice system idle iowait irq softirq steal guest guest_nice
    CHECK(machine_busy_ticks("cpu  100 2 30 5000 7 1 4 9 0 0\ncpu0 50 1 15 2500 3 0 2 4 0 0\n") == 146u);
    CHECK_FALSE(machine_busy_ticks("intr 5 6 7\n").has_value());
    CHECK_FALSE(machine_busy_ticks("cpu  1 2 3\n").has_value());
    // A command name with spaces and a ')' does not shift the fields: utime 17, stime 4.
    const std::string stat = "4242 (my (odd) cmd) R 1 4242 4242 0 -1 4194304 100 0 0 0 17 4 0 0 20 0 3 0 500 0 0";
    CHECK(process_ticks(stat) == 21u);
    CHECK_FALSE(process_ticks("4242 (cut) R 1 2").has_value());
}

TEST_CASE("one thread per core that other processes leave free, at least one", "[threads]") {
    CHECK(threads_beside(0.0, 2) == 2);
    CHECK(threads_beside(0.25, 2) == 2);  // a daemon's blip takes no core
    CHECK(threads_beside(0.5, 2) == 1);   // a busy process squeezed by our own threads still shows half a core
    CHECK(threads_beside(1.0, 2) == 1);
    CHECK(threads_beside(3.0, 2) == 1);
    CHECK(threads_beside(2.6, 16) == 13);
    CHECK(threads_beside(-1.0, 4) == 4);
    CHECK(threads_beside(0.0, 1) == 1);
}
