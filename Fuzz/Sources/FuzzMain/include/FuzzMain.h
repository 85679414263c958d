/* Entry points for the fuzz executables; nothing to import from Swift. */
#ifndef FUZZ_MAIN_H
#define FUZZ_MAIN_H
int fuzz_main_linked(void);
#endif
