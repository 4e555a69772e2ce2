# All third-party code comes from Debian packages (scripts/install-deps.sh); nothing is vendored.
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(PkgConfig REQUIRED)
# Debian ships cpp-httplib as a shared library built with OpenSSL, zlib and brotli, described by
# pkg-config only; its Cflags carry CPPHTTPLIB_OPENSSL_SUPPORT so the SSL classes are declared.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
add_library(exo_httplib INTERFACE)
target_link_libraries(exo_httplib INTERFACE PkgConfig::HTTPLIB OpenSSL::SSL OpenSSL::Crypto
                                            Threads::Threads)
if(EXO_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(EXO_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()
