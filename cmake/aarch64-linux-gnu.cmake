# Cross-builds attnbench for 64-bit Arm Linux with Debian's cross compiler
# (g++-aarch64-linux-gnu) against the arm64 libraries of a multiarch system
# (dpkg --add-architecture arm64, then the :arm64 packages of GoogleTest, Google Benchmark,
# xsimd and OpenBLAS). The binaries run on an Arm machine, or here under qemu-aarch64-static.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Headers and packages from the system's multiarch folders, programs from the build machine.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_ROOT_PATH / /usr/aarch64-linux-gnu)
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig)
# Tests run through the emulator (ctest, gtest_discover_tests) with the arm64 C library of the
# multiarch system (-L /): the cross toolchain's own (/usr/aarch64-linux-gnu) is another build of
# glibc, and its dynamic loader with the multiarch libc.so.6 that the arm64 packages bring hangs in
# the first pthread_create.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static;-L;/)
