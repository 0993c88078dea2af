# Sanitizer and fuzzing builds (docs/reliability.md). Included before any target is defined.
#   -DROLLCALL_SANITIZE=ON  every target with AddressSanitizer (+LeakSanitizer) and
#                           UndefinedBehaviorSanitizer; any report aborts the process.
#   -DROLLCALL_FUZZ=ON      also the libFuzzer targets of fuzz/ (clang only); implies SANITIZE
#                           and builds every library with fuzzer coverage instrumentation.
option(ROLLCALL_SANITIZE "Build with ASan, LSan and UBSan" OFF)
option(ROLLCALL_FUZZ "Build the libFuzzer targets (clang)" OFF)

if(ROLLCALL_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "ROLLCALL_FUZZ needs clang: -DCMAKE_CXX_COMPILER=clang++")
  endif()
  set(ROLLCALL_SANITIZE ON)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

if(ROLLCALL_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer -gline-tables-only)
  add_link_options(-fsanitize=address,undefined)
endif()
