#ifndef MXCHECK_FUZZ_DRIVER_H
#define MXCHECK_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>
// libFuzzer's entry for programs that own main(): SwiftPM names each executable's entry point
// <Target>_main, which the fuzz targets define and hand to libFuzzer.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
