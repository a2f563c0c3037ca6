#include "build_stamp.h"

// A writable, exported array: the compiler cannot assume what it holds, so the bytes that
// scripts/stamp-build.py writes after the marker (make install, make dist) are what runs read.
// The marker appears nowhere else in the binary; 128 bytes in all, zero after the marker.
char ttfa_build_stamp_area[128] = "@(#)ttfa-build-stamp:";

const char *ttfa_build_stamp(void) {
    return ttfa_build_stamp_area + sizeof("@(#)ttfa-build-stamp:") - 1;
}
