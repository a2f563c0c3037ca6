#ifndef TTFA_BUILD_STAMP_H
#define TTFA_BUILD_STAMP_H

/// The commit and build date stamped into this binary by scripts/stamp-build.py ("COMMIT DATE"),
/// or an empty string for a binary nobody stamped (a plain `swift build`).
const char *ttfa_build_stamp(void);

#endif
