# One INTERFACE target carries the project's warning flags; -Werror comes from the presets.
# (-Wnull-dereference is left out: at -O3 it fires inside Boost.Asio's inlined scheduler.)
add_library(convoy_warnings INTERFACE)
add_library(convoy::warnings ALIAS convoy_warnings)
target_compile_options(convoy_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wnon-virtual-dtor -Wold-style-cast -Woverloaded-virtual)
