# The ESP-IDF-specific firmware (main/*.c, unmodified) against idf_stubs + fake, and the
# RX/TX scenarios under injected load (see tests/host_app.c), then one test per finding of the
# firmware audit (issue 10: docs/firmware.md lists them).
set(FW_MAIN ${FW}/main)
include(${CMAKE_CURRENT_SOURCE_DIR}/checks/host_sdkconfig.cmake)
csi_edge_host_sdkconfig(${FW_MAIN}/Kconfig.projbuild ${CMAKE_CURRENT_BINARY_DIR}/generated/sdkconfig.h)
add_library(fake_idf STATIC fake/fake_sched.c fake/fake_serial.c fake/fake_nvs.c fake/fake_radio.c
                            fake/fake_misc.c)
target_include_directories(fake_idf PUBLIC ${CMAKE_CURRENT_BINARY_DIR}/generated idf_stubs fake)
target_link_libraries(fake_idf PUBLIC csi_core pthread m)
set_target_properties(fake_idf PROPERTIES C_EXTENSIONS ON)

file(GLOB FW_MAIN_SOURCES CONFIGURE_DEPENDS ${FW_MAIN}/*.c)
add_executable(host_app tests/host_app.c ${FW_MAIN_SOURCES})
target_include_directories(host_app PRIVATE ${FW_MAIN} tests)
target_link_libraries(host_app fake_idf)
set_target_properties(host_app PROPERTIES C_EXTENSIONS ON) # ESP-IDF builds with gnu17

function(host_app_test name)
    add_test(NAME ${name} COMMAND host_app ${ARGN})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ASAN_ENV}")
endfunction()

# ---- load and accounting ----
# Under the writer's capacity: no loss.
host_app_test(rx_usb_1khz_no_loss --rate 1000 --seconds 10 --transport usb --expect-no-drops)
host_app_test(rx_usb_1khz_612B_no_loss --rate 1000 --seconds 5 --transport usb --csi-len 612 --ltf-mask 7
              --expect-no-drops)
host_app_test(rx_uart_2mbaud_1khz_no_loss --rate 1000 --seconds 5 --transport uart --baud 2000000 --expect-no-drops)
host_app_test(rx_uart_921600_500hz_no_loss --rate 500 --seconds 10 --transport uart --baud 921600
              --expect-no-drops)
# Above it: drops, every one counted.
host_app_test(rx_uart_921600_1khz_counted_drops --rate 1000 --seconds 10 --transport uart --baud 921600
              --hello-at-ms 3000 --expect-drops)
host_app_test(rx_usb_host_stalled_counted --rate 1000 --seconds 6 --transport usb --stall-from-ms 2000
              --stall-to-ms 3000 --expect-drops)
host_app_test(rx_filters_gaps_gainlock --rate 200 --seconds 5 --foreign-every 10 --lose-every 25 --gain-lock
              --hello-at-ms 1500)
host_app_test(rx_gain_lock_skipped_low_agc --rate 100 --seconds 3 --gain-lock --agc 18)
host_app_test(rx_esp_csi_text_100hz_384_uart --rate 100 --seconds 5 --transport uart --baud 921600
              --format esp-csi --csi-len 384 --ltf-mask 7 --expect-drops)
host_app_test(rx_esp_csi_text_100hz_usb --rate 100 --seconds 5 --transport usb --format esp-csi --csi-len 384
              --ltf-mask 7 --expect-no-drops)
host_app_test(tx_100hz_clean --role tx --rate 100 --seconds 3 --expect-broadcast)
# Bad settings in NVS: the board streams nothing, repeats a LOG frame naming the key, and its
# HELLO says "settings refused" (status 1).
host_app_test(config_bad_rate_reported --nvs-csv ${CMAKE_CURRENT_SOURCE_DIR}/data/bad_rate.csv --seconds 5
              --expect-log "rate_hz must be 1..1000 (got 5000)" --expect-status 1)
host_app_test(config_missing_peer_reported --nvs-csv ${CMAKE_CURRENT_SOURCE_DIR}/data/no_peer.csv --seconds 3
              --expect-log "peer_mac is not set" --expect-status 1)
host_app_test(config_wrong_nvs_type_reported --nvs-csv ${CMAKE_CURRENT_SOURCE_DIR}/data/wrong_type.csv --seconds 3
              --expect-log "rate_hz: stored with NVS type 0x01, the firmware reads u16" --expect-status 1)

# ---- one test per finding of the audit (each fails on the firmware before the fix) ----
# 1: the component manifest asks for a published esp_csi_gain_ctrl version.
add_test(NAME finding01_component_version_resolves
         COMMAND ${CMAKE_COMMAND} -DMANIFEST=${FW}/main/idf_component.yml
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/checks/component_manifest.cmake)
# 2: the radio delivers CSI only in promiscuous mode: every peer packet must reach the stream.
host_app_test(finding02_rx_promiscuous_receives_csi --rate 100 --seconds 3 --expect-no-drops)
# 3: channel 13 works under a country that allows it, and is refused (settings) under "01".
host_app_test(finding03_channel13_country_de --rate 100 --seconds 3 --nvs channel=u8:13 --nvs country=string:DE
              --expect-country DE --expect-no-drops)
host_app_test(finding03_channel13_world_mode_refused --rate 100 --seconds 3 --nvs channel=u8:13
              --expect-log "channel 13 is not allowed in country 01 (channels 1..11)" --expect-status 1)
host_app_test(finding03_ht40_above_ch9_refused --rate 100 --seconds 3 --nvs channel=u8:9 --nvs secondary=u8:1
              --nvs bandwidth=u8:1 --expect-log "secondary above needs channel 1..7 in country 01" --expect-status 1)
# 4: 11b (DSSS) rates carry no LTF: refused on both roles with one line.
host_app_test(finding04_11b_rate_refused_tx --role tx --seconds 3 --nvs phy_rate=u8:3
              --expect-log "phy_rate 3 is an 802.11b (DSSS) rate" --expect-status 1)
host_app_test(finding04_11b_rate_refused_rx --seconds 3 --nvs phy_rate=u8:0
              --expect-log "phy_rate 0 is an 802.11b (DSSS) rate" --expect-status 1)
# 5: the TX sets its rate with the API documented for the ESP32-S3; a failure is retried.
host_app_test(finding05_tx_rate_documented_api --role tx --rate 100 --seconds 3 --nvs phy_rate=u8:27
              --expect-rate-code 27)
host_app_test(finding05_tx_rate_failure_retried --role tx --rate 100 --seconds 6
              --fail esp_wifi_config_espnow_rate:2 --expect-log "esp_wifi_config_espnow_rate 16: ESP_ERR_INVALID_ARG"
              --expect-status 0)
# 6: broadcast, paced on the send callback: an absent RX costs nothing; retried CSI is dropped.
host_app_test(finding06_tx_rx_absent_no_pileup --role tx --rate 1000 --seconds 5 --peer-absent --expect-broadcast)
host_app_test(finding06_rx_drops_mac_retries --rate 500 --seconds 4 --duplicate-every 3 --expect-no-drops)
# 7: ESP-NOW recovery runs in the service task, never on the esp_timer task.
host_app_test(finding07_tx_recovery_in_task --role tx --rate 1000 --seconds 5 --wedge-after 1550 --expect-recovery)
host_app_test(finding07_tx_silent_wedge_recovered --role tx --rate 200 --seconds 5 --wedge-after 300 --wedge-silent
              --expect-recovery)
# 8: manual CSI scaling (shift 4), and the choice travels in HELLO.
host_app_test(finding08_manual_csi_scale_in_hello --rate 100 --seconds 3 --expect-scale 1 --expect-shift 4)
host_app_test(finding08_auto_scale_when_flashed --rate 100 --seconds 3 --nvs csi_scale=u8:0 --nvs csi_shift=u8:0
              --expect-scale 0 --expect-shift 0)
# 9: a USB host that does not read costs the writer one short timeout, not 100 ms per frame;
#    with no USB host at all nothing blocks.
host_app_test(finding09_usb_not_read_fails_fast --rate 1000 --seconds 6 --stall-from-ms 1000 --stall-to-ms 4000
              --max-failed-block-ms 100 --expect-drops)
host_app_test(finding09_usb_unplugged_never_blocks --rate 1000 --seconds 6 --unplug-from-ms 1000
              --unplug-to-ms 4000 --max-failed-block-ms 0 --expect-drops)
# 10: the UART transport is UART1: the console (ROM banner, logs) never enters the data stream.
host_app_test(finding10_uart_data_off_the_console --rate 100 --seconds 3 --transport uart --baud 921600
              --expect-no-drops)
# 11: a failing ESP-IDF call is reported (LOG + HELLO) and retried, not an abort loop.
host_app_test(finding11_rx_start_failure_reported_and_retried --rate 100 --seconds 8
              --fail esp_wifi_set_channel:2 --hello-at-ms 500
              --expect-log "esp_wifi_set_channel 11/2: ESP_ERR_INVALID_ARG"
              --expect-hello-error "esp_wifi_set_channel 11/2: ESP_ERR_INVALID_ARG" --expect-status 0)
host_app_test(finding11_serial_install_failure_retried --rate 100 --seconds 6 --fail usb_serial_jtag_driver_install:1
              --expect-status 0)
# 12: the largest RX queue Kconfig allows fits the .bss budget.
add_executable(queue_budget tests/queue_budget.c)
target_link_libraries(queue_budget csi_core)
add_test(NAME finding12_queue_fits_bss_budget COMMAND queue_budget ${FW}/main/Kconfig.projbuild)
# 13: a plain idf.py build builds for the ESP32-S3.
add_test(NAME finding13_target_in_sdkconfig_defaults
         COMMAND ${CMAKE_COMMAND} -DDEFAULTS=${FW}/sdkconfig.defaults
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/checks/target_in_defaults.cmake)
# 14: the firmware's defaults (Kconfig's; the host sdkconfig.h is generated from it) are the
#     reference setup (HT40, secondary below, channel 11) the shipped model and the simulator use.
host_app_test(finding14_defaults_are_the_reference_setup --rate 100 --seconds 3 --nvs-minimal
              --expect-link 11/2/1 --expect-country 01 --expect-scale 1 --expect-shift 4)
