// A shared library that is not an infomax plugin.
extern "C" int just_a_function() { return 42; }
