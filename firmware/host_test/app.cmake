# The ESP-IDF-specific firmware (main/*.c, unmodified) against idf_stubs + fake, and the
# RX/TX scenarios under injected load (see tests/host_app.c).
set(FW_MAIN ${FW}/main)
add_library(fake_idf STATIC fake/fake_sched.c fake/fake_serial.c fake/fake_nvs.c fake/fake_radio.c
                            fake/fake_misc.c)
target_include_directories(fake_idf PUBLIC idf_stubs fake)
target_link_libraries(fake_idf PUBLIC csi_core pthread m)
set_target_properties(fake_idf PROPERTIES C_EXTENSIONS ON)

add_executable(host_app tests/host_app.c
    ${FW_MAIN}/app_main.c ${FW_MAIN}/app_settings.c ${FW_MAIN}/serial_out.c ${FW_MAIN}/wifi_link.c
    ${FW_MAIN}/role_tx.c ${FW_MAIN}/role_rx.c)
target_include_directories(host_app PRIVATE ${FW_MAIN} tests)
target_link_libraries(host_app fake_idf)
set_target_properties(host_app PROPERTIES C_EXTENSIONS ON) # ESP-IDF builds with gnu17

function(host_app_test name)
    add_test(NAME ${name} COMMAND host_app ${ARGN})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT "${ASAN_ENV}")
endfunction()

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
host_app_test(tx_1khz_wedge_recovery --role tx --rate 1000 --seconds 5 --wedge-after 1550 --ack-fail-every 100)
host_app_test(tx_100hz_clean --role tx --rate 100 --seconds 3)
host_app_test(tx_rx_away_no_recovery --role tx --rate 100 --seconds 3 --ack-fail-every 1)
# Bad settings in NVS: the board streams nothing and repeats a LOG frame naming the key.
host_app_test(config_bad_rate_reported --nvs-csv ${CMAKE_CURRENT_SOURCE_DIR}/data/bad_rate.csv --seconds 5
              --expect-log "rate_hz must be 1..1000 (got 5000)")
host_app_test(config_missing_peer_reported --nvs-csv ${CMAKE_CURRENT_SOURCE_DIR}/data/no_peer.csv --seconds 3
              --expect-log "peer_mac is not set")
host_app_test(config_wrong_nvs_type_reported --nvs-csv ${CMAKE_CURRENT_SOURCE_DIR}/data/wrong_type.csv --seconds 3
              --expect-log "rate_hz: stored with NVS type 0x01, the firmware reads u16")
