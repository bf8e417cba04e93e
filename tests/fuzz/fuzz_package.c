/* libFuzzer target for `make fuzz` (tests/fuzz/run.sh): arbitrary bytes as a .flowpkg through
 * pkg_read and pkg_check_manifest, install's and --list's verification (libarchive's tar and gzip
 * readers, the entry and path rules, the manifest against the files and their SHA-256, and against
 * what the .flow file says), then, for a package that reads,
 * the text listing of its manifest. Nothing may crash, hang, leak or read out of bounds, and a
 * package that verifies holds only safe paths. Seeds: tests/fuzz/seeds/package/ (good packages,
 * gzip'd and plain, and hostile ones). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static FILE *devnull;
    if (!devnull) devnull = fopen("/dev/null", "w");
    Pkg p;
    char why[1024];
    if (pkg_read(data, size, &p, why, sizeof why) == 0) {
        for (int i = 0; i < p.nfiles; i++) {
            char w2[512];
            if (pkg_path_ok(p.files[i].path, w2, sizeof w2) != 0 || !p.files[i].role) abort();   /* verified means safe */
        }
        if (!pkg_find(&p, p.flow_file)) abort();
        char w3[1024] = "";
        if (pkg_check_manifest(&p, w3, sizeof w3) != 0 && !w3[0]) abort();   /* the manifest against the .flow file */
        pkg_print_manifest(&p, 0, devnull);
        pkg_print_manifest(&p, 1, devnull);
        pkg_free(&p);
    } else if (!why[0]) abort();   /* a refusal always says why */
    return 0;
}
