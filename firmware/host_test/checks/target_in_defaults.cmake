# Finding 13: idf.py guesses the target from sdkconfig (absent in a clean checkout) and
# sdkconfig.defaults only (tools/cmake/targets.cmake, __target_guess, v5.4.2), so a plain
# `idf.py build` builds for the ESP32-S3 only when sdkconfig.defaults names it.
#   cmake -DDEFAULTS=sdkconfig.defaults -P target_in_defaults.cmake
file(STRINGS "${DEFAULTS}" target REGEX "^CONFIG_IDF_TARGET=")
if(NOT target STREQUAL "CONFIG_IDF_TARGET=\"esp32s3\"")
    message(FATAL_ERROR "${DEFAULTS}: no CONFIG_IDF_TARGET=\"esp32s3\" line (found: '${target}'): "
                        "a plain idf.py build would build for the ESP32")
endif()
message(STATUS "${DEFAULTS}: ${target}")
