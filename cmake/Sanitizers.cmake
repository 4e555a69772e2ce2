# EXO_SANITIZE: "address" (ASan with UBSan), "undefined" (UBSan alone: the fuzz preset's long
# campaigns, several times faster than under ASan) or "thread" (TSan); EXO_FUZZ adds libFuzzer targets.
# Both want clang (libFuzzer is clang's); CMakePresets.json names the combinations CI runs.
set(EXO_SANITIZE "" CACHE STRING
    "Sanitizers to build with: address (ASan+UBSan), undefined (UBSan) or thread (TSan)")
option(EXO_FUZZ "Build the libFuzzer targets (clang)" OFF)

if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 19)
  # libstdc++ 12 hides std::expected unless __cpp_concepts reports C++20's final concepts, which
  # clang implements (P0848 included) from 16 but only announces from 19.
  if(CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
    message(FATAL_ERROR "clang ${CMAKE_CXX_COMPILER_VERSION} lacks P0848 that std::expected "
                        "needs; use clang-16 (apt-get install clang-16)")
  endif()
  add_compile_options(-U__cpp_concepts -D__cpp_concepts=202002L -Wno-builtin-macro-redefined)
endif()

if(EXO_SANITIZE STREQUAL "address")
  set(_exo_san -fsanitize=address,undefined -fno-sanitize-recover=undefined
               -fno-omit-frame-pointer)
elseif(EXO_SANITIZE STREQUAL "undefined")
  set(_exo_san -fsanitize=undefined -fno-sanitize-recover=undefined)
elseif(EXO_SANITIZE STREQUAL "thread")
  set(_exo_san -fsanitize=thread -fno-omit-frame-pointer)
elseif(NOT EXO_SANITIZE STREQUAL "")
  message(FATAL_ERROR "EXO_SANITIZE must be address, undefined or thread, not ${EXO_SANITIZE}")
endif()
if(_exo_san)
  add_compile_options(${_exo_san})
  add_link_options(${_exo_san})
endif()
if(EXO_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "EXO_FUZZ needs clang (libFuzzer): configure with the asan preset")
  endif()
  # Coverage feedback for everything the fuzz targets reach; only they link the fuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
