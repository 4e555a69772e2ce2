# `cmake --install`: the client library (exo::client, with the generic exo::common it builds on),
# its headers, the exo-mailbox CLI, a CMake package (find_package(exo)) and a pkg-config file
# (exo-client). The mocks are tools of this repository and are not installed.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set_target_properties(exo_common PROPERTIES EXPORT_NAME common)
set_target_properties(exo_client PROPERTIES EXPORT_NAME client)
# cpp-httplib is a private dependency, but a static exo::client still needs it at link time.
set_target_properties(exo_httplib PROPERTIES EXPORT_NAME detail_httplib)

install(TARGETS exo_common exo_client exo_httplib EXPORT exoTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS exo-mailbox RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY common/include/exo client/include/exo
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")

set(EXO_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/exo)
install(EXPORT exoTargets NAMESPACE exo:: DESTINATION ${EXO_CMAKE_DIR})
configure_package_config_file(cmake/exoConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/exoConfig.cmake INSTALL_DESTINATION ${EXO_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/exoConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/exoConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/exoConfigVersion.cmake
  DESTINATION ${EXO_CMAKE_DIR})

# Relocatable: the prefix is found from the .pc file's own place, so `cmake --install --prefix`
# anywhere gives a working file.
file(RELATIVE_PATH EXO_PC_UP /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
set(EXO_PC_PREFIX "\${pcfiledir}/${EXO_PC_UP}")
configure_file(cmake/exo-client.pc.in ${CMAKE_CURRENT_BINARY_DIR}/exo-client.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/exo-client.pc
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
