# Installs the pool as a package: headers under include/poolsim/pool/, libpoolsim.a, the CMake
# package (poolsim::pool) and poolsim.pc; `cpack -G DEB` makes libpoolsim-dev from the same rules.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(poolsim_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/poolsim)
target_include_directories(poolsim_pool PUBLIC
  $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}/poolsim>)
install(TARGETS poolsim_pool EXPORT poolsimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT pool)
install(FILES accounting.h assertion.h config.h header.h message_pool.h
              ${PROJECT_BINARY_DIR}/generated/pool/version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/poolsim/pool COMPONENT pool)
install(EXPORT poolsimTargets NAMESPACE poolsim:: DESTINATION ${poolsim_cmake_dir}
        COMPONENT pool)

configure_package_config_file(poolsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/poolsimConfig.cmake INSTALL_DESTINATION ${poolsim_cmake_dir})
# 0.x: a minor version may break its API, so only the same minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/poolsimConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/poolsimConfig.cmake
              ${PROJECT_BINARY_DIR}/poolsimConfigVersion.cmake
        DESTINATION ${poolsim_cmake_dir} COMPONENT pool)

# The .pc file's paths relative to its own directory (a multiarch libdir is two levels deep).
file(RELATIVE_PATH poolsim_pc_to_prefix "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig"
     "${CMAKE_INSTALL_PREFIX}")
file(RELATIVE_PATH poolsim_pc_includedir "${CMAKE_INSTALL_PREFIX}" "${CMAKE_INSTALL_FULL_INCLUDEDIR}")
# The same compile definitions as the exported target's (one value per build: no ODR split).
set(poolsim_verify_enabled 0)
set(poolsim_accounting_enabled 0)
if(POOLSIM_VERIFY)
  set(poolsim_verify_enabled 1)
endif()
if(POOLSIM_ACCOUNTING)
  set(poolsim_accounting_enabled 1)
endif()
configure_file(poolsim.pc.in ${PROJECT_BINARY_DIR}/poolsim.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/poolsim.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        COMPONENT pool)

# The Debian package: only the pool's component, installed under /usr.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME libpoolsim-dev)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "poolsim maintainers <poolsim@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "TigerBeetle-style message pool with its formula and per-holder accounting (static, C++20)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libxxhash-dev")
include(CPack)
