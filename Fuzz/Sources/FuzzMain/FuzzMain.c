/*
 * SwiftPM links every executable target with `--defsym main=<Target>_main` (its entry point is
 * renamed so that tests can import executables). libFuzzer brings its own `main`, which the
 * defsym then shadows; so each target's renamed entry point is defined here and simply hands over
 * to libFuzzer's driver, exactly what libFuzzer's own main does. Every executable links all of
 * these; each uses only its own.
 */
#include <stddef.h>
#include <stdint.h>
#include "FuzzMain.h"

typedef int (*fuzz_callback)(const uint8_t *data, size_t size);
extern int LLVMFuzzerRunDriver(int *argc, char ***argv, fuzz_callback callback);
extern int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ENTRY(name) \
    int name##_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }

FUZZ_ENTRY(FuzzRange)
FUZZ_ENTRY(FuzzContentRange)
FUZZ_ENTRY(FuzzConditional)
FUZZ_ENTRY(FuzzHTTPDate)
FUZZ_ENTRY(FuzzPatchBody)
FUZZ_ENTRY(FuzzQuery)
FUZZ_ENTRY(FuzzRequestTarget)
FUZZ_ENTRY(FuzzJSONText)
FUZZ_ENTRY(FuzzSignedLink)
FUZZ_ENTRY(FuzzGlob)
FUZZ_ENTRY(FuzzAccept)
FUZZ_ENTRY(FuzzViewQuery)
FUZZ_ENTRY(FuzzRequestLine)
FUZZ_ENTRY(FuzzMessageFraming)

int fuzz_main_linked(void) { return 1; }
